"""What a call prints and logs reaches its client as Convex sends it (`logLines` in
QueryUpdated, QueryFailed, MutationResponse, ActionResponse and the HTTP API's bodies), and
the deployment's call log records each call (http actions and scheduled jobs too)."""

import asyncio
import json
import logging
import sys
import time

import pytest
import websockets

import effects
from confect import (
    App,
    Backend,
    DatabaseReader,
    DatabaseWriter,
    HttpRequest,
    HttpResponse,
    HttpRouter,
    Scheduler,
    action,
    define_schema,
    define_table,
    http_action,
    mutation,
    query,
    v,
)
from confect.runtime.call_log import CallRecord
from confect.runtime.logs import LogLevel, LogLine
from confect.runtime.user_code import INLINE_SECONDS
from confect.server.asgi import Server
from tests.raw_http import post, raw_request
from tests.servers import served

SCHEMA = define_schema(items=define_table({"name": v.string()}))
app_log = logging.getLogger("tests.log_lines_app")


@query()
def counted():
    db = yield from DatabaseReader
    found = yield from db.table("items").collect()
    print(f"{len(found)} items")
    return len(found)


@mutation(args={"name": v.string()})
def add(name: str):
    app_log.warning("adding %s", name)
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"name": name})


@query()
def broken():
    print("about to fail")
    raise ValueError("no such thing")


@action()
def chatty():
    print("on a worker thread")
    sys.stderr.write("to stderr\n")
    return effects.succeed(None)


@query()
def flood():
    for i in range(300):
        print(i)
    return effects.succeed(None)


@query()
def debugging():
    """`print` with several values, and DEBUG logs though the process logs INFO and up."""
    print("a", "b", 1)
    yield from effects.log_debug("from effects")
    logging.getLogger("tests.log_lines_debug").debug("from logging")
    return None


@query()
def slow_start():
    """Holds the event loop past INLINE_SECONDS: stopped there and run again on a thread."""
    print("starting")
    until = time.monotonic() + 2 * INLINE_SECONDS
    while time.monotonic() < until:
        pass
    return effects.succeed("done")


@mutation()
def later():
    scheduler = yield from Scheduler
    yield from scheduler.run_after(0, add, {"name": "scheduled"})


@http_action()
def hello(request: HttpRequest):
    print(f"hello from {request.path}")
    return effects.succeed(HttpResponse(200, b"hi"))


ROUTER = HttpRouter()
ROUTER.route(path="/hello", method="GET", handler=hello)


def app() -> App:
    functions = {
        "log:counted": counted,
        "log:add": add,
        "log:broken": broken,
        "log:chatty": chatty,
        "log:flood": flood,
        "log:later": later,
        "log:slow_start": slow_start,
        "log:debugging": debugging,
        "log:hello": hello,
    }
    return App(functions, SCHEMA, http=ROUTER)


