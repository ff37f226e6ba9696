"""Schedules: when to go again (for `retry` and `repeat`), after how long, and what to output.

As in Effect, a schedule takes an input (the error for `retry`, the value for `repeat`),
outputs a value (`recurs` and `spaced` count the recurrences from 0, `exponential` and
the other delay-based ones output the delay), and decides to go on after a delay or to
stop. `effect.repeat(schedule)` succeeds with the schedule's last output.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from typing_extensions import TypeVar as DefaultTypeVar

from effects.clock import Clock, ClockService
from effects.effect import Effect, fail, succeed, suspend

Out = DefaultTypeVar("Out", covariant=True, default=Any)
O2 = TypeVar("O2")
O1 = TypeVar("O1")
B = TypeVar("B")
A = TypeVar("A")
E = TypeVar("E")
R = TypeVar("R")
E2 = TypeVar("E2")
R2 = TypeVar("R2")

#: One step of a running schedule: given the input and the time now, the output and the
#: delay in seconds before the next run, or None for the delay to stop.
Driver = Callable[[Any, float], tuple[Any, float | None]]


class Schedule(Generic[Out]):
    """A recipe for a stateful driver; every `retry`/`repeat` run gets a fresh one."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], Driver]) -> None:
        self._make = make

    def driver(self) -> Driver:
        return self._make()

    # --- constructors ------------------------------------------------------------------------

    @staticmethod
    def forever() -> Schedule[int]:
        """Go again forever, with no delay; output the recurrence count (0, 1, 2, ...)."""
        return _counting(lambda n, now: 0.0)

    @staticmethod
    def recurs(times: int) -> Schedule[int]:
        """Go again `times` times, with no delay; output the count (so `repeat` gives `times`)."""
        return _counting(lambda n, now: 0.0 if n < times else None)

    @staticmethod
    def once() -> Schedule[None]:
        """Go again once."""
        return Schedule.recurs(1).map(lambda _: None)

    @staticmethod
    def stop() -> Schedule[None]:
        """Never go again."""
        return Schedule.recurs(0).map(lambda _: None)

    @staticmethod
    def spaced(seconds: float) -> Schedule[int]:
        """Go again forever, waiting `seconds` after each run; output the count."""
        return _counting(lambda n, now: seconds)

    @staticmethod
    def fixed(interval: float) -> Schedule[int]:
        """Go again forever, on a grid of `interval` from the first decision; output the count.

        A run that ends past its next slot (the schedule is running behind) is followed
        by the next run at once, not by a wait for the slot after (Effect's `fixed`)."""

        def make() -> Driver:
            count = [0]
            grid: list[float] = []  # [start, when the last run was due], once started

            def step(_: Any, now: float) -> tuple[Any, float | None]:
                n = count[0]
                count[0] = n + 1
                if not grid:
                    grid[:] = [now, now + interval]
                    return n, interval
                start, last_due = grid
                if interval <= 0 or now > last_due + interval:
                    next_run = now
                else:
                    boundary = interval - (now - start) % interval
                    next_run = now + (boundary if boundary > 0 else interval)
                grid[1] = next_run
                return n, next_run - now

            return step

        return Schedule(make)

    @staticmethod
    def exponential(base: float, factor: float = 2.0) -> Schedule[float]:
        """Go again forever, waiting base, base*factor, base*factor**2, ...; output the delay."""
        return _delays(lambda n: base * factor**n)

    @staticmethod
    def fibonacci(one: float) -> Schedule[float]:
        """Go again forever, waiting one, one, 2*one, 3*one, 5*one, ...; output the delay."""

        def make() -> Driver:
            pair = [one, one]

            def step(_: Any, now: float) -> tuple[Any, float | None]:
                delay = pair[0]
                pair[0], pair[1] = pair[1], pair[0] + pair[1]
                return delay, delay

            return step

        return Schedule(make)

    @staticmethod
    def linear(base: float) -> Schedule[float]:
        """Go again forever, waiting base, 2*base, 3*base, ...; output the delay."""
        return _delays(lambda n: base * (n + 1))

    @staticmethod
    def from_delays(delay: float, *delays: float) -> Schedule[float]:
        """Go again once per delay given, waiting each in turn; output the delay."""
        every = (delay, *delays)

        def make() -> Driver:
            count = [0]

            def step(_: Any, now: float) -> tuple[Any, float | None]:
                n = count[0]
                count[0] = n + 1
                if n < len(every):
                    return every[n], every[n]
                return every[-1], None

            return step

        return Schedule(make)

    @staticmethod
    def cron(expression: str) -> Schedule[float]:
        """Go again forever at the times the cron `expression` matches (in UTC, e.g.
        "*/5 * * * *"); output the time (seconds since the epoch) of the next run."""
        from croniter import croniter

        croniter(expression)  # a bad expression is refused here, not at the first run

        def make() -> Driver:
            def step(_: Any, now: float) -> tuple[Any, float | None]:
                after = datetime.fromtimestamp(now, tz=UTC)
                at = float(croniter(expression, after).get_next(float))
                return at, at - now

            return step

        return Schedule(make)

    # --- combinators ---------------------------------------------------------------------------

    def map(self, f: Callable[[Out], B]) -> Schedule[B]:
        """Transform the outputs."""

        def make() -> Driver:
            inner = self.driver()

            def step(value: Any, now: float) -> tuple[Any, float | None]:
                out, delay = inner(value, now)
                return f(out), delay

            return step

        return Schedule(make)

    def jittered(
        self, low: float = 0.8, high: float = 1.2, rng: random.Random | None = None
    ) -> Schedule[Out]:
        """Multiply each delay by a random factor in [low, high]."""
        pick = (rng or random.Random()).uniform

        def make() -> Driver:
            inner = self.driver()

            def step(value: Any, now: float) -> tuple[Any, float | None]:
                out, delay = inner(value, now)
                return out, None if delay is None else delay * pick(low, high)

            return step

        return Schedule(make)

    def up_to(self, seconds: float) -> Schedule[Out]:
        """Stop once `seconds` have passed since the first decision."""

        def make() -> Driver:
            inner = self.driver()
            start: list[float] = []

            def step(value: Any, now: float) -> tuple[Any, float | None]:
                if not start:
                    start.append(now)
                out, delay = inner(value, now)
                return out, None if now - start[0] >= seconds else delay

            return step

        return Schedule(make)

    def while_input(self, predicate: Callable[[Any], bool]) -> Schedule[Out]:
        """Go on only while `predicate(input)` holds (Effect's `whileInput`)."""

        def make() -> Driver:
            inner = self.driver()

            def step(value: Any, now: float) -> tuple[Any, float | None]:
                out, delay = inner(value, now)
                return out, delay if predicate(value) else None

            return step

        return Schedule(make)

    def while_output(self, predicate: Callable[[Out], bool]) -> Schedule[Out]:
        """Go on only while `predicate(output)` holds (Effect's `whileOutput`)."""

        def make() -> Driver:
            inner = self.driver()

            def step(value: Any, now: float) -> tuple[Any, float | None]:
                out, delay = inner(value, now)
                return out, delay if predicate(out) else None

            return step

        return Schedule(make)

    def intersect(self, other: Schedule[O2]) -> Schedule[tuple[Out, O2]]:
        """Go on while both go on, waiting the longer delay; output both outputs."""

        def make() -> Driver:
            left, right = self.driver(), other.driver()

            def step(value: Any, now: float) -> tuple[Any, float | None]:
                (a, da), (b, db) = left(value, now), right(value, now)
                return (a, b), None if da is None or db is None else max(da, db)

            return step

        return Schedule(make)

    def union(self, other: Schedule[O2]) -> Schedule[tuple[Out, O2]]:
        """Go on while either goes on, waiting the shorter delay of those that go on;
        output both outputs."""

        def make() -> Driver:
            left, right = self.driver(), other.driver()

            def step(value: Any, now: float) -> tuple[Any, float | None]:
                (a, da), (b, db) = left(value, now), right(value, now)
                going = [d for d in (da, db) if d is not None]
                return (a, b), min(going) if going else None

            return step

        return Schedule(make)

    def and_then(self, other: Schedule[O2]) -> Schedule[Out | O2]:
        """This schedule until it stops, then `other` (whose first step is taken at once);
        output the output of whichever is running."""

        def make() -> Driver:
            first, second = self.driver(), other.driver()
            on_second = [False]

            def step(value: Any, now: float) -> tuple[Any, float | None]:
                if not on_second[0]:
                    out, delay = first(value, now)
                    if delay is not None:
                        return out, delay
                    on_second[0] = True
                return second(value, now)

            return step

        return Schedule(make)

    def compose(self, other: Schedule[O2]) -> Schedule[O2]:
        """Feed this schedule's outputs to `other` as its inputs: go on while both go on,
        waiting the longer delay; output `other`'s output (Effect's `compose`)."""

        def make() -> Driver:
            first, second = self.driver(), other.driver()

            def step(value: Any, now: float) -> tuple[Any, float | None]:
                out, da = first(value, now)
                out2, db = second(out, now)
                return out2, None if da is None or db is None else max(da, db)

            return step

        return Schedule(make)


