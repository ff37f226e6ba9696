"""The primitives the interpreter does not inline: each one `evaluate`s itself on the fiber.

These are the operations a program runs seldom next to its `flat_map`s and generator
steps: reading the fiber, adding services, changing interruptibility, suspending on a
callback, yielding. Each costs a method call instead of a branch in the interpreter's loop,
and each is declared beside its constructor (Effect v4's `makePrimitive`). What a primitive
changes on the fiber, a `Frame` it pushes on the fiber's stack puts back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Never, TypeVar

from typing_extensions import TypeVar as DefaultTypeVar

from effects._internal.core import OP_FRAME, OP_PRIMITIVE, UNIT, Effect, fail_cause
from effects.cause import Cause, Sequential

if TYPE_CHECKING:
    from effects._internal.fiber import FiberRuntime

A = DefaultTypeVar("A", covariant=True, default=Any)
E = DefaultTypeVar("E", covariant=True, default=Never)
R = DefaultTypeVar("R", covariant=True, default=Never)
A2 = TypeVar("A2")
E2 = TypeVar("E2")
R2 = TypeVar("R2")

_new = object.__new__


class Primitive(Effect[A, E, R], ABC):
    """An effect the interpreter runs by calling its `evaluate`."""

    __slots__ = ()
    _op = OP_PRIMITIVE

    @abstractmethod
    def evaluate(self, fiber: FiberRuntime[Any, Any]) -> Effect[Any, Any, Any] | None:
        """Do this operation on `fiber` (pushing a `Frame`, changing the fiber's context or
        interruptibility, as it needs); return the effect to run next, or None when the
        fiber has suspended (whatever resumes it goes through its scheduler)."""


class Frame(ABC):
    """What a primitive leaves on the fiber's stack to put back what it changed when the
    effect it started ends, however it ends."""

    __slots__ = ()
    _op = OP_FRAME

    @abstractmethod
    def on_success(self, fiber: FiberRuntime[Any, Any]) -> Effect[Any, Any, Any] | None:
        """Put back, the effect having succeeded; return an effect to run instead of
        returning its value, or None."""

    @abstractmethod
    def on_failure(self, fiber: FiberRuntime[Any, Any], cause: Cause[Any]) -> Cause[Any]:
        """Put back, the effect having failed with `cause`; return the cause to fail with."""


# --- the fiber ----------------------------------------------------------------------------------


class WithFiber(Primitive[A, E, R]):
    """Builds the effect to run from the running fiber."""

    __slots__ = ("f",)
    f: Callable[[FiberRuntime[Any, Any]], Effect[Any, Any, Any]]

    def evaluate(self, fiber: FiberRuntime[Any, Any]) -> Effect[Any, Any, Any]:
        return self.f(fiber)


def with_fiber(f: Callable[[FiberRuntime], Effect[A2, E2, R2]]) -> Effect[A2, E2, R2]:
    """Low-level: build an effect from the running fiber."""
    node = _new(WithFiber)
    node.f = f
    return node


def interrupt() -> Effect[Never]:
    """Interrupt the current fiber."""
    return with_fiber(lambda fiber: fail_cause(Cause.interrupt(fiber.id)))


# --- services -----------------------------------------------------------------------------------


class Provide(Primitive[A, E, R]):
    """Runs `first` with `services` added to the fiber's context, which is put back after."""

    __slots__ = ("first", "services")
    first: Effect[Any, Any, Any]
    services: Mapping[Any, Any]

    def evaluate(self, fiber: FiberRuntime[Any, Any]) -> Effect[Any, Any, Any]:
        restore = _new(RestoreContext)
        restore.context = fiber.context
        fiber.stack.append(restore)
        fiber.context = {**fiber.context, **self.services}
        return self.first


def add_services(effect: Effect[A2, E2, Any], services: Mapping[Any, Any]) -> Effect[A2, E2, Never]:
    """Run `effect` with `services` (keyed by tag) added to those in force."""
    node = _new(Provide)
    node.first = effect
    node.services = services
    return node


class RestoreContext(Frame):
    """Puts back the context in force before a `Provide`."""

    __slots__ = ("context",)
    context: dict[Any, Any]

    def on_success(self, fiber: FiberRuntime[Any, Any]) -> None:
        fiber.context = self.context

    def on_failure(self, fiber: FiberRuntime[Any, Any], cause: Cause[Any]) -> Cause[Any]:
        fiber.context = self.context
        return cause


# --- interruptibility ---------------------------------------------------------------------------


