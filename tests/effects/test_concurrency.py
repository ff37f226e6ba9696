"""Fibers, all/for_each, race, timeout, interruption, async bridging."""

from __future__ import annotations

import asyncio

import pytest

import effects
from effects import Exit, TaggedError, TestClock, gen
from effects.runtime import MaxOpsBeforeYield


class Boom(TaggedError):
    n: int


def test_all_preserves_order_sequential_and_concurrent() -> None:
    effs = [effects.sleep(0.001 * (5 - i)).as_(i) for i in range(5)]
    assert effects.run_sync(effects.all(effs)) == [0, 1, 2, 3, 4]
    assert effects.run_sync(effects.all(effs, concurrency="unbounded")) == [0, 1, 2, 3, 4]
    assert effects.run_sync(effects.all({"a": effects.succeed(1), "b": effects.succeed(2)})) == {
        "a": 1,
        "b": 2,
    }


def test_for_each_bounded_concurrency_never_exceeds_limit() -> None:
    running = [0]
    peak = [0]

    @gen
    def work(i: int):
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        yield from effects.yield_now()
        yield from effects.yield_now()
        running[0] -= 1
        return i * 2

    assert effects.run_sync(effects.for_each(range(10), work, concurrency=3)) == [
        i * 2 for i in range(10)
    ]
    assert peak[0] == 3


def test_for_each_first_failure_interrupts_the_rest_and_runs_finalizers() -> None:
    released: list[int] = []

    def work(i: int) -> effects.Effect[int, Boom]:
        if i == 0:  # fail once the others are running
            return effects.yield_now().then(effects.yield_now()).then(effects.fail(Boom(n=0)))
        return effects.never().ensuring(effects.sync(lambda: released.append(i)))

    with pytest.raises(Boom):
        effects.run_sync(effects.for_each(range(3), work, concurrency="unbounded"))
    assert sorted(released) == [1, 2]


def test_fork_join_and_interrupt_runs_finalizers() -> None:
    log: list[str] = []

    @gen
    def program():
        fiber = yield from effects.fork(
            effects.never().ensuring(effects.sync(lambda: log.append("fin")))
        )
        yield from effects.yield_now()
        exit_ = yield from fiber.interrupt()
        other = yield from effects.fork(effects.succeed(5))
        return exit_, (yield from other.join())

    exit_, value = effects.run_sync(program())
    assert isinstance(exit_, Exit.Failure) and exit_.cause.is_interrupted_only()
    assert value == 5 and log == ["fin"]


def test_interruption_closes_generators_so_finally_runs() -> None:
    log: list[str] = []

    @gen
    def sleeper():
        try:
            yield from effects.never()
        finally:
            log.append("closed")

    @gen
    def program():
        fiber = yield from effects.fork(sleeper())
        yield from effects.yield_now()
        yield from fiber.interrupt()

    effects.run_sync(program())
    assert log == ["closed"]


def test_child_fibers_are_interrupted_when_parent_ends() -> None:
    log: list[str] = []

    @gen
    def parent():
        yield from effects.fork(
            effects.never().ensuring(effects.sync(lambda: log.append("child stopped")))
        )
        yield from effects.yield_now()
        return "parent done"

    @gen
    def program():
        fiber = yield from effects.fork(parent())
        result = yield from fiber.join()
        yield from effects.yield_now()
        yield from effects.yield_now()
        return result

    assert effects.run_sync(program()) == "parent done"
    assert log == ["child stopped"]


def test_race_with_testclock_adjust() -> None:
    log: list[str] = []

    @gen
    def program():
        slow = (
            effects.sleep(10)
            .as_("slow")
            .ensuring(effects.sync(lambda: log.append("slow interrupted")))
        )
        fast = effects.sleep(1).as_("fast")
        fiber = yield from effects.fork(effects.race(slow, fast))
        yield from TestClock.adjust(1)
        return (yield from fiber.join())

    assert effects.run_sync(program().provide(TestClock.layer())) == "fast"
    assert log == ["slow interrupted"]


def test_race_fails_only_when_both_fail() -> None:
    assert effects.run_sync(effects.race(effects.fail(Boom(n=1)), effects.succeed(2))) == 2
    exit_ = effects.run_sync_exit(effects.race(effects.fail(Boom(n=1)), effects.fail(Boom(n=2))))
    assert isinstance(exit_, Exit.Failure) and exit_.cause.failures() == [Boom(n=1), Boom(n=2)]


def test_timeout_with_test_clock() -> None:
    @gen
    def program():
        fiber = yield from effects.fork(effects.sleep(5).as_("late").timeout(2).either())
        yield from TestClock.adjust(2)
        return (yield from fiber.join())

    assert effects.run_sync(program().provide(TestClock.layer())).failure() == effects.TimeoutError(
        seconds=2
    )
    assert effects.run_sync(effects.succeed("on time").timeout(1)) == "on time"


def test_a_timeout_fails_with_timeout_exception_as_effect_names_it() -> None:
    failure = effects.run_sync(effects.never().timeout(0.01).either()).failure()
    assert isinstance(failure, effects.TimeoutException) and failure._tag == "TimeoutException"
    assert effects.TimeoutError is effects.TimeoutException  # the deprecated name
    assert not issubclass(effects.TimeoutException, TimeoutError)  # Python's builtin


