"""The official clients against a live server: the PyPI client (its own process) and the
npm client (under Node), plus what a misbehaving client must not be able to break."""

import asyncio
import json
import sys

import httpx
import pytest
import websockets

from .conftest import ROOT, Live, run_driver

JS = ROOT / "tests" / "integration" / "js"


def python_client(live: Live, scenario: str, token: str = "") -> list[dict]:
    return run_driver(
        [sys.executable, "-m", "tests.integration.python_client", live.url, scenario, token]
    )


def npm_client(live: Live, scenario: str, token: str = "") -> list[dict]:
    if not (JS / "node_modules" / "convex").exists():
        pytest.fail(
            "the npm peers are not installed: run `npm ci` in tests/integration/js (make test does)"
        )
    return run_driver(["node", str(JS / "drive.mjs"), live.url, scenario, token])


def steps(lines: list[dict]) -> dict:
    return {line["step"]: line["value"] for line in lines}


# --- the PyPI client ------------------------------------------------------------------------------


def test_python_client_queries_mutations_auth_and_pages(live: Live):
    got = steps(python_client(live, "basics", live.token("py-user")))
    assert got["empty"] == []
    assert "NoUserIdentityFoundError" in got["anonymous mutation"]
    assert got["listed"] == [f"py note {i}" for i in reversed(range(5))]
    first, second, third, done = got["pages"]
    assert len(first) == len(second) == 2 and done is True
    assert first + second + third == [f"py note {i}" for i in range(5)]


def test_python_client_pages_through_a_paginated_query(live: Live):
    got = steps(python_client(live, "paginated", live.token("py-pager")))
    texts = [f"paged note {i}" for i in reversed(range(5))]
    assert got["pages"] == [texts[0:2], texts[2:4], texts[4:]]
    assert "paginationOpts" in got["without paginationOpts"]


def test_python_client_subscription_sees_another_clients_mutation(live: Live):
    got = steps(python_client(live, "subscription", live.token("py-user")))
    assert got["subscription"]["after"][0] == "seen by the watcher"
    assert len(got["subscription"]["after"]) == len(got["subscription"]["before"]) + 1


def test_python_client_gets_typed_error_data(live: Live):
    got = steps(python_client(live, "errors", f"{live.token('owner')},{live.token('stranger')}"))
    assert got["convex error"]["_tag"] == "NotAllowed"
    assert got["convex error"]["reason"] == "only the author can edit a note"


def test_python_client_prints_a_querys_log_lines_when_debugging(live: Live):
    got = steps(python_client(live, "logs"))
    assert got["greet"] == {"value": "hi", "printed": ["[LOG] 'hello'"]}


def test_file_upload_and_download(live: Live):
    got = steps(python_client(live, "files"))
    assert got["file"] == {"body": "file body", "type": "text/plain"}


def test_python_client_gets_floats_for_ints_unless_a_validator_says_int64(live: Live):
    got = steps(python_client(live, "values"))
    assert got["count"]["type"] == "float"
    assert got["count int64"]["type"] == "ConvexInt64"  # the client's own int64 type
    assert got["echo int64"] == {"type": "ConvexInt64", "value": "ConvexInt64(5)"}
    assert got["echo int"]["type"] == "float"
    assert "return value.big[0]" in got["too big"]
    assert "outside the range of a Convex float64" in got["too big"]


# --- the npm client -------------------------------------------------------------------------------


def test_npm_http_client(live: Live):
    got = steps(npm_client(live, "http", live.token("npm-user")))
    assert got["query"] == []
    assert "NoUserIdentityFoundError" in got["anonymous mutation"]["message"]
    assert got["authed mutation"] == "string"
    assert "from npm http" in got["listed"]
    assert got["consistent"]["again"] == got["consistent"]["before"] >= 1  # read at one ts


def test_npm_client_logs_a_querys_log_lines_under_its_path(live: Live):
    got = steps(npm_client(live, "logs"))
    assert got["greet"] == "hi"
    assert got["logged"] == ["%c[CONVEX Q(values:greet)] [LOG] color:rgb(0, 145, 255) 'hello'"]


