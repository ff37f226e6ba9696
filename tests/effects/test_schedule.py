"""Schedules with retry and repeat, driven by TestClock: no real waiting."""

from __future__ import annotations

import random

import pytest

import effects
from effects import Schedule, TaggedError, TestClock, gen


class Flaky(TaggedError):
    attempt: int


def flaky(fail_times: int, attempts: list[float]) -> effects.Effect[int, Flaky, effects.Clock]:
    @gen
    def once():
        now = yield from effects.clock.now()
        attempts.append(now)
        if len(attempts) <= fail_times:
            yield from Flaky(attempt=len(attempts))
        return len(attempts)

    return once()


def run_with_clock(eff: effects.Effect[object, object, object], advance: float) -> object:
    @gen
    def program():
        fiber = yield from effects.fork(eff.either())
        yield from TestClock.adjust(advance)
        return (yield from fiber.join())

    return effects.run_sync(program().provide(TestClock.layer()))


def test_retry_recurs_counts_attempts() -> None:
    attempts: list[float] = []
    assert effects.run_sync(flaky(2, attempts).retry(Schedule.recurs(5))) == 3
    assert len(attempts) == 3
    attempts.clear()
    with pytest.raises(Flaky):
        effects.run_sync(flaky(10, attempts).retry(Schedule.recurs(3)))
    assert len(attempts) == 4  # the first try and three retries


def test_retry_exponential_waits_on_the_test_clock() -> None:
    attempts: list[float] = []
    schedule = Schedule.exponential(1.0).compose(Schedule.recurs(3))
    result = run_with_clock(flaky(3, attempts).retry(schedule), advance=100)
    assert result.unwrap() == 4  # type: ignore[attr-defined]
    assert attempts == [0.0, 1.0, 3.0, 7.0]


def test_retry_waits_until_time_is_advanced() -> None:
    attempts: list[float] = []

    @gen
    def program():
        fiber = yield from effects.fork(flaky(5, attempts).retry(Schedule.spaced(10)))
        yield from TestClock.adjust(25)
        seen = list(attempts)
        yield from fiber.interrupt()
        return seen

    assert effects.run_sync(program().provide(TestClock.layer())) == [0.0, 10.0, 20.0]


def test_fibonacci_fixed_union_intersect_up_to_while() -> None:
    fib = Schedule.fibonacci(1).driver()
    assert [fib(None, 0) for _ in range(6)] == [1, 1, 2, 3, 5, 8]
    fixed = Schedule.fixed(10).driver()
    assert [fixed(None, t) for t in (0, 3, 12, 35)] == [10, 7, 8, 5]
    union = Schedule.recurs(1).union(Schedule.spaced(5)).driver()
    assert [union(None, 0), union(None, 0)] == [0, 5]
    inter = Schedule.recurs(1).intersect(Schedule.spaced(5)).driver()
    assert [inter(None, 0), inter(None, 0)] == [5, None]
    upto = Schedule.spaced(1).up_to(10).driver()
    assert [upto(None, 0), upto(None, 9), upto(None, 10)] == [1, 1, None]
    while_small = Schedule.forever().while_(lambda n: n < 3).driver()
    assert [while_small(1, 0), while_small(3, 0)] == [0, None]


def test_jittered_stays_in_bounds() -> None:
    jit = Schedule.spaced(10).jittered(rng=random.Random(7)).driver()
    delays = [jit(None, 0) for _ in range(100)]
    assert all(d is not None and 8 <= d <= 12 for d in delays)
    assert len(set(delays)) > 1


def test_repeat_runs_again_and_returns_last_value() -> None:
    count = [0]

    def tick() -> int:
        count[0] += 1
        return count[0]

    assert effects.run_sync(effects.sync(tick).repeat(Schedule.recurs(4))) == 5


def test_test_clock_wakes_sleepers_in_time_order() -> None:
    woke: list[str] = []

    @gen
    def program():
        for name, delay in (("c", 3.0), ("a", 1.0), ("b", 2.0)):
            yield from effects.fork(
                effects.sleep(delay).then(effects.sync(lambda n=name: woke.append(n)))
            )
        yield from TestClock.adjust(1.5)
        first = list(woke)
        yield from TestClock.adjust(10)
        now = yield from effects.clock.now()
        return first, list(woke), now

    assert effects.run_sync(program().provide(TestClock.layer())) == (["a"], ["a", "b", "c"], 11.5)


def test_adjust_needs_a_test_clock() -> None:
    with pytest.raises(TypeError, match="TestClock"):
        effects.run_sync(TestClock.adjust(1))