def _counting(decide: Callable[[int, float], float | None]) -> Schedule[int]:
    """A schedule outputting its recurrence count n (from 0), with delay `decide(n, now)`."""

    def make() -> Driver:
        count = [0]

        def step(_: Any, now: float) -> tuple[Any, float | None]:
            n = count[0]
            count[0] = n + 1
            return n, decide(n, now)

        return step

    return Schedule(make)


def _delays(delay_at: Callable[[int], float]) -> Schedule[float]:
    """A schedule going on forever with delay `delay_at(n)` at recurrence n; outputs it."""

    def make() -> Driver:
        count = [0]

        def step(_: Any, now: float) -> tuple[Any, float | None]:
            delay = delay_at(count[0])
            count[0] += 1
            return delay, delay

        return step

    return Schedule(make)


def _after(clock: ClockService, delay: float, then: Effect[A, E, R]) -> Effect[A, E, R]:
    return then if delay <= 0 else clock.sleep(delay).then(then)


def retry(effect: Effect[A, E, R], schedule: Schedule[Any]) -> Effect[A, E, R]:
    """Run `effect`; on a typed failure ask the schedule whether and when to try again;
    once it stops, fail with the last error."""
    return retry_or_else(effect, schedule, lambda error, _: fail(error))


def retry_or_else(
    effect: Effect[A, E, R],
    schedule: Schedule[O1],
    or_else: Callable[[E, O1], Effect[B, E2, R2]],
) -> Effect[A | B, E2, R | R2]:
    """Like `retry`, but once the schedule stops, continue with `or_else(last error, the
    schedule's last output)` (Effect's `retryOrElse`)."""

    def attempt(driver: Driver) -> Effect[Any, Any, Any]:
        def decide(error: E) -> Effect[Any, Any, Any]:
            def with_clock(clock: ClockService) -> Effect[Any, Any, Any]:
                out, delay = driver(error, clock.now())
                return (
                    or_else(error, out) if delay is None else _after(clock, delay, attempt(driver))
                )

            return Clock.flat_map(with_clock)

        return effect.catch_all(decide)

    return suspend(lambda: attempt(schedule.driver()))


def repeat(effect: Effect[Any, E, R], schedule: Schedule[O1]) -> Effect[O1, E, R]:
    """Run `effect`; after each success ask the schedule whether and when to run again;
    once it stops, succeed with the schedule's last output (Effect's `repeat`)."""

    def again(driver: Driver) -> Effect[Any, Any, Any]:
        def decide(value: Any) -> Effect[Any, Any, Any]:
            def with_clock(clock: ClockService) -> Effect[Any, Any, Any]:
                out, delay = driver(value, clock.now())
                return succeed(out) if delay is None else _after(clock, delay, again(driver))

            return Clock.flat_map(with_clock)

        return effect.flat_map(decide)

    return suspend(lambda: again(schedule.driver()))
