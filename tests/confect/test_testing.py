"""`ConfectTest` as a test of an app uses it: HTTP routes through `fetch`, files in `run`,
and handlers on the test's clock."""

import json

import pytest

import effects
from confect import (
    App,
    DatabaseReader,
    DatabaseWriter,
    HttpRequest,
    HttpResponse,
    HttpRouter,
    QueryRunner,
    Scheduler,
    StorageActionWriter,
    StorageReader,
    define_schema,
    define_table,
    http_action,
    mutation,
    query,
    v,
)
from confect.testing import ConfectTest

SCHEMA = define_schema(events=define_table({"at": v.float64()}))


@mutation()
def record():
    """Records the time the handler reads, and schedules itself a minute on."""
    now = yield from effects.clock.now()
    db = yield from DatabaseWriter
    event = yield from db.table("events").insert({"at": now * 1000})
    scheduler = yield from Scheduler
    yield from scheduler.run_after(60, record_later)
    return event


@mutation()
def record_later():
    now = yield from effects.clock.now()
    db = yield from DatabaseWriter
    yield from db.table("events").insert({"at": now * 1000})


@query()
def events():
    db = yield from DatabaseReader
    found = yield from db.table("events").collect()
    return [{"at": e.at, "created": e._creation_time} for e in found]


@http_action()
def echo(request: HttpRequest):
    body = {
        "method": request.method,
        "path": request.path,
        "query": dict(request.query),
        "type": request.headers.get("content-type"),
        "body": request.text(),
    }
    return effects.succeed(HttpResponse.json(body, status=201))


@http_action()
def count(request: HttpRequest):
    runner = yield from QueryRunner
    found = yield from runner.run_query(events, {})
    return HttpResponse(200, str(len(found)).encode(), {"X-Count": str(len(found))})


@http_action()
def broken(request: HttpRequest):
    return effects.die(RuntimeError("the route broke"))


ROUTER = HttpRouter()
ROUTER.route(path="/echo", method="POST", handler=echo)
ROUTER.route(path_prefix="/files/", method="GET", handler=echo)
ROUTER.route(path="/count", method="GET", handler=count)
ROUTER.route(path="/broken", method="GET", handler=broken)
APP = App(
    {
        "events:record": record,
        "events:record_later": record_later,
        "events:events": events,
        "http:echo": echo,
        "http:count": count,
        "http:broken": broken,
    },
    SCHEMA,
    http=ROUTER,
)


@pytest.fixture
def t() -> ConfectTest:
    return ConfectTest(APP)


def test_fetch_calls_the_route_with_the_request_and_gives_its_response(t: ConfectTest):
    response = t.fetch(
        "/echo?name=ann&x=1",
        method="POST",
        headers={"Content-Type": "application/json"},
        body=json.dumps({"text": "hello"}),
    )
    assert response.status == 201
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "method": "POST",
        "path": "/echo",
        "query": {"name": "ann", "x": "1"},
        "type": "application/json",
        "body": '{"text": "hello"}',
    }
    prefixed = t.fetch("/files/a%20b.txt")
    assert prefixed.json()["path"] == "/files/a b.txt"


def test_fetch_runs_queries_from_the_route_and_answers_404_off_the_routes(t: ConfectTest):
    t.mutation(record)
    response = t.fetch("/count")
    assert (response.status, response.text(), response.headers["x-count"]) == (200, "1", "1")
    missing = t.fetch("/nowhere")
    assert (missing.status, missing.text()) == (404, "No HttpAction routed for /nowhere")
    assert t.fetch("/echo").status == 404  # a GET where only POST is routed


def test_fetch_raises_the_failure_of_a_failing_route_and_needs_a_path(t: ConfectTest):
    with pytest.raises(RuntimeError, match="the route broke"):
        t.fetch("/broken")
    with pytest.raises(ValueError, match="must start with '/'"):
        t.fetch("count")


async def test_afetch_is_fetch_from_async_code(t: ConfectTest):
    assert (await t.afetch("/count")).text() == "0"


def test_run_stores_and_reads_files(t: ConfectTest):
    def store_then_read():
        storage = yield from StorageActionWriter
        file_id = yield from storage.store(b"file bytes", "text/plain")
        reader = yield from StorageReader
        metadata = yield from reader.get_metadata(file_id)
        return file_id, metadata["size"], (yield from storage.get(file_id))

    file_id, size, data = t.run(effects.gen(store_then_read))
    assert (size, data) == (10, b"file bytes")

    def read_again():
        storage = yield from StorageActionWriter
        return (yield from storage.get(file_id))

    assert t.run(effects.gen(read_again)) == b"file bytes"


def test_handlers_read_the_test_clock_which_advance_time_moves(t: ConfectTest):
    start_ms = t.clock.now() * 1000
    t.mutation(record)
    t.advance_time(30)
    t.mutation(record_later)
    assert [e["at"] for e in t.query(events)] == [start_ms, start_ms + 30_000]
    assert all(e["at"] == e["created"] for e in t.query(events))
    [job] = [j for j in t.scheduled_jobs() if j["state"] == {"kind": "pending"}]
    assert job["scheduledTime"] == start_ms + 60_000
    t.finish_scheduled_functions()
    assert [e["at"] for e in t.query(events)][-1] == start_ms + 60_000
