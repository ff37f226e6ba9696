"""What clients send, over real sockets: every undecodable argument is a clear refusal of that
call only (HTTP 400, a failed response or QueryFailed on the socket), and a server started
over a stored document it cannot read serves the rest."""

import asyncio
import json
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import websockets
from typer.testing import CliRunner

from confect import (
    App,
    Backend,
    ConvexError,
    DatabaseReader,
    DatabaseWriter,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.cli import cli
from confect.server.asgi import Server
from tests.raw_http import post, raw_request
from tests.servers import NOTES, confect_serve, copy_app, served

SCHEMA = define_schema(items=define_table({"value": v.any()}))


@mutation(args={"value": v.any()})
def keep(value: Any):
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"value": value})


@mutation(args={"key": v.string()})
def echo_key(key: str):
    yield from DatabaseReader
    return {key: 1.0}


@mutation(args={"key": v.string()})
def fails_keyed(key: str):
    yield from DatabaseReader
    yield from ConvexError(data={key: 1.0})


@query(args={"value": v.any()})
def count(value: Any):
    db = yield from DatabaseReader
    return float(len((yield from db.table("items").collect())))


APP = App(
    {
        "items:keep": keep,
        "items:echo_key": echo_key,
        "items:fails_keyed": fails_keyed,
        "items:count": count,
    },
    SCHEMA,
)


def deep(levels: int) -> str:
    return "[" * levels + "1" + "]" * levels


BAD_ARGS: list[tuple[str, str]] = [  # (the `value` argument as JSON text, what the answer says)
    ('{"$integer": "AAAA"}', "args.value has $integer of 3 bytes; it must be exactly 8"),
    ('{"$float": "AAAA"}', "args.value has $float of 3 bytes; it must be exactly 8"),
    ('{"$bytes": "A"}', "args.value has $bytes 'A', which is not base64"),
    ('{"$integer": 5}', "args.value has $integer 5, not a base64 string"),
    ('{"$integer": "BQAAAAAAAAA=", "b": 1}', "args.value has the field name '$integer'"),
    (deep(900), "is nested 65 levels deep, over the limit of 64"),
    ("1" + "0" * 400, "args.value is out of a float64's range"),
    ('"\\ud800"', "args.value is not valid Unicode"),
]


def _call(kind: str, path: str, value_json: str, request_id: int = 0) -> str:
    args = f'[{{"value": {value_json}}}]'
    return f'{{"type": "{kind}", "requestId": {request_id}, "udfPath": "{path}", "args": {args}}}'


async def _until(socket_: Any, wanted: str) -> dict[str, Any]:
    """The next message of type `wanted` (a Transition or Ping may come first)."""
    for _ in range(20):
        message = json.loads(await asyncio.wait_for(socket_.recv(), 10))
        if message["type"] == wanted:
            return message
    raise AssertionError(f"no {wanted} in 20 messages")


async def test_undecodable_arguments_are_a_400_over_http():
    async with served(Server(Backend(APP))) as address:
        head = (
            f"POST /api/mutation HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n"
        )
        for value, message in BAD_ARGS:
            body = f'{{"path": "items:keep", "args": {{"value": {value}}}}}'.encode()
            status, _, answer = await raw_request(address, head, body)
            assert status == 400, (value[:40], answer)
            refusal = json.loads(answer)
            assert refusal["code"] == "BadRequest"
            assert message in refusal["message"], refusal
        status, _, answer = await raw_request(address, head, deep(100_000).encode())
        assert (status, json.loads(answer)["code"]) == (400, "BadJsonBody")
        assert await post(address, "/api/query", {"path": "items:count", "args": {"value": 1}}) == (
            200,
            {"status": "success", "value": 0.0, "logLines": []},
        )


async def test_undecodable_arguments_fail_one_mutation_and_the_socket_carries_on():
    async with (
        served(Server(Backend(APP))) as address,
        websockets.connect(f"ws://{address}/api/sync", max_size=None) as socket_,
    ):
        for request_id, (value, message) in enumerate(BAD_ARGS):
            await socket_.send(_call("Mutation", "items:keep", value, request_id))
            response = await _until(socket_, "MutationResponse")
            assert (response["requestId"], response["success"]) == (request_id, False)
            assert message in response["errorMessage"]
        await socket_.send(_call("Mutation", "items:keep", '"fine"', 100))
        response = await _until(socket_, "MutationResponse")
        assert (response["requestId"], response["success"]) == (100, True)
        await socket_.send(
            '{"type": "Mutation", "requestId": 101, "udfPath": "items:echo_key", '
            '"args": [{"key": "$integer"}]}'
        )
        response = await _until(socket_, "MutationResponse")  # a return value Convex refuses
        assert (response["requestId"], response["success"]) == (101, False)
        assert "return value has the field name '$integer'" in response["errorMessage"]
        await socket_.send(
            '{"type": "Mutation", "requestId": 102, "udfPath": "items:fails_keyed", '
            '"args": [{"key": "$integer"}]}'
        )
        response = await _until(socket_, "MutationResponse")  # error data Convex refuses
        assert (response["requestId"], response["success"]) == (102, False)
        assert "Uncaught ConvexError" in response["errorMessage"] and "errorData" not in response
        await socket_.send(_call("Mutation", "items:keep", '"fine"', 103))
        assert (await _until(socket_, "MutationResponse"))["success"] is True


