"""The server in this process (uvicorn on this test's loop): time limits, graceful
shutdown, identity changes on the socket, and reloading the app under open connections."""

import asyncio
import base64
import contextlib
import json

import websockets

import effects
from confect import (
    App,
    Backend,
    DatabaseReader,
    DatabaseWriter,
    MutationRunner,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.server.asgi import Server
from confect.server.calls import Limits
from tests.raw_http import post, raw_request
from tests.servers import served

SCHEMA = define_schema(items=define_table({"name": v.string()}))


@query()
def names():
    db = yield from DatabaseReader
    return [d.name for d in (yield from db.table("items").collect())]


@query()
def shouted_names():
    db = yield from DatabaseReader
    return [d.name.upper() for d in (yield from db.table("items").collect())]


@query()
def slow():
    yield from effects.sleep(5)
    return "too late"


@mutation(args={"name": v.string(), "delay": v.number()})
def add(name: str, delay: float):
    yield from effects.sleep(delay)
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"name": name})


@mutation()
def calls_add_badly():
    runner = yield from MutationRunner
    yield from runner.run_mutation(add, {"name": 5, "delay": 0})


def app(listing=names) -> App:
    functions = {
        "items:names": listing,
        "items:slow": slow,
        "items:add": add,
        "items:bad": calls_add_badly,
    }
    return App(functions, SCHEMA)