def test_npm_client_gets_numbers_for_ints_unless_a_validator_says_int64(live: Live):
    got = steps(npm_client(live, "values"))
    assert got["count"]["type"] == "number"
    assert got["count int64"]["type"] == "bigint"
    assert got["echo bigint"] == {"type": "bigint", "value": "5"}
    assert got["echo number"] == {"type": "number", "value": "5"}
    assert "return value.big[0]" in got["too big"]["message"]


def test_npm_websocket_client_subscribes_mutates_and_runs_actions(live: Live):
    lines = npm_client(live, "subscribe", live.token("npm-user"))
    got = steps(lines)
    updates = [line["value"] for line in lines if line["step"] == "update"]
    assert ["ws two", "ws one"] in [update[:2] for update in updates]  # pushed after the mutations
    assert got["mutation result"] == "string"
    assert got["edit"] == "allowed"  # the author may edit
    assert got["action"].endswith("words")  # the digest action ran, through the app's services


def test_npm_websocket_client_reassembles_a_transition_sent_in_parts(live: Live):
    got = steps(npm_client(live, "large", live.token("big-user")))
    assert got["lengths"] == [700_000, 700_000]  # 1.4 MB of results: two TransitionChunks


# --- auth -----------------------------------------------------------------------------------------


def test_a_bad_token_is_refused_not_anonymous(live: Live):
    body = {
        "path": "notes:list_by_author",
        "args": {"author": "x"},
        "format": "convex_encoded_json",
    }
    forged = live.token("someone") + "x"
    response = httpx.post(
        f"{live.url}/api/query", json=body, headers={"Authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401 and response.json()["code"] == "Unauthenticated"
    expired = live.token("someone", lifetime=-3600)
    response = httpx.post(
        f"{live.url}/api/query", json=body, headers={"Authorization": f"Bearer {expired}"}
    )
    assert response.status_code == 401 and "expired" in response.json()["message"]


async def test_a_bad_token_on_the_socket_is_an_auth_error(live: Live):
    async with websockets.connect(live.url.replace("http", "ws") + "/api/sync") as socket:
        await socket.send(
            json.dumps(
                {
                    "type": "Authenticate",
                    "tokenType": "User",
                    "value": "not-a-jwt",
                    "baseVersion": 0,
                }
            )
        )
        reply = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert reply["type"] == "AuthError" and reply["baseVersion"] == 0


def test_internal_functions_need_the_admin_key(live: Live):
    body = {"path": "notes:save_digest", "args": {"author": "a", "summary": "s", "count": 1}}
    assert httpx.post(f"{live.url}/api/mutation", json=body).status_code == 404
    admin = {"Authorization": f"Convex {live.admin_key()}"}
    assert (
        httpx.post(f"{live.url}/api/mutation", json=body, headers=admin).json()["status"]
        == "success"
    )


# --- the HTTP API and routes ----------------------------------------------------------------------


def test_http_api_forms_and_errors(live: Live):
    run = httpx.post(f"{live.url}/api/run/notes/digests", json={"args": {"author": "a"}})
    assert run.status_code == 200 and run.json()["status"] == "success"
    assert httpx.post(f"{live.url}/api/query_ts").json()["ts"]
    cases = [
        (b"{not json", 400, "BadJsonBody"),
        (json.dumps({"path": "notes:nope", "args": {}}).encode(), 404, "FunctionNotFound"),
        (
            json.dumps({"path": "notes:list_by_author", "args": {"author": 5}}).encode(),
            400,
            "BadRequest",
        ),
        (
            json.dumps({"path": "notes:list_by_author", "args": {"$bad": 1}}).encode(),
            400,
            "BadRequest",
        ),
        (
            json.dumps({"path": "notes:add", "args": {"text": "x"}}).encode(),
            400,
            "BadRequest",
        ),  # not a query
    ]
    for body, status, code in cases:
        response = httpx.post(f"{live.url}/api/query", content=body)
        assert (response.status_code, response.json()["code"]) == (status, code), body
    assert httpx.get(f"{live.url}/api/storage/not-a-file-id").status_code == 404
    too_big = httpx.post(f"{live.url}/api/query", content=b"{" + b" " * (17 << 20) + b"}")
    assert too_big.status_code == 413


def test_http_routes_with_cors(live: Live):
    counted = httpx.get(
        f"{live.url}/http/count",
        params={"author": "nobody"},
        headers={"Origin": "https://app.example"},
    )
    assert counted.json() == {"author": "nobody", "count": 0}
    assert counted.headers["access-control-allow-origin"] == "*"
    echoed = httpx.post(
        f"{live.url}/http/echo/anything", content=b"ping", headers={"content-type": "text/plain"}
    )
    assert echoed.text == "ping"
    preflight = httpx.options(f"{live.url}/http/echo/x", headers={"Origin": "https://app.example"})
    assert (
        preflight.status_code == 204 and "POST" in preflight.headers["access-control-allow-methods"]
    )
    assert httpx.get(f"{live.url}/http/missing").status_code == 404


# --- robustness -----------------------------------------------------------------------------------


async def test_a_client_that_breaks_the_protocol_is_closed_and_others_carry_on(live: Live):
    async with websockets.connect(live.url.replace("http", "ws") + "/api/1.0.0/sync") as rude:
        await rude.send(json.dumps({"type": "Gibberish"}))
        reply = json.loads(await asyncio.wait_for(rude.recv(), 10))
        assert reply["type"] == "FatalError" and "Gibberish" in reply["error"]
    async with websockets.connect(live.url.replace("http", "ws") + "/api/sync") as rude:
        await rude.send("not json at all")
        assert json.loads(await asyncio.wait_for(rude.recv(), 10))["type"] == "FatalError"
    async with websockets.connect(live.url.replace("http", "ws") + "/api/sync") as vanishing:
        await vanishing.send(
            json.dumps(
                {
                    "type": "Mutation",
                    "requestId": 0,
                    "udfPath": "notes:add",
                    "args": [{"text": "x"}],
                }
            )
        )
    # the server still answers everyone else
    polite = httpx.post(
        f"{live.url}/api/query", json={"path": "notes:digests", "args": {"author": "a"}}
    )
    assert polite.status_code == 200


async def test_a_subscription_and_its_transitions_follow_the_protocol(live: Live):
    async with websockets.connect(live.url.replace("http", "ws") + "/api/sync") as socket:
        await socket.send(
            json.dumps(
                {
                    "type": "Connect",
                    "sessionId": "00000000-0000-0000-0000-000000000000",
                    "connectionCount": 0,
                    "lastCloseReason": None,
                }
            )
        )
        add = {"type": "Add", "queryId": 0, "udfPath": "notes:digests", "args": [{"author": "ws"}]}
        await socket.send(
            json.dumps(
                {
                    "type": "ModifyQuerySet",
                    "baseVersion": 0,
                    "newVersion": 1,
                    "modifications": [add],
                }
            )
        )
        first = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert first["type"] == "Transition" and first["startVersion"]["querySet"] == 0
        assert first["endVersion"]["querySet"] == 1
        assert first["modifications"] == [
            {"type": "QueryUpdated", "queryId": 0, "value": [], "logLines": [], "journal": None}
        ]
        await socket.send(
            json.dumps(
                {
                    "type": "Mutation",
                    "requestId": 0,
                    "udfPath": "notes:add",
                    "args": [{"text": "x"}],
                }
            )
        )
        response = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert response["type"] == "MutationResponse" and response["success"] is False
        assert response["logLines"] == []
        await socket.send(
            json.dumps(
                {
                    "type": "ModifyQuerySet",
                    "baseVersion": 1,
                    "newVersion": 2,
                    "modifications": [{"type": "Remove", "queryId": 0}],
                }
            )
        )
        removed = json.loads(await asyncio.wait_for(socket.recv(), 10))
        while removed["type"] != "Transition" or removed["endVersion"]["querySet"] != 2:
            removed = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert removed["startVersion"]["querySet"] == 1
        assert {"type": "QueryRemoved", "queryId": 0} in removed["modifications"]
