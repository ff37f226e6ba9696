"""`FiberRef[A]`: a value each fiber has its own copy of (Effect's `FiberRef`).

A fiber forked takes a copy of its parent's values (through each FiberRef's `fork`), and
a fiber joined with success gives the values it changed back to the joining fiber
(through `join`), as do the winner of `effects.race` and the children of a concurrent
`effects.all` / `for_each` that succeeds. Nothing is copied at fork until some FiberRef
has been set in the forking fiber.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from effects._internal.core import Effect, succeed
from effects._internal.primitives import with_fiber

if TYPE_CHECKING:
    from effects._internal.fiber import FiberRuntime

A = TypeVar("A")
B = TypeVar("B")
T = TypeVar("T")  # make's own: a static method does not solve the class's A
E = TypeVar("E")
R = TypeVar("R")

_UNSET: Any = object()


def _identity(value: A) -> A:
    return value


def _child_wins(parent: A, child: A) -> A:
    return child


class FiberRef(Generic[A]):
    """A fiber-local variable (Effect's `FiberRef`). `initial` is its value in a fiber
    where it was never set; `fork(value)` is the copy a child starts with (the same value
    by default), `join(parent, child)` the value a parent keeps after joining a child that
    changed it (the child's by default)."""

    __slots__ = ("fork", "initial", "join")

    def __init__(
        self,
        initial: A,
        fork: Callable[[A], A] = _identity,
        join: Callable[[A, A], A] = _child_wins,
    ) -> None:
        """Make one now, outside an effect (Effect's `FiberRef.unsafeMake`): the usual way
        for a FiberRef kept at module level."""
        self.initial = initial
        self.fork = fork
        self.join = join

    @staticmethod
    def make(
        initial: T,
        fork: Callable[[T], T] = _identity,
        join: Callable[[T, T], T] = _child_wins,
    ) -> Effect[FiberRef[T]]:
        """A new FiberRef, set to `initial` in the calling fiber so that its children get
        `fork(initial)` (Effect's `FiberRef.make`, which is scoped there; here it needs no
        scope: the values live with the fibers)."""

        def go(fiber: FiberRuntime[Any, Any]) -> Effect[FiberRef[T]]:
            ref = FiberRef(initial, fork, join)
            fiber.set_ref(ref, initial)
            return succeed(ref)

        return with_fiber(go)

    @property
    def get(self) -> Effect[A]:
        """This fiber's value (Effect's `FiberRef.get`)."""
        return with_fiber(lambda fiber: succeed(self._value(fiber)))

    def set(self, value: A) -> Effect[None]:
        """Set this fiber's value (Effect's `FiberRef.set`)."""

        def go(fiber: FiberRuntime[Any, Any]) -> Effect[None]:
            fiber.set_ref(self, value)
            return succeed(None)

        return with_fiber(go)

    def modify(self, f: Callable[[A], tuple[B, A]]) -> Effect[B]:
        """Set this fiber's value `a` to the second of `f(a)`; succeed with the first
        (Effect's `FiberRef.modify`)."""

        def go(fiber: FiberRuntime[Any, Any]) -> Effect[B]:
            result, new = f(self._value(fiber))
            fiber.set_ref(self, new)
            return succeed(result)

        return with_fiber(go)

    def update(self, f: Callable[[A], A]) -> Effect[None]:
        """Set this fiber's value `a` to `f(a)` (Effect's `FiberRef.update`)."""
        return self.modify(lambda a: (None, f(a)))

    def get_and_set(self, value: A) -> Effect[A]:
        """Set this fiber's value; succeed with the old one (Effect's
        `FiberRef.getAndSet`)."""
        return self.modify(lambda a: (a, value))

    def reset(self) -> Effect[None]:
        """Set this fiber's value back to `initial` (Effect's `FiberRef.reset`)."""
        return self.set(self.initial)

    @overload
    def locally(self, value: A) -> Callable[[Effect[B, E, R]], Effect[B, E, R]]: ...
    @overload
    def locally(self, value: A, effect: Effect[B, E, R]) -> Effect[B, E, R]: ...
    def locally(self, value: A, effect: Effect[Any, Any, Any] | None = None) -> Any:
        """Run an effect with this fiber's value set to `value`, put back after, however it
        ends (Effect's `Effect.locally`): `ref.locally(v)(eff)` or `ref.locally(v, eff)`."""
        if effect is None:
            return self.locally_with(lambda _: value)
        return self.locally_with(lambda _: value, effect)

    @overload
    def locally_with(self, f: Callable[[A], A]) -> Callable[[Effect[B, E, R]], Effect[B, E, R]]: ...
    @overload
    def locally_with(self, f: Callable[[A], A], effect: Effect[B, E, R]) -> Effect[B, E, R]: ...
    def locally_with(self, f: Callable[[A], A], effect: Effect[Any, Any, Any] | None = None) -> Any:
        """Run an effect with this fiber's value `a` set to `f(a)`, put back after (Effect's
        `Effect.locallyWith`)."""

        def wrap(inner: Effect[Any, Any, Any]) -> Effect[Any, Any, Any]:
            def go(fiber: FiberRuntime[Any, Any]) -> Effect[Any, Any, Any]:
                refs = fiber.fiber_refs
                old = _UNSET if refs is None else refs.get(self, _UNSET)
                fiber.set_ref(self, f(self.initial if old is _UNSET else old))
                return inner.ensuring(with_fiber(lambda me: self._restore(me, old)))

            return with_fiber(go)

        return wrap if effect is None else wrap(effect)

    def _value(self, fiber: FiberRuntime[Any, Any]) -> A:
        refs = fiber.fiber_refs
        return self.initial if refs is None else refs.get(self, self.initial)

    def _restore(self, fiber: FiberRuntime[Any, Any], old: Any) -> Effect[None]:
        if old is _UNSET:
            refs = fiber.fiber_refs
            if refs is not None and self in refs:
                fiber.set_ref(self, self.initial)
                del refs[self]  # set_ref made the map this fiber's own
        else:
            fiber.set_ref(self, old)
        return succeed(None)

    def __repr__(self) -> str:
        return f"FiberRef(initial={self.initial!r})"


__all__ = ["FiberRef"]
