"""Queries stay deterministic, so cacheable: logging, spans and the runtime's own clock reads
leave a query cached; reading real time (`effects.clock.now()`) is the opt-in that limits
its caching as Convex's cache limits time-dependent results; randomness is seeded per
call, the same in every attempt of one call and different from call to call."""

import asyncio
import logging

import effects
from confect import (
    App,
    Backend,
    DatabaseReader,
    DatabaseWriter,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.server.asgi import Server
from confect.server.calls import Caller
from confect.server.query_cache import query_key
from confect.services.runners import QueryRunner
from confect.testing import ConfectTest
from effects import Clock, Random, TestClock

SCHEMA = define_schema(items=define_table({"name": v.string()}))
runs: list[str] = []
draws: list[list[float]] = []
frozen: list[float] = []


@query()
def chatty():
    runs.append("chatty")
    print("printed")
    logging.getLogger("app").warning("logged")
    yield from effects.log_info("effects log")
    clock = yield from Clock
    frozen.append(clock.now())  # the service's own reading: the call's frozen time
    yield from effects.with_span("inner")(effects.log_warning("in a span"))
    db = yield from DatabaseReader
    return float(len((yield from db.table("items").collect())))


@query()
def what_time():
    runs.append("what_time")
    return (yield from effects.clock.now())


@query()
def dice():
    runs.append("dice")
    drawn = []
    for _ in range(3):
        drawn.append((yield from effects.random.next()))
    draws.append(drawn)
    clock = yield from Clock
    frozen.append(clock.now())
    if len(runs) == 1:
        yield from effects.sleep(0.001)  # needs the event loop: run again on a worker thread
    return drawn


@query()
def time_through_a_runner():
    runner = yield from QueryRunner
    return (yield from runner.run_query(what_time, {}))


@mutation(args={"name": v.string()})
def add(name: str):
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"name": name})


FUNCTIONS = {
    "q:chatty": chatty,
    "q:what_time": what_time,
    "q:dice": dice,
    "q:nested_time": time_through_a_runner,
    "q:add": add,
}


def server(clock: TestClock | None = None) -> Server:
    app = App(FUNCTIONS, SCHEMA)
    if clock is None:
        return Server(Backend(app))
    return Server(Backend(app, now=clock.now, services={Clock: clock}))


async def call(served: Server, path: str, args: dict | None = None):
    return await served.functions.call(path, args or {}, Caller())


def advance(clock: TestClock, seconds: float) -> None:
    effects.run_sync(clock.advance(seconds))


async def test_a_query_that_logs_prints_and_traces_stays_cached():
    runs.clear()
    frozen.clear()
    served = server(TestClock(start=1000.0))
    first = await call(served, "q:chatty")
    second = await call(served, "q:chatty")
    assert runs == ["chatty"]  # the second call was the cache's
    assert not first.observed_time
    assert [line.wire() for line in second.log_lines] == [line.wire() for line in first.log_lines]
    assert "[LOG] 'printed'" in [line.wire() for line in first.log_lines]
    assert frozen == [1000.0]


async def test_a_query_reading_real_time_is_served_only_while_it_is_young():
    runs.clear()
    clock = TestClock(start=1000.0)
    served = server(clock)
    first = await call(served, "q:what_time")
    assert (first.value, first.observed_time) == (1000.0, True)
    advance(clock, 1.0)  # younger than the longest a query may run and a second more
    assert (await call(served, "q:what_time")).value == 1000.0
    assert runs == ["what_time"]
    advance(clock, 1.5)
    assert (await call(served, "q:what_time")).value == 1002.5  # too old: run again
    assert runs == ["what_time", "what_time"]


async def test_a_query_reading_time_through_a_nested_query_is_time_dependent_too():
    clock = TestClock(start=50.0)
    served = server(clock)
    assert (await call(served, "q:nested_time")).observed_time
    advance(clock, 5.0)
    assert (await call(served, "q:nested_time")).value == 55.0


async def test_a_subscribed_query_that_read_time_is_run_again_once_it_is_old():
    runs.clear()
    clock = TestClock(start=1000.0)
    served = server(clock)
    key = query_key("q:what_time", {}, Caller())
    served.subscriptions.subscribe(key, lambda _: None)
    assert (await served.subscriptions.result(key, {}, Caller())).value == 1000.0
    assert (await served.subscriptions.result(key, {}, Caller())).value == 1000.0
    advance(clock, 3.0)
    assert (await served.subscriptions.result(key, {}, Caller())).value == 1003.0
    assert runs == ["what_time", "what_time"]


async def test_a_query_that_did_not_read_time_is_not_aged_out():
    runs.clear()
    clock = TestClock(start=1000.0)
    served = server(clock)
    await call(served, "q:chatty")
    advance(clock, 3600.0)
    await call(served, "q:chatty")
    assert runs == ["chatty"]


async def test_randomness_is_the_same_in_every_attempt_of_a_call_and_differs_across_calls():
    runs.clear()
    draws.clear()
    frozen.clear()
    served = server()
    served.start(asyncio.get_running_loop())  # user code on the loop, then worker threads
    try:
        moved = await call(served, "q:dice")  # its first attempt slept on the loop
        assert runs == ["dice", "dice"]
        assert draws[0] == draws[1] == moved.value
        assert frozen[0] == frozen[1]
        assert len(set(moved.value)) == 3
        served.functions.cache.clear()
        again = await call(served, "q:dice")
    finally:
        served.stop()
    assert again.value != moved.value


def test_a_tests_generator_and_clock_are_what_a_query_draws_from_and_reads():
    runs.clear()
    draws.clear()
    t = ConfectTest(App(FUNCTIONS, SCHEMA), start_time=500.0).with_layer(Random.layer(5))
    runs.append("not the first")  # no sleep on the loop
    expected = effects.run_sync(
        effects.all([effects.random.next() for _ in range(3)]).provide(Random.layer(5))
    )
    assert t.query(dice) == list(expected)
    t.advance_time(2.0)
    assert t.query(what_time) == 502.0
