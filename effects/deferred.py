"""`Deferred[A, E]`: a value set once that fibers wait for (Effect's `Deferred`)."""

from __future__ import annotations

from typing import Any, Generic, Never, cast

from typing_extensions import TypeVar

from effects._internal.constructors import suspend, sync
from effects._internal.core import Effect, fail_cause, succeed
from effects._internal.primitives import with_fiber
from effects._internal.waiting import Waiters, first, wait
from effects.cause import Cause
from effects.exit import Exit, Failure, Success

A = TypeVar("A", default=Any)
E = TypeVar("E", default=Never)
R = TypeVar("R")


class Deferred(Generic[A, E]):
    """A one-time variable (Effect's `Deferred`): fibers `await_()` it until it is
    completed, once, with a success, a failure or an interruption; completing it again
    does nothing (the completing effects succeed with False)."""

    __slots__ = ("_exit", "_waiters")

    def __init__(self) -> None:
        """Make a deferred now, outside an effect (Effect's `Deferred.unsafeMake`)."""
        self._exit: Exit[A, E] | None = None
        self._waiters: Waiters = {}

    @classmethod
    def make(cls) -> Effect[Deferred[A, E]]:
        """A new, empty deferred (Effect's `Deferred.make`): give its types,
        `Deferred[int, Boom].make()`."""
        return sync(cls)

    def await_(self) -> Effect[A, E]:
        """Wait until completed; succeed or fail as it was completed (Effect's
        `Deferred.await`; `await` is a Python keyword). Interruptible."""

        def start() -> Effect[A, E]:
            if self._exit is not None:
                return _from_exit(self._exit)
            return wait(self._waiters).flat_map(lambda _: _from_exit(cast(Exit[A, E], self._exit)))

        return suspend(start)

    def done(self, exit_: Exit[A, E]) -> Effect[bool]:
        """Complete with `exit_`; succeed with whether this call completed it (Effect's
        `Deferred.done`)."""
        return sync(lambda: self._complete(exit_))

    def complete(self, effect: Effect[A, E, R]) -> Effect[bool, Never, R]:
        """Run `effect` and complete with its outcome; succeed with whether this call
        completed it (Effect's `Deferred.complete`: every waiter sees that one outcome)."""
        return effect.exit().flat_map(self.done)

    def succeed(self, value: A) -> Effect[bool]:
        """Complete with the success `value` (Effect's `Deferred.succeed`)."""
        return self.done(Success(value))

    def fail(self, error: E) -> Effect[bool]:
        """Complete with the typed failure `error` (Effect's `Deferred.fail`)."""
        return self.done(Failure(Cause.fail(error)))

    def fail_cause(self, cause: Cause[E]) -> Effect[bool]:
        """Complete with the failure `cause` (Effect's `Deferred.failCause`)."""
        return self.done(Failure(cause))

    def die(self, defect: BaseException) -> Effect[bool]:
        """Complete with the defect `defect` (Effect's `Deferred.die`)."""
        return self.done(Failure(Cause.die(defect)))

    def interrupt(self) -> Effect[bool]:
        """Complete with an interruption by the calling fiber: waiters are interrupted
        (Effect's `Deferred.interrupt`)."""
        return with_fiber(lambda fiber: self.done(Failure(Cause.interrupt(fiber.id))))

    def poll(self) -> Effect[Exit[A, E] | None]:
        """The `Exit` it was completed with, or None if it is not yet (Effect's
        `Deferred.poll`, which gives an `Option` of an effect)."""
        return sync(lambda: self._exit)

    def is_done(self) -> Effect[bool]:
        """Whether it is completed (Effect's `Deferred.isDone`)."""
        return sync(lambda: self._exit is not None)

    def _complete(self, exit_: Exit[A, E]) -> bool:
        if self._exit is not None:
            return False
        self._exit = exit_
        waiters = self._waiters
        while waiters:
            first(waiters).wake(None)
        return True

    def __repr__(self) -> str:
        state = "pending" if self._exit is None else repr(self._exit)
        return f"Deferred({state}, waiting={len(self._waiters)})"


def _from_exit(exit_: Exit[Any, Any]) -> Effect[Any, Any]:
    if isinstance(exit_, Success):
        return succeed(exit_.value)
    return fail_cause(cast(Failure[Any], exit_).cause)


__all__ = ["Deferred"]
