"""`Ref[A]`: a mutable reference read and changed by effects (Effect's `Ref`).

Fibers share a `Ref`; each operation is atomic (fibers interleave only between effects),
so `update` and `modify` never lose a write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from effects._internal.constructors import sync
from effects._internal.core import Effect

A = TypeVar("A")
B = TypeVar("B")
T = TypeVar("T")  # make's own: a static method does not solve the class's A


class Ref(Generic[A]):
    """A mutable reference to a value of type `A` (Effect's `Ref`). Make one with
    `Ref.make(value)`; every operation is an effect, done when it runs."""

    __slots__ = ("_value",)

    def __init__(self, value: A) -> None:
        """Make a `Ref` now, outside an effect (Effect's `Ref.unsafeMake`)."""
        self._value = value

    @staticmethod
    def make(value: T) -> Effect[Ref[T]]:
        """A new `Ref` holding `value` (Effect's `Ref.make`)."""
        return sync(lambda: Ref(value))

    @property
    def get(self) -> Effect[A]:
        """The current value (Effect's `Ref.get`)."""
        return sync(lambda: self._value)

    def set(self, value: A) -> Effect[None]:
        """Replace the value (Effect's `Ref.set`)."""
        return sync(lambda: self._set(value))

    def update(self, f: Callable[[A], A]) -> Effect[None]:
        """Replace the value `a` by `f(a)` (Effect's `Ref.update`)."""
        return sync(lambda: self._set(f(self._value)))

    def modify(self, f: Callable[[A], tuple[B, A]]) -> Effect[B]:
        """Replace the value `a` by the second of `f(a)`, succeed with the first (Effect's
        `Ref.modify`)."""
        return sync(lambda: self._modify(f))

    def get_and_set(self, value: A) -> Effect[A]:
        """Replace the value, succeed with the old one (Effect's `Ref.getAndSet`)."""
        return self.modify(lambda old: (old, value))

    def get_and_update(self, f: Callable[[A], A]) -> Effect[A]:
        """Replace `a` by `f(a)`, succeed with `a` (Effect's `Ref.getAndUpdate`)."""
        return self.modify(lambda old: (old, f(old)))

    def update_and_get(self, f: Callable[[A], A]) -> Effect[A]:
        """Replace `a` by `f(a)`, succeed with `f(a)` (Effect's `Ref.updateAndGet`)."""

        def go(old: A) -> tuple[A, A]:
            new = f(old)
            return new, new

        return self.modify(go)

    def _set(self, value: A) -> None:
        self._value = value

    def _modify(self, f: Callable[[A], tuple[B, A]]) -> B:
        result, self._value = f(self._value)
        return result

    def __repr__(self) -> str:
        return f"Ref({self._value!r})"


__all__ = ["Ref"]