def subscribe(path: str, query_id: int) -> str:
    add_query = {"type": "Add", "queryId": query_id, "udfPath": path, "args": [{}]}
    return json.dumps(
        {"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [add_query]}
    )


async def next_of(socket_: websockets.ClientConnection, kind: str) -> dict:
    """The next message of type `kind` with something in it (transitions that change
    nothing skipped)."""
    while True:
        message = json.loads(await asyncio.wait_for(socket_.recv(), 10))
        if message["type"] == kind and (kind != "Transition" or message["modifications"]):
            return message


async def test_a_subscriber_gets_each_runs_own_lines_and_a_mutation_its_lines():
    server = Server(Backend(app()))
    async with served(server) as address, websockets.connect(f"ws://{address}/api/sync") as ws:
        await ws.send(subscribe("log:counted", 1))
        [first] = (await next_of(ws, "Transition"))["modifications"]
        assert first["logLines"] == ["[LOG] '0 items'"]
        mutation = {
            "type": "Mutation",
            "requestId": 0,
            "udfPath": "log:add",
            "args": [{"name": "x"}],
        }
        await ws.send(json.dumps(mutation))
        response = await next_of(ws, "MutationResponse")
        assert response["logLines"] == ["[WARN] 'adding x'"]
        [rerun] = (await next_of(ws, "Transition"))["modifications"]
        assert (rerun["value"], rerun["logLines"]) == (1, ["[LOG] '1 items'"])


async def test_failed_calls_and_actions_carry_their_lines_on_the_socket():
    server = Server(Backend(app()))
    async with served(server) as address, websockets.connect(f"ws://{address}/api/sync") as ws:
        await ws.send(subscribe("log:broken", 1))
        [failed] = (await next_of(ws, "Transition"))["modifications"]
        assert failed["type"] == "QueryFailed"
        assert failed["logLines"] == ["[LOG] 'about to fail'"]
        await ws.send(
            json.dumps({"type": "Action", "requestId": 0, "udfPath": "log:chatty", "args": [{}]})
        )
        response = await next_of(ws, "ActionResponse")
        assert response["logLines"] == ["[LOG] 'on a worker thread'", "[ERROR] 'to stderr'"]


async def test_the_http_api_answers_with_the_calls_lines_within_convexs_limit():
    server = Server(Backend(app()))
    async with served(server) as address:
        status, body = await post(address, "/api/query", {"path": "log:broken", "args": {}})
        assert (status, body["logLines"]) == (560, ["[LOG] 'about to fail'"])
        status, body = await post(address, "/api/action", {"path": "log:chatty", "args": {}})
        assert body["logLines"] == ["[LOG] 'on a worker thread'", "[ERROR] 'to stderr'"]
        status, body = await post(address, "/api/query", {"path": "log:flood", "args": {}})
        assert len(body["logLines"]) == 256 and body["logLines"][0] == "[LOG] 0"
        assert body["logLines"][-1].startswith("[ERROR] 'Log overflow (maximum 256)")


async def test_a_query_run_again_off_the_event_loop_sends_only_its_last_runs_lines():
    async with served(Server(Backend(app()))) as address:
        status, body = await post(address, "/api/query", {"path": "log:slow_start", "args": {}})
    assert (status, body["value"], body["logLines"]) == (200, "done", ["[LOG] 'starting'"])


async def test_the_call_log_records_each_call_with_its_failure_and_lines():
    backend = Backend(app())
    async with served(Server(backend)) as address:
        await post(address, "/api/query", {"path": "log:broken", "args": {}})
        head = f"GET /http/hello HTTP/1.1\r\nHost: {address}\r\n"
        assert (await raw_request(address, head, b""))[0] == 200
    records = {r.path: r for r in backend.call_log.recent()}
    failed = records["log:broken"]
    assert (failed.kind, failed.success) == ("query", False)
    assert failed.error == "Server Error: Uncaught ValueError: no such thing"
    assert "test_log_lines.py" in failed.where
    assert 'raise ValueError("no such thing")' in failed.where
    assert [line.text for line in failed.log_lines] == ["about to fail"]
    routed = records["GET /hello"]
    assert (routed.kind, routed.origin, routed.success) == ("http_action", "http", True)
    assert [line.text for line in routed.log_lines] == ["hello from /hello"]


def test_scheduled_jobs_are_recorded_with_their_lines():
    backend = Backend(app())
    effects.run_sync(backend.mutation("log:later", {}))
    [pending] = backend.pending_jobs()
    assert effects.run_sync(backend.run_due_jobs()) == 1
    effects.run_sync(backend.jobs.run(pending))  # taken already (as by another process)
    [job] = backend.call_log.recent()
    assert (job.kind, job.path, job.origin, job.success) == (
        "mutation",
        "log:add",
        "scheduled",
        True,
    )
    assert [line.wire() for line in job.log_lines] == ["[WARN] 'adding scheduled'"]


def test_a_call_is_described_with_its_outcome_and_its_lines_under_it():
    line = LogLine(LogLevel.LOG, "hi", 0.0)
    record = CallRecord(
        0.0,
        "query",
        "log:broken",
        0.5,
        False,
        error="Uncaught ValueError: no",
        where="app/fns.py:3 in broken: raise ValueError('no')",
        log_lines=[line],
    )
    head, where, logged = record.describe()
    assert head.endswith(" query log:broken failed 0.5 ms: Uncaught ValueError: no")
    assert where == "    at app/fns.py:3 in broken: raise ValueError('no')"
    assert logged.startswith("  ") and logged.endswith(" [LOG] 'hi'")
    job = CallRecord(0.0, "action", "log:chatty", 2.0, True, "scheduled")
    assert job.describe()[0].endswith(" action (scheduled) log:chatty ok 2.0 ms")


def test_the_call_log_keeps_only_the_most_recent_calls(caplog):
    from confect.runtime.call_log import CallLog

    calls = CallLog(keep=2)
    with caplog.at_level(logging.INFO, logger="confect.calls"):
        for i in range(3):
            calls.add(CallRecord(0.0, "query", f"q:{i}", 0.1, True))
    assert [r.path for r in calls.recent()] == ["q:1", "q:2"]
    assert [r.path for r in calls.recent(1)] == ["q:2"]
    assert [m.split(" ")[2] for m in caplog.messages] == ["q:0", "q:1", "q:2"]


async def test_print_values_and_debug_logs_are_lines_as_convexs_console_makes_them(
    caplog: pytest.LogCaptureFixture,
):
    """Convex's `console.log("a", "b", 1)` is `[LOG] 'a' 'b' 1`; `console.debug` is a
    `[DEBUG]` line whatever the deployment logs: so are `effects.log_debug` and
    `logging.debug` in a handler, with the process's loggers at INFO, and they reach no
    handler of the process."""
    caplog.set_level(logging.INFO)
    server = Server(Backend(app()))
    async with served(server) as address:
        status, body = await post(address, "/api/query", {"path": "log:debugging", "args": {}})
    assert (status, body["logLines"]) == (
        200,
        ["[LOG] 'a' 'b' 1", "[DEBUG] 'from effects'", "[DEBUG] 'from logging'"],
    )
    assert logging.getLogger("tests.log_lines_debug").getEffectiveLevel() == logging.INFO
    assert not [r for r in caplog.records if r.levelno < logging.INFO]