class SetInterruptible(Primitive[A, E, R]):
    """Runs `first` interruptibly or not (`flag`); becoming interruptible acts on a pending
    interrupt at once."""

    __slots__ = ("first", "flag")
    first: Effect[Any, Any, Any]
    flag: bool

    def evaluate(self, fiber: FiberRuntime[Any, Any]) -> Effect[Any, Any, Any]:
        restore = _new(RestoreInterruptible)
        restore.flag = fiber.interruptible
        fiber.stack.append(restore)
        fiber.interruptible = self.flag
        cause = fiber.take_interrupt()
        return self.first if cause is None else fail_cause(cause)


class RestoreInterruptible(Frame):
    """Puts back the interruptibility in force before a `SetInterruptible`. Becoming
    interruptible again acts on a pending interrupt, however the region ended: the
    interrupt replaces its outcome (as Effect v4's setInterruptible does)."""

    __slots__ = ("flag",)
    flag: bool

    def on_success(self, fiber: FiberRuntime[Any, Any]) -> Effect[Any, Any, Any] | None:
        fiber.interruptible = self.flag
        cause = fiber.take_interrupt()
        return None if cause is None else fail_cause(cause)

    def on_failure(self, fiber: FiberRuntime[Any, Any], cause: Cause[Any]) -> Cause[Any]:
        fiber.interruptible = self.flag
        pending = fiber.take_interrupt()
        return cause if pending is None else Sequential(cause, pending)


def _set_interruptible(effect: Effect[A2, E2, R2], flag: bool) -> Effect[A2, E2, R2]:
    node = _new(SetInterruptible)
    node.first = effect
    node.flag = flag
    return node


def uninterruptible(effect: Effect[A2, E2, R2]) -> Effect[A2, E2, R2]:
    """Run `effect` so that interruption waits until it is done."""
    return _set_interruptible(effect, False)


def interruptible(effect: Effect[A2, E2, R2]) -> Effect[A2, E2, R2]:
    """Run `effect` interruptibly (the default)."""
    return _set_interruptible(effect, True)


def uninterruptible_mask(
    f: Callable[[Callable[[Effect[Any, Any, Any]], Effect[Any, Any, Any]]], Effect[A2, E2, R2]],
) -> Effect[A2, E2, R2]:
    """Run `f(restore)` uninterruptibly; `restore(eff)` runs `eff` with the outer interruptibility."""

    def body(fiber: FiberRuntime) -> Effect[A2, E2, R2]:
        outer = fiber.interruptible
        return _set_interruptible(f(lambda eff: _set_interruptible(eff, outer)), False)

    return with_fiber(body)


def check_interruptible(f: Callable[[bool], Effect[A2, E2, R2]]) -> Effect[A2, E2, R2]:
    """Run `f(interruptible)` with the fiber's interruptibility now (Effect's
    `checkInterruptible`)."""
    return with_fiber(lambda fiber: f(fiber.interruptible))


# --- suspending ---------------------------------------------------------------------------------

Resume = Callable[[Effect[Any, Any, Any]], None]
Canceler = Callable[[], "Effect[Any, Never, Any] | None"]


class Async(Primitive[A, E, R]):
    """Suspends the fiber until `register(resume)` calls `resume(effect)`.

    `register` may return a canceler, called on interruption; it may return an effect
    that the interrupted fiber runs (e.g. to wait until the work has really stopped).
    `needs_loop` says that `register` uses the running asyncio loop.
    """

    __slots__ = ("needs_loop", "register")
    register: Callable[[Resume], Canceler | None]
    needs_loop: bool

    def evaluate(self, fiber: FiberRuntime[Any, Any]) -> None:
        scheduler = fiber.scheduler
        if self.needs_loop and scheduler.loop is None:
            scheduler.deferred.append((fiber, self))  # started when a loop is attached
        else:
            fiber.start_async(self)


def async_(
    register: Callable[[Resume], Canceler | None], needs_loop: bool = False
) -> Effect[Any, Any, Any]:
    """Low-level: suspend until `register`'s `resume(effect)` is called (see `Async`)."""
    node = _new(Async)
    node.register = register
    node.needs_loop = needs_loop
    return node


def never() -> Effect[Never]:
    """An effect that never ends (until interrupted)."""
    return async_(lambda resume: None)


class YieldNow(Primitive[None, Never, Never]):
    """Lets the other runnable fibers run, then goes on."""

    __slots__ = ()

    def evaluate(self, fiber: FiberRuntime[Any, Any]) -> None:
        fiber.scheduler.schedule(fiber, UNIT)


_YIELD = _new(YieldNow)


def yield_now() -> Effect[None]:
    """Let other fibers run before continuing."""
    return _YIELD