async def test_undecodable_subscription_arguments_fail_that_query_only():
    async with (
        served(Server(Backend(APP))) as address,
        websockets.connect(f"ws://{address}/api/sync", max_size=None) as socket_,
    ):
        adds = [
            {"type": "Add", "queryId": query_id, "udfPath": "items:count", "args": ["ARGS"]}
            for query_id in range(len(BAD_ARGS) + 1)
        ]
        text = json.dumps(
            {"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": adds}
        )
        for value, _ in BAD_ARGS:
            text = text.replace('"ARGS"', f'{{"value": {value}}}', 1)
        await socket_.send(text.replace('"ARGS"', '{"value": 1}'))
        transition = await _until(socket_, "Transition")
        by_query = {m["queryId"]: m for m in transition["modifications"]}
        for query_id, (_, message) in enumerate(BAD_ARGS):
            assert by_query[query_id]["type"] == "QueryFailed"
            assert message in by_query[query_id]["errorMessage"]
        assert by_query[len(BAD_ARGS)] == {
            "type": "QueryUpdated",
            "queryId": len(BAD_ARGS),
            "value": 0.0,
            "logLines": [],
            "journal": None,
        }
        await socket_.send(_call("Mutation", "items:keep", '"fine"'))
        assert (await _until(socket_, "MutationResponse"))["success"] is True


async def test_a_message_nested_too_deep_to_parse_ends_the_connection_with_a_fatal_error():
    async with (
        served(Server(Backend(APP))) as address,
        websockets.connect(f"ws://{address}/api/sync", max_size=None) as socket_,
    ):
        await socket_.send(_call("Mutation", "items:keep", deep(100_000)))
        assert await _until(socket_, "FatalError") == {
            "type": "FatalError",
            "error": "a message was not JSON",
        }


async def test_arguments_nested_near_the_parsers_limit_fail_as_their_call_only():
    """Around Python's recursion limit a message parses but its arguments are too deep to
    write out again (as the query's cache key): still the call's own error, never a
    connection dropped without a word or a 500."""
    depths = range(900, 1100, 4)  # from parseable to too deep to parse, wherever the limit is
    async with (
        served(Server(Backend(APP))) as address,
        websockets.connect(f"ws://{address}/api/sync", max_size=None) as socket_,
    ):
        head = f"POST /api/query HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n"
        for depth in depths:
            body = f'{{"path": "items:count", "args": {{"value": {deep(depth)}}}}}'.encode()
            status, _, answer = await raw_request(address, head, body)
            assert status == 400, (depth, answer)
        failed = 0
        for version, depth in enumerate(depths):
            add = {"type": "Add", "queryId": version, "udfPath": "items:count", "args": ["ARGS"]}
            change = {
                "type": "ModifyQuerySet",
                "baseVersion": version,
                "newVersion": version + 1,
                "modifications": [add],
            }
            await socket_.send(json.dumps(change).replace('"ARGS"', f'{{"value": {deep(depth)}}}'))
            message = json.loads(await asyncio.wait_for(socket_.recv(), 10))
            if message["type"] == "FatalError":  # too deep to parse: the protocol's answer
                break
            assert message["modifications"][0]["type"] == "QueryFailed", depth
            failed += 1
        assert message == {"type": "FatalError", "error": "a message was not JSON"}
        assert failed > 0


def test_confect_serve_starts_over_a_document_it_cannot_read(tmp_path: Path):
    app = copy_app(NOTES, tmp_path, "notes_copy")
    for author in ("a", "b"):
        args = json.dumps({"author": author, "summary": f"by {author}", "count": 1})
        saved = CliRunner().invoke(cli, ["run", str(app), "notes:save_digest", args])
        assert saved.exit_code == 0, saved.output
    with sqlite3.connect(app / ".confect" / "data.sqlite3") as db:
        [(bad, body)] = db.execute(
            "SELECT id, body FROM documents WHERE tbl = 'digests' AND body LIKE '%\"a\"%'"
        ).fetchall()
        damaged = body.replace('"count":1.0', '"count":{"$integer":"AA"}')
        db.execute("UPDATE documents SET body = ? WHERE id = ?", (damaged, bad))
    with confect_serve(app, env={"COLUMNS": "200"}) as serving:

        def digests(author: str) -> tuple[int, dict[str, Any]]:
            body = json.dumps({"path": "notes:digests", "args": {"author": author}}).encode()
            url = f"{serving.url}/api/query"
            request = urllib.request.Request(
                url, body, headers={"content-type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, json.loads(error.read())

        assert digests("b") == (200, {"status": "success", "value": ["by b"], "logLines": []})
        status, failed = digests("a")
        assert status == 560
        assert (
            f"the stored document {bad} of table 'digests' cannot be read"
            in (failed["errorMessage"])
        )
    output = serving.output
    assert f"digests {bad}" in output, output
    assert serving.process.returncode is not None