def test_live_sleep_and_timeout_on_private_loop() -> None:
    assert effects.run_sync(effects.sleep(0.001).as_("ok")) == "ok"
    with pytest.raises(effects.TimeoutError):
        effects.run_sync(effects.never().timeout(0.01))


async def test_run_in_event_loop_with_promise_and_try_promise() -> None:
    async def fetch() -> int:
        await asyncio.sleep(0)
        return 42

    async def broken() -> int:
        raise ConnectionError("down")

    assert await effects.run(effects.promise(fetch)) == 42
    failure = await effects.run(effects.try_promise(broken, lambda e: Boom(n=1)).either())
    assert failure.failure() == Boom(n=1)
    with pytest.raises(ConnectionError):
        await effects.run(effects.promise(broken))


async def test_run_sync_inside_running_loop_refuses_async() -> None:
    with pytest.raises(effects.AsyncInSyncError, match="await effects.run"):
        effects.run_sync(effects.sleep(0.01))
    assert effects.run_sync(effects.succeed(1)) == 1  # sync effects are fine


async def test_cancelling_the_awaiting_task_interrupts_the_effect() -> None:
    log: list[str] = []
    started = asyncio.Event()

    @gen
    def program():
        yield from effects.sync(started.set)
        yield from effects.never().ensuring(effects.sync(lambda: log.append("released")))

    task = asyncio.ensure_future(effects.run(program()))
    await asyncio.wait_for(started.wait(), 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert log == ["released"]


async def test_interrupting_a_promise_cancels_the_task() -> None:
    cancelled = asyncio.Event()

    async def slow() -> int:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return 1

    with pytest.raises(effects.TimeoutError):
        await effects.run(effects.promise(slow).timeout(0.01))
    assert cancelled.is_set()


def test_uninterruptible_region_finishes_before_interruption() -> None:
    log: list[str] = []

    @gen
    def critical():
        yield from effects.yield_now()
        log.append("critical done")

    @gen
    def program():
        fiber = yield from effects.fork(effects.uninterruptible(critical()).then(effects.never()))
        yield from effects.yield_now()  # the child is now inside its region
        exit_ = yield from fiber.interrupt()
        assert exit_.cause.is_interrupted_only()  # type: ignore[attr-defined]
        return log

    assert effects.run_sync(program()) == ["critical done"]


@pytest.mark.parametrize("region_ends", ["succeeding", "failing"])
def test_an_interrupt_waits_out_an_uninterruptible_region_however_the_region_ends(
    region_ends: str,
) -> None:
    opened: list[effects.Effect[None]] = []
    gate = effects.async_(
        lambda resume: opened.append(effects.sync(lambda: resume(effects.succeed(None))))
    )
    last = effects.succeed("done") if region_ends == "succeeding" else effects.fail(Boom(n=1))
    child = effects.uninterruptible(gate.then(last)).catch_all(
        lambda _: effects.succeed("recovered")
    )

    @gen
    def program():
        fiber = yield from effects.fork(child)
        yield from effects.yield_now()  # the child now waits at the gate, uninterruptibly
        yield from effects.fork(fiber.interrupt())
        yield from effects.yield_now()  # the interrupt is pending
        yield from opened[0]
        return (yield from fiber.await_())

    exit_ = effects.run_sync(program())
    assert isinstance(exit_, Exit.Failure) and exit_.cause.is_interrupted_only()


def test_deadlock_is_reported_not_hung() -> None:
    with pytest.raises(RuntimeError, match="deadlock"):
        effects.run_sync(effects.sleep(1).provide(TestClock.layer()))


def test_interrupt_self() -> None:
    with pytest.raises(effects.Interrupted):
        effects.run_sync(effects.interrupt())


async def test_run_with_a_timeout_interrupts_an_effect_that_runs_past_it() -> None:
    log: list[str] = []
    slow = effects.never().ensuring(effects.sync(lambda: log.append("released")))
    with pytest.raises(TimeoutError):
        await effects.run(slow, timeout=0.01)
    assert log == ["released"]
    assert await effects.run(effects.sleep(0).as_(7), timeout=5) == 7
    exit_ = await effects.run_exit(effects.fail(Boom(n=2)), timeout=0)  # done before any timer
    assert exit_ == Exit.fail(Boom(n=2))


def test_a_long_loop_of_effects_gives_other_fibers_a_turn():
    seen: list[bool] = []

    @gen
    def spinner():
        for i in range(200_000):
            if seen:
                return i
            yield from effects.succeed(None)
        return None

    @gen
    def other():
        seen.append(True)
        return None
        yield

    steps, _ = effects.run_sync(effects.all([spinner(), other()], concurrency="unbounded"))
    assert steps is not None and steps < 20_000


def test_max_ops_before_yield_sets_how_long_a_fiber_runs_before_others_get_a_turn() -> None:
    def interleaving(max_ops: int | None) -> list[str]:
        log: list[str] = []

        @gen
        def steps(name: str):
            for _ in range(100):
                yield from effects.sync(lambda: log.append(name))

        both = effects.all([steps("a"), steps("b")], concurrency="unbounded")
        effects.run_sync(
            both if max_ops is None else both.provide_service(MaxOpsBeforeYield, max_ops)
        )
        return log

    assert interleaving(None) == ["a"] * 100 + ["b"] * 100  # 2,048 by default
    fair = interleaving(8)
    assert "b" in fair[:20] and sorted(fair) == ["a"] * 100 + ["b"] * 100
