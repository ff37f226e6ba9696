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


def delays(schedule: Schedule, times: list[float], value: object = None) -> list[float | None]:
    """The delays a fresh driver of `schedule` decides at each of `times`."""
    driver = schedule.driver()
    return [driver(value, t)[1] for t in times]


def outputs(schedule: Schedule, steps: int) -> list[object]:
    driver = schedule.driver()
    return [driver(None, 0.0)[0] for _ in range(steps)]


def test_fibonacci_union_intersect_up_to_while() -> None:
    """Effect's Schedule.fibonacci, union (either, min delay), intersect (both, max delay),
    upTo, whileInput / whileOutput."""
    assert delays(Schedule.fibonacci(1), [0] * 6) == [1, 1, 2, 3, 5, 8]
    assert delays(Schedule.recurs(1).union(Schedule.spaced(5)), [0, 0]) == [0, 5]
    assert delays(Schedule.recurs(1).intersect(Schedule.spaced(5)), [0, 0]) == [5, None]
    assert delays(Schedule.spaced(1).up_to(10), [0, 9, 10]) == [1, 1, None]
    assert delays(Schedule.forever().while_input(lambda n: n < 3), [0], 1) == [0]
    assert delays(Schedule.forever().while_input(lambda n: n < 3), [0], 3) == [None]
    assert delays(Schedule.spaced(1).while_output(lambda n: n < 2), [0, 0, 0]) == [1, 1, None]


def test_union_and_intersect_output_both_outputs() -> None:
    """Effect: union / intersect output the pair [left output, right output]."""
    assert outputs(Schedule.recurs(5).intersect(Schedule.exponential(1)), 3) == [
        (0, 1),
        (1, 2),
        (2, 4),
    ]
    assert outputs(Schedule.recurs(0).union(Schedule.spaced(3)), 2) == [(0, 0), (1, 1)]


def test_fixed_keeps_to_its_grid_and_runs_at_once_when_behind() -> None:
    """Effect's Schedule.fixed: the first run is one interval after the start; a run ending
    between slots waits for the next slot; one that overran a whole interval is followed
    by the next run at once."""
    assert delays(Schedule.fixed(10), [0, 13, 25, 57]) == [10, 7, 5, 0]
    assert delays(Schedule.fixed(0), [0, 0, 1]) == [0, 0, 0]


def test_fixed_zero_repeats_without_dividing_by_zero() -> None:
    """Effect's Schedule.fixed(0) recurs with no delay."""
    assert (
        effects.run_sync(effects.succeed(1).repeat(Schedule.fixed(0).while_output(lambda n: n < 3)))
        == 3
    )


def test_fixed_repeat_runs_an_overrunning_step_again_at_once() -> None:
    """Effect's Schedule.fixed: a repeat whose run took longer than the interval starts
    the next run at once (at t=25, not at the next slot t=30)."""
    started: list[float] = []
    durations = iter([0.0, 15.0, 0.0, 0.0])

    @gen
    def work():
        started.append((yield from effects.clock.now()))
        yield from effects.sleep(next(durations))

    @gen
    def program():
        fiber = yield from effects.fork(
            work().repeat(Schedule.fixed(10).while_output(lambda n: n < 3))
        )
        yield from TestClock.adjust(100)
        yield from fiber.join()
        return started

    assert effects.run_sync(program().provide(TestClock.layer())) == [0.0, 10.0, 25.0, 30.0]


def test_linear_and_from_delays() -> None:
    """Effect's Schedule.linear (base, 2*base, ...) and fromDelays (each delay once, then done)."""
    assert delays(Schedule.linear(2), [0] * 4) == [2, 4, 6, 8]
    assert delays(Schedule.from_delays(1, 5, 2), [0] * 4) == [1, 5, 2, None]
    assert outputs(Schedule.from_delays(1, 5), 2) == [1, 5]


def test_once_and_stop() -> None:
    """Effect's Schedule.once recurs once; Schedule.stop never recurs."""
    count = [0]
    tick = effects.sync(lambda: count.__setitem__(0, count[0] + 1))
    assert effects.run_sync(tick.repeat(Schedule.once())) is None
    assert count[0] == 2
    effects.run_sync(tick.repeat(Schedule.stop()))
    assert count[0] == 3


def test_and_then_runs_the_first_schedule_then_the_second() -> None:
    """Effect's Schedule.andThen: the first until it is done, then the second."""
    schedule = Schedule.recurs(2).and_then(Schedule.spaced(7).while_output(lambda n: n < 2))
    assert delays(schedule, [0] * 5) == [0, 0, 7, 7, None]


def test_compose_feeds_the_first_output_to_the_second() -> None:
    """Effect's Schedule.compose: the second schedule's input is the first's output; both
    must go on; the delay is the longer; the output is the second's."""
    seen: list[object] = []
    schedule = Schedule.exponential(1).compose(
        Schedule.recurs(2).while_input(lambda d: seen.append(d) is None)
    )
    assert delays(schedule, [0] * 3) == [1, 2, None]
    assert seen == [1, 2, 4]
    assert outputs(Schedule.spaced(1).compose(Schedule.recurs(9)), 2) == [0, 1]


def test_cron_waits_for_the_next_matching_time() -> None:
    """Effect's Schedule.cron: each run at the next time the expression matches."""
    pytest.importorskip("croniter")
    driver = Schedule.cron("*/5 * * * *").driver()
    assert driver(None, 0.0) == (300.0, 300.0)
    assert driver(None, 301.0) == (600.0, 299.0)
    with pytest.raises(ValueError):
        Schedule.cron("not a cron")


def test_jittered_stays_in_bounds() -> None:
    jit = Schedule.spaced(10).jittered(rng=random.Random(7)).driver()
    delays = [jit(None, 0)[1] for _ in range(100)]
    assert all(d is not None and 8 <= d <= 12 for d in delays)
    assert len(set(delays)) > 1


def test_repeat_succeeds_with_the_schedules_last_output() -> None:
    """Effect's repeat: the result is the schedule's output; repeat(recurs(n)) gives n,
    after n + 1 runs."""
    count = [0]

    def tick() -> int:
        count[0] += 1
        return count[0] * 100

    assert effects.run_sync(effects.sync(tick).repeat(Schedule.recurs(4))) == 4
    assert count[0] == 5


def test_retry_or_else_continues_with_the_last_error_and_output() -> None:
    """Effect's retryOrElse: once the schedule is done, orElse(error, last output)."""
    attempts: list[float] = []
    eff = flaky(10, attempts).pipe(
        lambda e: effects.schedule.retry_or_else(
            e, Schedule.recurs(2), lambda err, out: effects.succeed((err.attempt, out))
        )
    )
    assert effects.run_sync(eff) == (3, 2)


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
