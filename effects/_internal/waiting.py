"""Fibers waiting on a primitive (a queue's takers, a semaphore's acquirers, ...).

A `Waiter` is one suspended fiber. The primitive keeps its waiters in an ordered set, wakes
one by handing it a value, or fails it. Interrupting a fiber that has not been woken
removes its waiter (`wait`'s canceler), so nothing stale is left. A fiber woken and then
interrupted before it ran again would lose what it was handed (an item, permits): `wait`'s
`give_back` returns it to the primitive.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from effects._internal.constructors import suspend, sync
from effects._internal.core import Effect, fail_cause, succeed
from effects._internal.primitives import Resume, async_
from effects.cause import Cause
from effects.exit import Exit, Failure

T = TypeVar("T")


class Waiter(Generic[T]):
    """A suspended fiber; `wake(value)` or `fail(cause)` resumes it, once."""

    __slots__ = ("_resume", "payload", "value", "woken")

    def __init__(self, payload: Any = None) -> None:
        self._resume: Resume | None = None
        self.payload = payload  # what the fiber waits with (permits wanted, items to offer)
        self.woken = False
        self.value: Any = None

    def wake(self, value: T) -> None:
        self.woken = True
        self.value = value
        self._resume_with(succeed(value))

    def fail(self, cause: Cause[Any]) -> None:
        self._resume_with(fail_cause(cause))

    def _resume_with(self, effect: Effect[Any, Any, Any]) -> None:
        resume, self._resume = self._resume, None
        if resume is not None:
            resume(effect)


Waiters = dict[Waiter[Any], None]
"""An ordered set of waiters, first come first."""


def first(waiters: Waiters) -> Waiter[Any]:
    """The longest-waiting waiter, removed from `waiters`."""
    waiter = next(iter(waiters))
    del waiters[waiter]
    return waiter


def wait(
    waiters: Waiters,
    payload: Any = None,
    give_back: Callable[[Any], None] | None = None,
) -> Effect[Any]:
    """Suspend the fiber as a new waiter in `waiters` until it is woken or failed.

    Interrupted while waiting, the waiter leaves `waiters`; interrupted after being woken,
    `give_back(value)` is called with what it was handed."""

    def start() -> Effect[Any]:
        waiter: Waiter[Any] = Waiter(payload)

        def register(resume: Resume) -> Callable[[], None]:
            waiter._resume = resume  # pyright: ignore[reportPrivateUsage]
            waiters[waiter] = None
            return lambda: _leave(waiters, waiter)

        suspended = async_(register)
        if give_back is None:
            return suspended
        back = give_back

        def settle(exit_: Exit[Any, Any]) -> Effect[None]:
            # an exit handler, not a catch: it runs in a fiber being interrupted too
            if isinstance(exit_, Failure) and waiter.woken:
                return sync(lambda: back(waiter.value))
            return succeed(None)

        return suspended.on_exit(settle)

    return suspend(start)


def _leave(waiters: Waiters, waiter: Waiter[Any]) -> None:
    waiter._resume = None  # pyright: ignore[reportPrivateUsage]
    waiters.pop(waiter, None)
