"""Handlers run off the event loop, each within its time limit: a handler that spins,
sleeps or blocks holds up only its own call, and a commit is never cut short."""

import asyncio
import contextlib
import threading

import effects
from confect import (
    App,
    Backend,
    DatabaseReader,
    DatabaseWriter,
    action,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.runtime.user_code import Preempted
from confect.server.asgi import Server
from confect.server.calls import Limits
from tests.raw_http import post
from tests.servers import served

SCHEMA = define_schema(items=define_table({"name": v.string()}))
started = threading.Event()
release = threading.Event()
stopped = threading.Event()
SAFETY = 20.0  # so that a test of code that blocks the loop fails instead of hanging


@query()
def names():
    db = yield from DatabaseReader
    return [d.name for d in (yield from db.table("items").collect())]


@query()
def spins():
    started.set()
    while not release.is_set():  # plain Python: never gives the interpreter a turn
        pass
    return "released"
    yield


@mutation()
def blocks():
    started.set()
    release.wait(SAFETY)  # a blocking call, as time.sleep or a socket read
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"name": "after the block"})


@action()
def blocks_for_long():
    started.set()
    release.wait(SAFETY)
    return "done"
    yield


@mutation()
def loops_forever():
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"name": "never committed"})
    try:
        while True:
            yield from effects.succeed(None)
    finally:
        stopped.set()


@query()
def spins_forever():
    try:
        while True:
            pass
    finally:
        stopped.set()
    yield


@mutation(args={"name": v.string()})
def add(name: str):
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"name": name})


FUNCTIONS = {
    "t:names": names,
    "t:spins": spins,
    "t:blocks": blocks,
    "t:blocks_for_long": blocks_for_long,
    "t:loops_forever": loops_forever,
    "t:spins_forever": spins_forever,
    "t:add": add,
}


def server(limits: Limits | None = None) -> tuple[Server, Backend]:
    for event in (started, release, stopped):
        event.clear()
    backend = Backend(App(FUNCTIONS, SCHEMA), group_commit=True)  # as `confect serve`
    return Server(backend, limits=limits), backend


def stored(backend: Backend) -> list[str]:
    scan = backend.engine.scan("items", "by_creation_time", b"", b"\xff", False)
    return [str(d["name"]) for _, d in scan]


async def call(address: str, kind: str, path: str, args: dict | None = None) -> tuple[int, dict]:
    return await post(address, f"/api/{kind}", {"path": path, "args": args or {}})


async def other_clients_are_served_while(address: str, kind: str, path: str) -> dict:
    """Start a call whose handler holds its thread until released; while it does, another
    client's query and mutation are answered. The held call's answer."""
    safety = threading.Timer(SAFETY, release.set)
    safety.start()
    try:
        held = asyncio.ensure_future(call(address, kind, path))
        await asyncio.to_thread(started.wait, SAFETY)
        assert (await call(address, "mutation", "t:add", {"name": "meanwhile"}))[0] == 200
        status, body = await call(address, "query", "t:names")
        assert (status, body["value"]) == (200, ["meanwhile"])
        assert not held.done() and not release.is_set()  # answered while the other held on
        release.set()
        status, body = await held
        assert status == 200, body
        return body
    finally:
        safety.cancel()


async def test_a_query_spinning_in_plain_python_does_not_hold_up_other_clients():
    served_server, _ = server()
    async with served(served_server) as address:
        body = await other_clients_are_served_while(address, "query", "t:spins")
        assert body["value"] == "released"


async def test_a_mutation_blocked_in_a_call_does_not_hold_up_other_clients():
    served_server, backend = server()
    async with served(served_server) as address:
        await other_clients_are_served_while(address, "mutation", "t:blocks")
    assert stored(backend) == ["meanwhile", "after the block"]


async def test_an_action_blocked_in_a_call_does_not_hold_up_other_clients():
    served_server, _ = server()
    async with served(served_server) as address:
        body = await other_clients_are_served_while(address, "action", "t:blocks_for_long")
        assert body["value"] == "done"


async def test_a_loop_of_effects_is_stopped_at_the_limit_and_commits_nothing():
    served_server, backend = server(Limits(transaction=0.2))
    async with served(served_server) as address:
        status, body = await call(address, "mutation", "t:loops_forever")
        assert status == 560
        assert body["errorMessage"] == "Function execution timed out (maximum duration: 0.2s)"
        assert await asyncio.to_thread(stopped.wait, SAFETY)  # its thread was stopped
        assert (await call(address, "mutation", "t:add", {"name": "next"}))[0] == 200
    assert stored(backend) == ["next"]


