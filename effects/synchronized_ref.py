"""`SynchronizedRef[A]`: a `Ref` whose updates may run effects, one at a time (Effect's
`SynchronizedRef`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from effects._internal.constructors import suspend, sync
from effects._internal.core import Effect
from effects.ref import Ref
from effects.synchronization import Semaphore

A = TypeVar("A")
B = TypeVar("B")
T = TypeVar("T")  # make's own: a static method does not solve the class's A
E = TypeVar("E")
R = TypeVar("R")


class SynchronizedRef(Ref[A]):
    """A `Ref` whose changes are serialized (Effect's `SynchronizedRef`): `update_effect`
    and `modify_effect` run an effect to compute the new value, and no other change of this
    ref starts until it ends. A failing effect leaves the value as it was. `get` does not
    wait."""

    __slots__ = ("_lock",)

    def __init__(self, value: A) -> None:
        """Make one now, outside an effect (Effect's `SynchronizedRef.unsafeMake`)."""
        super().__init__(value)
        self._lock = Semaphore(1)

    @staticmethod
    def make(value: T) -> Effect[SynchronizedRef[T]]:
        """A new `SynchronizedRef` holding `value` (Effect's `SynchronizedRef.make`)."""
        return sync(lambda: SynchronizedRef(value))

    def modify_effect(self, f: Callable[[A], Effect[tuple[B, A], E, R]]) -> Effect[B, E, R]:
        """Run `f(a)`; set the value to the second of its result, succeed with the first
        (Effect's `SynchronizedRef.modifyEffect`)."""

        def start() -> Effect[B, E, R]:
            return f(self._value).map(self._modify_with)

        return self._lock.with_permits(1)(suspend(start))

    def update_effect(self, f: Callable[[A], Effect[A, E, R]]) -> Effect[None, E, R]:
        """Set the value `a` to what `f(a)` succeeds with (Effect's
        `SynchronizedRef.updateEffect`)."""
        return self.modify_effect(lambda a: f(a).map(lambda new: (None, new)))

    def get_and_update_effect(self, f: Callable[[A], Effect[A, E, R]]) -> Effect[A, E, R]:
        """`update_effect`, succeeding with the old value (Effect's
        `SynchronizedRef.getAndUpdateEffect`)."""
        return self.modify_effect(lambda a: f(a).map(lambda new: (a, new)))

    def update_and_get_effect(self, f: Callable[[A], Effect[A, E, R]]) -> Effect[A, E, R]:
        """`update_effect`, succeeding with the new value (Effect's
        `SynchronizedRef.updateAndGetEffect`)."""
        return self.modify_effect(lambda a: f(a).map(lambda new: (new, new)))

    # The plain changes wait their turn too, as in Effect.

    def set(self, value: A) -> Effect[None]:
        return self._lock.with_permits(1)(super().set(value))

    def update(self, f: Callable[[A], A]) -> Effect[None]:
        return self._lock.with_permits(1)(super().update(f))

    def modify(self, f: Callable[[A], tuple[B, A]]) -> Effect[B]:
        return self._lock.with_permits(1)(super().modify(f))

    def _modify_with(self, result: tuple[B, A]) -> B:
        out, self._value = result
        return out

    def __repr__(self) -> str:
        return f"SynchronizedRef({self._value!r})"


__all__ = ["SynchronizedRef"]
