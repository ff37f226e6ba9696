"""`Semaphore` and `Latch`: fibers waiting for permits, or for a gate to open (Effect's
`Effect.makeSemaphore` and `Effect.makeLatch`)."""

from __future__ import annotations

from typing import Any, TypeVar, overload

from effects._internal.constructors import suspend, sync
from effects._internal.core import UNIT, Effect, succeed
from effects._internal.primitives import uninterruptible_mask
from effects._internal.waiting import Waiters, first, wait

A = TypeVar("A")
E = TypeVar("E")
R = TypeVar("R")


class Semaphore:
    """A number of permits that fibers take and release (Effect's `Semaphore`, made by
    `Effect.makeSemaphore`). A fiber taking more permits than are free waits; as permits
    are released, waiters whose need fits are served in the order they came (as in Effect,
    a request that fits is served at once even when larger ones wait)."""

    __slots__ = ("_free", "_waiters")

    def __init__(self, permits: int) -> None:
        """Make a semaphore now, outside an effect (Effect's `unsafeMakeSemaphore`)."""
        if permits < 0:
            raise ValueError(f"permits must be >= 0, got {permits}")
        self._free = permits
        self._waiters: Waiters = {}

    @staticmethod
    def make(permits: int) -> Effect[Semaphore]:
        """A semaphore with `permits` free permits (Effect's `Effect.makeSemaphore`)."""
        return sync(lambda: Semaphore(permits))

    @property
    def available(self) -> Effect[int]:
        """How many permits are free now (Effect's `Semaphore.available`)."""
        return sync(lambda: self._free)

    def take(self, permits: int = 1) -> Effect[int]:
        """Take `permits`, waiting until they are free; succeed with `permits` (Effect's
        `Semaphore.take`). An interrupted wait takes nothing."""

        def start() -> Effect[int]:
            if self._free >= permits:
                self._free -= permits
                return succeed(permits)
            return wait(self._waiters, permits, give_back=self._give_back)

        return suspend(start)

    def release(self, permits: int = 1) -> Effect[int]:
        """Give back `permits`, waking the waiters they serve; succeed with the permits then
        free (Effect's `Semaphore.release`)."""

        def go() -> int:
            self._give_back(permits)
            return self._free

        return sync(go)

    @overload
    def with_permits(self, permits: int) -> _WithPermits: ...
    @overload
    def with_permits(self, permits: int, effect: Effect[A, E, R]) -> Effect[A, E, R]: ...
    def with_permits(
        self, permits: int, effect: Effect[Any, Any, Any] | None = None
    ) -> _WithPermits | Effect[Any, Any, Any]:
        """Run an effect holding `permits`, released however it ends (Effect's
        `Semaphore.withPermits`): `sem.with_permits(1)(eff)` or `sem.with_permits(1, eff)`.
        Interrupted while waiting, the fiber holds nothing; interrupted while running,
        it gives the permits back."""
        wrap = _WithPermits(self, permits)
        return wrap if effect is None else wrap(effect)

    def _give_back(self, permits: int) -> None:
        self._free += permits
        waiters = self._waiters
        for waiter in [w for w in waiters if w.payload <= self._free]:
            if waiter.payload <= self._free:
                del waiters[waiter]
                self._free -= waiter.payload
                waiter.wake(waiter.payload)

    def __repr__(self) -> str:
        return f"Semaphore(free={self._free}, waiting={len(self._waiters)})"


class _WithPermits:
    """`semaphore.with_permits(n)`: runs an effect holding `n` permits."""

    __slots__ = ("permits", "semaphore")

    def __init__(self, semaphore: Semaphore, permits: int) -> None:
        self.semaphore = semaphore
        self.permits = permits

    def __call__(self, effect: Effect[A, E, R]) -> Effect[A, E, R]:
        sem, n = self.semaphore, self.permits
        return uninterruptible_mask(
            lambda restore: restore(sem.take(n)).then(restore(effect).ensuring(sem.release(n)))
        )


class Latch:
    """A gate fibers wait at (Effect's `Latch`, made by `Effect.makeLatch`): `await_`
    passes when it is open and waits while it is closed; `open` lets every waiter through
    and keeps it open, `release` lets the current waiters through and leaves it closed."""

    __slots__ = ("_is_open", "_waiters")

    def __init__(self, open: bool = False) -> None:
        """Make a latch now, outside an effect (Effect's `Effect.unsafeMakeLatch`)."""
        self._is_open = open
        self._waiters: Waiters = {}

    @staticmethod
    def make(open: bool = False) -> Effect[Latch]:
        """A latch, closed unless `open` (Effect's `Effect.makeLatch`)."""
        return sync(lambda: Latch(open))

    @property
    def open(self) -> Effect[None]:
        """Open the latch and let every waiter through (Effect's `Latch.open`)."""

        def go() -> None:
            self._is_open = True
            self._release_all()

        return sync(go)

    @property
    def close(self) -> Effect[None]:
        """Close the latch: `await_` waits again (Effect's `Latch.close`)."""

        def go() -> None:
            self._is_open = False

        return sync(go)

    @property
    def release(self) -> Effect[None]:
        """Let the fibers waiting now through, leaving the latch as it is (Effect's
        `Latch.release`)."""
        return sync(self._release_all)

    @property
    def await_(self) -> Effect[None]:
        """Wait until the latch is open or released (Effect's `Latch.await`; `await` is a
        Python keyword)."""
        return suspend(lambda: UNIT if self._is_open else wait(self._waiters).as_(None))

    def when_open(self, effect: Effect[A, E, R]) -> Effect[A, E, R]:
        """Run `effect` once the latch lets this fiber through (Effect's `Latch.whenOpen`)."""
        return self.await_.then(effect)

    def _release_all(self) -> None:
        waiters = self._waiters
        while waiters:
            first(waiters).wake(None)

    def __repr__(self) -> str:
        return f"Latch({'open' if self._is_open else 'closed'}, waiting={len(self._waiters)})"


__all__ = ["Latch", "Semaphore"]