async def test_a_plain_python_loop_is_stopped_at_the_limit():
    served_server, _ = server(Limits(transaction=0.2))
    async with served(served_server) as address:
        status, body = await call(address, "query", "t:spins_forever")
        assert status == 560 and "timed out" in body["errorMessage"]
        assert await asyncio.to_thread(stopped.wait, SAFETY)
        status, body = await call(address, "query", "t:names")
        assert (status, body["value"]) == (200, [])


async def test_a_slow_commit_is_not_cut_short_by_the_time_limit():
    served_server, backend = server(Limits(transaction=0.05))
    engine = backend.engine
    commit_many = engine.commit_many

    def slow_commit_many(requests):
        threading.Event().wait(0.3)  # a disk that stalls past the limit, while committing
        return commit_many(requests)

    engine.commit_many = slow_commit_many  # type: ignore[method-assign]
    async with served(served_server) as address:
        status, body = await call(address, "mutation", "t:add", {"name": "slowly"})
        assert (status, body["status"]) == (200, "success")
    assert stored(backend) == ["slowly"]


async def test_a_mutation_committing_when_the_shutdown_grace_ends_is_answered_by_its_commit():
    served_server, backend = server()
    engine = backend.engine
    commit_many = engine.commit_many
    in_commit = threading.Event()

    def slow_commit_many(requests):
        in_commit.set()
        threading.Event().wait(1.0)  # a disk stall longer than the grace period below
        return commit_many(requests)

    engine.commit_many = slow_commit_many  # type: ignore[method-assign]
    async with served(served_server, timeout_graceful_shutdown=0.05) as address:
        answer = asyncio.ensure_future(call(address, "mutation", "t:add", {"name": "late"}))
        assert await asyncio.to_thread(in_commit.wait, SAFETY)
    # the server shut down, cutting off what ran past 0.05 s: the commit went on
    status, body = await answer
    assert (status, body["status"]) == (200, "success")
    assert stored(backend) == ["late"]


@query()
def where_it_runs():
    return threading.current_thread() is threading.main_thread()
    yield


@query()
def sleeps_then_says_where():
    release.wait(SAFETY)  # held until the test lets it go: past the 50 ms on the loop
    return threading.current_thread() is threading.main_thread()
    yield


@query()
def swallows_its_preemption():
    if threading.current_thread() is not threading.main_thread():
        return "on a thread"
    # swallowed, as a generator closed by the garbage collector swallows what it raises
    with contextlib.suppress(Preempted):
        never.wait(SAFETY)  # past the 50 ms on the loop: the watchdog stops it here
    return "inline"
    yield


never = threading.Event()
FUNCTIONS["t:where_it_runs"] = where_it_runs
FUNCTIONS["t:sleeps_then_says_where"] = sleeps_then_says_where
FUNCTIONS["t:swallows_its_preemption"] = swallows_its_preemption


async def test_a_quick_query_runs_on_the_loop_and_a_slow_one_is_moved_to_a_thread():
    served_server, _ = server()
    async with served(served_server) as address:
        status, body = await call(address, "query", "t:where_it_runs")
        assert (status, body["value"]) == (200, True)  # no hand-off for a quick one
        safety = threading.Timer(SAFETY, release.set)
        safety.start()
        try:
            slow = asyncio.ensure_future(call(address, "query", "t:sleeps_then_says_where"))
            status, body = await call(address, "query", "t:names")  # served meanwhile
            assert status == 200 and not slow.done()
            release.set()
            status, body = await slow
            assert (status, body["value"]) == (200, False)  # stopped on the loop, run on a thread
        finally:
            safety.cancel()


async def test_an_inline_run_whose_preemption_was_swallowed_is_run_again_on_a_thread():
    """Python ignores an exception raised in a generator's finalizer; a run that lost its
    `Preempted` there may have lost state with it (a read range half-recorded), so its
    result is not used."""
    served_server, _ = server()
    async with served(served_server) as address:
        status, body = await call(address, "query", "t:swallows_its_preemption")
        assert (status, body["value"]) == (200, "on a thread")


async def test_user_code_run_off_the_caller_keeps_its_fiber_ref_values():
    """An action's user code runs in a fiber of its own on a worker thread; it starts with
    the caller's FiberRef values, as a forked fiber does (so its spans are children of the
    caller's span, and log annotations carry over)."""
    from confect.runtime.user_code import WorkerThreads
    from effects import FiberRef

    ref: FiberRef[str] = FiberRef("unset")
    threads = WorkerThreads()
    try:
        seen = await effects.run(ref.locally("the caller's", threads.run(ref.get, "action")))
    finally:
        threads.close()
    assert seen == "the caller's"