def subscription(path: str, query_id: int) -> str:
    """A connection's first ModifyQuerySet: subscribe to `path` (no arguments) as `query_id`."""
    add = {"type": "Add", "queryId": query_id, "udfPath": path, "args": [{}]}
    return json.dumps(
        {"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [add]}
    )


async def test_a_function_over_its_time_limit_fails_and_the_server_carries_on():
    server = Server(Backend(app()), limits=Limits(transaction=0.1))
    async with served(server) as address:
        status, body = await post(address, "/api/query", {"path": "items:slow", "args": {}})
        assert status == 560 and "timed out" in body["errorMessage"]
        status, body = await post(address, "/api/query", {"path": "items:names", "args": {}})
        assert (status, body["value"]) == (200, [])


async def test_shutdown_waits_for_mutations_in_flight():
    backend = Backend(app())
    server = Server(backend)
    async with served(server) as address:
        call = asyncio.ensure_future(
            post(
                address,
                "/api/mutation",
                {"path": "items:add", "args": {"name": "late", "delay": 0.3}},
            )
        )
        while not server._in_flight:
            await asyncio.sleep(0)
    # the server has shut down: the mutation it had started was finished and answered
    status, body = await call
    assert (status, body["status"]) == (200, "success")
    assert [
        d["name"] for _, d in backend.engine.scan("items", "by_creation_time", b"", b"\xff", False)
    ] == ["late"]


async def test_reload_swaps_functions_under_an_open_subscription():
    server = Server(Backend(app()))
    async with served(server) as address, websockets.connect(f"ws://{address}/api/sync") as socket_:
        await socket_.send(subscription("items:names", query_id=1))
        assert json.loads(await socket_.recv())["modifications"][0]["value"] == []
        await socket_.send(
            json.dumps(
                {
                    "type": "Mutation",
                    "requestId": 0,
                    "udfPath": "items:add",
                    "args": [{"name": "x", "delay": 0}],
                }
            )
        )
        seen: list[dict] = []
        while not (
            any(m["type"] == "MutationResponse" for m in seen)
            and any(m["type"] == "Transition" and m["modifications"] for m in seen)
        ):
            seen.append(json.loads(await asyncio.wait_for(socket_.recv(), 10)))
        [updated] = [m for m in seen if m["type"] == "Transition" and m["modifications"]]
        assert updated["modifications"][0]["value"] == ["x"]
        await server.reload(app(listing=shouted_names))
        reloaded = {"type": "Transition", "modifications": []}
        while not reloaded["modifications"]:  # skip the empty transition that followed the mutation
            reloaded = json.loads(await asyncio.wait_for(socket_.recv(), 10))
        assert reloaded["type"] == "Transition" and reloaded["modifications"][0]["value"] == ["X"]


async def test_every_subscriber_of_a_shared_query_gets_the_update():
    server = Server(Backend(app()))
    async with served(server) as address:
        sockets = [await websockets.connect(f"ws://{address}/api/sync") for _ in range(20)]
        for connection in sockets:
            await connection.send(subscription("items:names", query_id=0))
        for connection in sockets:
            assert (
                json.loads(await asyncio.wait_for(connection.recv(), 10))["modifications"][0][
                    "value"
                ]
                == []
            )
        status, _ = await post(
            address, "/api/mutation", {"path": "items:add", "args": {"name": "shared", "delay": 0}}
        )
        assert status == 200
        for connection in sockets:
            message = json.loads(await asyncio.wait_for(connection.recv(), 10))
            assert message["modifications"] == [
                {
                    "type": "QueryUpdated",
                    "queryId": 0,
                    "value": ["shared"],
                    "logLines": [],
                    "journal": None,
                }
            ]
            await connection.close()


async def test_a_quiet_connection_is_pinged(monkeypatch):
    from confect.server import sync

    monkeypatch.setattr(sync, "PING_SECONDS", 0.05)
    server = Server(Backend(app()))
    async with served(server) as address, websockets.connect(f"ws://{address}/api/sync") as socket_:
        assert json.loads(await asyncio.wait_for(socket_.recv(), 10)) == {"type": "Ping"}


async def test_bad_arguments_are_the_callers_error_only_for_the_call_itself():
    server = Server(Backend(app()))
    async with served(server) as address:
        status, body = await post(
            address, "/api/mutation", {"path": "items:add", "args": {"name": 5, "delay": 0}}
        )
        assert (status, body["code"]) == (400, "BadRequest")
        assert (
            body["message"] == "ArgumentValidationError: args.name: expected string, got 5.0"
        )  # JSON 5 is a float64
        status, body = await post(address, "/api/mutation", {"path": "items:bad", "args": {}})
        assert status == 560 and "args.name: expected string, got 5" in body["errorMessage"]


async def test_query_at_ts_reads_as_of_the_timestamp_it_is_given():
    server = Server(Backend(app()))
    async with served(server) as address:
        await post(
            address, "/api/mutation", {"path": "items:add", "args": {"name": "a", "delay": 0}}
        )
        _, then = await post(address, "/api/query_ts", {})
        await post(
            address, "/api/mutation", {"path": "items:add", "args": {"name": "b", "delay": 0}}
        )
        names = {"path": "items:names", "args": [{}], "format": "convex_encoded_json"}
        status, body = await post(address, "/api/query_at_ts", {**names, "ts": then["ts"]})
        assert (status, body["value"]) == (200, ["a"])
        status, body = await post(address, "/api/query", names)
        assert (status, sorted(body["value"])) == (200, ["a", "b"])
        status, body = await post(address, "/api/query_at_ts", {**names, "ts": "not a ts"})
        assert status == 400 and "query_ts" in body["message"]


async def test_bodies_without_a_length_are_cut_off_and_half_sent_ones_dropped():
    server = Server(Backend(app()))
    async with served(server) as address:
        reader, writer = await asyncio.open_connection(*address.split(":"))
        writer.write(b"POST /api/query HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * (1 << 20)
        with contextlib.suppress(ConnectionError):  # the server may stop reading at the limit
            for _ in range(17):
                writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        assert head.split()[1] == b"413"
        writer.close()
        _, gone = await asyncio.open_connection(*address.split(":"))
        gone.write(b'POST /api/query HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"pa')
        await gone.drain()
        gone.close()
        status, body = await post(address, "/api/query", {"path": "items:names", "args": {}})
        assert (status, body["value"]) == (200, [])


async def test_the_api_can_be_called_from_a_page_on_any_origin():
    server = Server(Backend(app()))
    async with served(server) as address:
        status, headers, _ = await raw_request(
            address,
            "OPTIONS /api/query HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n"
            "Access-Control-Request-Method: POST\r\n"
            "Access-Control-Request-Headers: content-type, authorization\r\n",
        )
        assert status == 204 and headers["access-control-allow-origin"] == "*"
        assert "post" in headers["access-control-allow-methods"]
        assert {"content-type", "authorization"} <= set(
            headers["access-control-allow-headers"].split(", ")
        )
        call = json.dumps({"path": "items:names", "args": {}}).encode()
        for path, body in (("/api/query", call), ("/api/query_ts", b"")):
            status, headers, _ = await raw_request(
                address, f"POST {path} HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n", body
            )
            assert (status, headers["access-control-allow-origin"]) == (200, "*"), path


async def test_an_authorization_header_that_is_not_text_is_refused_not_a_crash():
    server = Server(Backend(app()))
    async with served(server) as address:
        call = json.dumps({"path": "items:names", "args": {}}).encode()
        head = "POST /api/query HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\n"
        status, _, _ = await raw_request(address, head, call)
        assert status == 401


async def test_an_upload_url_works_once_until_it_expires_and_only_as_issued():
    now = [1_800_000_000.0]
    server = Server(Backend(app(), now=lambda: now[0]))
    files = server.backend.files

    async def upload(token: str) -> int:
        head = f"POST /api/storage/upload?token={token} HTTP/1.1\r\nHost: x\r\n"
        status, _, _ = await raw_request(address, head, b"file body")
        return status

    async with served(server) as address:
        first, second, late = (files.new_upload_token() for _ in range(3))
        assert await upload(first) == 200
        assert await upload(first) == 400  # used already
        expiry, nonce, signature = second.split(".")
        assert await upload(f"{int(expiry) + 1}.{nonce}.{signature}") == 400  # not as issued
        assert await upload("nonsense") == 400
        assert await upload(second) == 200
        now[0] += 3601
        assert await upload(late) == 400  # an hour has passed


async def test_a_long_transition_goes_in_parts_to_the_clients_that_take_them():
    backend = Backend(app())
    effects.run_sync(backend.mutation(add, add.encode_args({"name": "é" * 500 + "ok", "delay": 0})))
    server = Server(backend)
    server.transition_part_chars = 200

    async def first_transition(path: str) -> tuple[list[dict], dict]:
        async with websockets.connect(f"ws://{address}{path}") as socket_:
            await socket_.send(subscription("items:names", query_id=1))
            received = [json.loads(await asyncio.wait_for(socket_.recv(), 10))]
            while received[-1]["type"] == "TransitionChunk" and (
                received[-1]["partNumber"] + 1 < received[-1]["totalParts"]
            ):
                received.append(json.loads(await asyncio.wait_for(socket_.recv(), 10)))
        if received[0]["type"] == "Transition":
            return received, received[0]
        return received, json.loads("".join(part["chunk"] for part in received))

    async with served(server) as address:
        parts, whole = await first_transition("/api/1.48.0/sync")  # the npm client's path
        assert len(parts) > 1 and {p["type"] for p in parts} == {"TransitionChunk"}
        assert [p["partNumber"] for p in parts] == list(range(len(parts)))
        assert {p["totalParts"] for p in parts} == {len(parts)}
        assert all(len(p["chunk"]) <= 200 for p in parts)
        assert whole["type"] == "Transition"
        assert whole["modifications"][0]["value"] == ["é" * 500 + "ok"]
        for path in ("/api/sync", "/api/1.27.0/sync"):  # the Rust client's; an npm before 1.28
            parts, whole = await first_transition(path)
            assert len(parts) == 1 and whole["modifications"][0]["value"] == ["é" * 500 + "ok"]


async def test_a_mutations_response_comes_before_any_transition_that_holds_its_write():
    """As Convex's sync worker: the client must see the MutationResponse (with its ts)
    before a Transition reaching that ts, or it shows its optimistic update beside the
    real result for a render."""
    server = Server(Backend(app()))
    async with (
        served(server) as address,
        websockets.connect(f"ws://{address}/api/sync") as connection,
    ):
        await connection.send(subscription("items:names", query_id=0))
        first = json.loads(await asyncio.wait_for(connection.recv(), 10))
        assert first["modifications"][0]["value"] == []
        mutation = {
            "type": "Mutation",
            "requestId": 0,
            "udfPath": "items:add",
            "args": [{"name": "mine", "delay": 0}],
        }
        await connection.send(json.dumps(mutation))
        response = json.loads(await asyncio.wait_for(connection.recv(), 10))
        assert response["type"] == "MutationResponse" and response["success"]
        transition = json.loads(await asyncio.wait_for(connection.recv(), 10))
        assert transition["type"] == "Transition"
        assert transition["modifications"][0]["value"] == ["mine"]
        assert int.from_bytes(
            base64.b64decode(transition["endVersion"]["ts"]), "little"
        ) >= int.from_bytes(base64.b64decode(response["ts"]), "little")
