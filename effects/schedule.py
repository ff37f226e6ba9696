"""Schedules: when to go again (for `retry` and `repeat`), and after how long."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, TypeVar

from effects.clock import Clock, ClockService
from effects.effect import Effect, fail, succeed, suspend

A = TypeVar("A")
E = TypeVar("E")
R = TypeVar("R")

#: Given the last input (an error for retry, a value for repeat) and the time now,
#: a driver returns the delay before the next run, or None to stop.
Driver = Callable[[Any, float], float | None]


class Schedule:
    """A recipe for a stateful driver; every `retry`/`repeat` run gets a fresh one."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], Driver]) -> None:
        self._make = make

    def driver(self) -> Driver:
        return self._make()

    # --- constructors ------------------------------------------------------------------------

    @staticmethod
    def recurs(times: int) -> Schedule:
        """Go again `times` times, with no delay."""

        def make() -> Driver:
            count = [0]

            def step(_: Any, now: float) -> float | None:
                count[0] += 1
                return 0.0 if count[0] <= times else None

            return step

        return Schedule(make)

    @staticmethod
    def forever() -> Schedule:
        """Go again forever, with no delay."""
        return Schedule(lambda: lambda _, now: 0.0)

    @staticmethod
    def spaced(seconds: float) -> Schedule:
        """Go again forever, waiting `seconds` between runs."""
        return Schedule(lambda: lambda _, now: seconds)

    @staticmethod
    def fixed(interval: float) -> Schedule:
        """Go again forever, on a fixed grid of `interval` from the first run
        (a run that overruns starts the next at once)."""

        def make() -> Driver:
            start: list[float | None] = [None]

            def step(_: Any, now: float) -> float | None:
                if start[0] is None:
                    start[0] = now
                elapsed = now - start[0]
                return interval - (elapsed % interval)

            return step

        return Schedule(make)

    @staticmethod
    def exponential(base: float, factor: float = 2.0) -> Schedule:
        """Go again forever, waiting base, base*factor, base*factor**2, ..."""

        def make() -> Driver:
            n = [0]

            def step(_: Any, now: float) -> float | None:
                delay = base * factor ** n[0]
                n[0] += 1
                return delay

            return step

        return Schedule(make)

    @staticmethod
    def fibonacci(one: float) -> Schedule:
        """Go again forever, waiting one, one, 2*one, 3*one, 5*one, ..."""

        def make() -> Driver:
            pair = [one, one]

            def step(_: Any, now: float) -> float | None:
                delay = pair[0]
                pair[0], pair[1] = pair[1], pair[0] + pair[1]
                return delay

            return step

        return Schedule(make)

    # --- combinators ---------------------------------------------------------------------------

    def jittered(
        self, low: float = 0.8, high: float = 1.2, rng: random.Random | None = None
    ) -> Schedule:
        """Multiply each delay by a random factor in [low, high]."""
        pick = (rng or random.Random()).uniform

        def make() -> Driver:
            inner = self.driver()

            def step(value: Any, now: float) -> float | None:
                delay = inner(value, now)
                return None if delay is None else delay * pick(low, high)

            return step

        return Schedule(make)

    def up_to(self, seconds: float) -> Schedule:
        """Stop once `seconds` have passed since the first decision."""

        def make() -> Driver:
            inner = self.driver()
            start: list[float | None] = [None]

            def step(value: Any, now: float) -> float | None:
                if start[0] is None:
                    start[0] = now
                if now - start[0] >= seconds:
                    return None
                return inner(value, now)

            return step

        return Schedule(make)

    def while_(self, predicate: Callable[[Any], bool]) -> Schedule:
        """Go on only while `predicate(input)` holds."""

        def make() -> Driver:
            inner = self.driver()
            return lambda value, now: inner(value, now) if predicate(value) else None

        return Schedule(make)

    def _both(
        self, other: Schedule, combine: Callable[[float, float], float], need_both: bool
    ) -> Schedule:
        def make() -> Driver:
            left, right = self.driver(), other.driver()

            def step(value: Any, now: float) -> float | None:
                a, b = left(value, now), right(value, now)
                if a is None or b is None:
                    if need_both:
                        return None
                    return a if b is None else b
                return combine(a, b)

            return step

        return Schedule(make)

    def compose(self, other: Schedule) -> Schedule:
        """Go on while both go on, waiting the sum of their delays."""
        return self._both(other, lambda a, b: a + b, need_both=True)

    def intersect(self, other: Schedule) -> Schedule:
        """Go on while both go on, waiting the longer delay."""
        return self._both(other, max, need_both=True)

    def union(self, other: Schedule) -> Schedule:
        """Go on while either goes on, waiting the shorter delay."""
        return self._both(other, min, need_both=False)


def _after(clock: ClockService, delay: float, then: Effect[A, E, R]) -> Effect[A, E, R]:
    return then if delay <= 0 else clock.sleep(delay).then(then)


def retry(effect: Effect[A, E, R], schedule: Schedule) -> Effect[A, E, R]:
    """Run `effect`; on a typed failure ask the schedule whether and when to try again."""

    def attempt(driver: Driver) -> Effect[A, E, R]:
        def decide(error: E) -> Effect[A, E, R]:
            def with_clock(clock: ClockService) -> Effect[A, E, R]:
                delay = driver(error, clock.now())
                return fail(error) if delay is None else _after(clock, delay, attempt(driver))

            return Clock.flat_map(with_clock)  # pyright: ignore[reportReturnType]

        return effect.catch_all(decide)

    return suspend(lambda: attempt(schedule.driver()))


def repeat(effect: Effect[A, E, R], schedule: Schedule) -> Effect[A, E, R]:
    """Run `effect`; after each success ask the schedule whether and when to run again."""

    def again(driver: Driver) -> Effect[A, E, R]:
        def decide(value: A) -> Effect[A, E, R]:
            def with_clock(clock: ClockService) -> Effect[A, E, R]:
                delay = driver(value, clock.now())
                return succeed(value) if delay is None else _after(clock, delay, again(driver))

            return Clock.flat_map(with_clock)  # pyright: ignore[reportReturnType]

        return effect.flat_map(decide)

    return suspend(lambda: again(schedule.driver()))
