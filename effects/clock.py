"""The `Clock` service: the current time and sleeping. `TestClock` moves time by hand.

As Effect's `Clock`, a clock is read two ways: `now()` on the service (Effect's
`unsafeCurrentTimeMillis`), which the runtime itself uses for log and span times and
schedules, and the effect `effects.clock.now()` (Effect's `Clock.currentTimeMillis`, the
service's `current_time()`), what a program asks for when it wants the time. A clock may
answer them differently: a confect query's answers `now()` with a time frozen for the call
and counts `current_time()` as having read real time (see docs/confect.md).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Any, Protocol

from effects.context import Reference
from effects.effect import (
    Canceler,
    Effect,
    Resume,
    async_,
    succeed,
    suspend,
    sync,
    with_fiber,
    yield_now,
)


class ClockService(Protocol):
    """What a clock offers: `now()` in seconds since the epoch, `current_time()` the same
    as an effect (what `effects.clock.now()` runs), and `sleep(seconds)`."""

    def now(self) -> float: ...

    def current_time(self) -> Effect[float]: ...

    def sleep(self, seconds: float) -> Effect[None]: ...


class LiveClock:
    """Wall-clock time; sleeping uses the asyncio loop's timer."""

    __slots__ = ()

    def now(self) -> float:
        return time.time()

    def current_time(self) -> Effect[float]:
        return sync(time.time)

    def sleep(self, seconds: float) -> Effect[None]:
        if seconds <= 0:
            return yield_now()

        def register(resume: Resume) -> Canceler:
            handle = asyncio.get_running_loop().call_later(seconds, resume, _UNIT)
            return lambda: handle.cancel()

        return async_(register, needs_loop=True)


class Clock(Reference["Clock", ClockService], default=LiveClock()):
    """The clock service key. Where no other clock is provided, fibers use the live one."""


class TestClock:
    """A clock that moves only when told: `TestClock.adjust(seconds)` wakes sleepers in order.

    Provide it with `.provide(TestClock.layer())`. Time starts at 0.0.
    """

    __slots__ = ("_now", "_seq", "_sleepers")
    __test__ = False  # not a pytest test class

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, list[Resume | None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def current_time(self) -> Effect[float]:
        return sync(self.now)

    def sleep(self, seconds: float) -> Effect[None]:
        if seconds <= 0:
            return yield_now()

        def register(resume: Resume) -> Canceler:
            slot: list[Resume | None] = [resume]
            heapq.heappush(self._sleepers, (self._now + seconds, next(self._seq), slot))

            def cancel() -> None:
                slot[0] = None

            return cancel

        return async_(register)

    def sleepers(self) -> int:
        """How many fibers are sleeping on this clock."""
        return sum(1 for _, _, slot in self._sleepers if slot[0] is not None)

    def advance(self, seconds: float) -> Effect[None]:
        """Move time forward by `seconds`, waking due sleepers in time order and letting
        each run until it waits again."""

        def step(target: float) -> Effect[None]:
            def go() -> Effect[None]:
                while self._sleepers and self._sleepers[0][0] <= target:
                    wake_at, _, slot = heapq.heappop(self._sleepers)
                    resume = slot[0]
                    if resume is None:
                        continue
                    self._now = max(self._now, wake_at)
                    resume(_UNIT)
                    return _settle().then(step(target))
                self._now = max(self._now, target)
                return _UNIT

            return suspend(go)

        return _settle().then(suspend(lambda: step(self._now + seconds)))

    @staticmethod
    def adjust(seconds: float) -> Effect[None, Any, Clock]:
        """Move the provided `TestClock` forward by `seconds` (fails as a defect if the
        clock in force is not a `TestClock`)."""

        def go(clock: ClockService) -> Effect[None]:
            if not isinstance(clock, TestClock):
                raise TypeError("TestClock.adjust needs a TestClock: provide TestClock.layer()")
            return clock.advance(seconds)

        return Clock.flat_map(go)

    @staticmethod
    def layer() -> Any:
        """A layer providing a fresh `TestClock` as the `Clock`."""
        from effects.layer import Layer

        return Layer.effect(Clock, sync(TestClock))


def _settle() -> Effect[None]:
    """Yield until every fiber that was woken has run to its next wait."""

    def check(fiber: Any) -> Effect[None]:
        if fiber.scheduler.pending == 0:
            return _UNIT
        return yield_now().then(suspend(_settle))

    return with_fiber(check)


def now() -> Effect[float, Any, Any]:
    """The current time in seconds since the epoch, from the `Clock` in force (its
    `current_time()`)."""
    return Clock.flat_map(lambda clock: clock.current_time())


def sleep(seconds: float) -> Effect[None, Any, Any]:
    """Sleep `seconds` on the `Clock` in force (a `TestClock` needs `adjust`)."""
    return Clock.flat_map(lambda clock: clock.sleep(seconds))


_UNIT = succeed(None)
