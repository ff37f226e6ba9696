"""Why an effect failed: typed failures, defects, interruption, and their combinations."""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar, cast

from typing_extensions import TypeVar as DefaultTypeVar

from effects.errors import FailureValue, Interrupted

E = DefaultTypeVar("E", covariant=True, default=Any)
E2 = TypeVar("E2")


class Cause(Generic[E]):
    """The full story of a failure. Use the constructors on this class to build one."""

    __slots__ = ()

    # --- queries -------------------------------------------------------------------------

    def failures(self) -> list[E]:
        """Every typed error in this cause, in order."""
        return [c.error for c in self._leaves() if isinstance(c, Fail)]

    def defects(self) -> list[BaseException]:
        """Every defect (unexpected exception) in this cause, in order."""
        return [c.defect for c in self._leaves() if isinstance(c, Die)]

    def is_interrupted(self) -> bool:
        """True when the cause contains an interruption."""
        return any(isinstance(c, Interrupt) for c in self._leaves())

    def is_interrupted_only(self) -> bool:
        """True when the cause holds no failure and no defect: every leaf is an interruption
        or empty, so the empty cause counts (Effect's `isInterruptedOnly`)."""
        return all(isinstance(c, (Interrupt, Empty)) for c in self._leaves())

    def first_failure(self) -> Fail[E] | None:
        """The first typed failure anywhere in the cause, left to right, or None (the
        `Fail` that Effect's `failureOrCause` recovers)."""
        for leaf in self._leaves():
            if isinstance(leaf, Fail):
                return leaf
        return None

    def strip_failures(self) -> Cause[Any]:
        """The same cause without its typed failures (Effect's `stripFailures`)."""
        if isinstance(self, Fail):
            return EMPTY
        if isinstance(self, Sequential):
            return Cause.sequential(self.left.strip_failures(), self.right.strip_failures())
        if isinstance(self, Parallel):
            return Cause.parallel(self.left.strip_failures(), self.right.strip_failures())
        return self

    def elect_failures(self) -> Cause[Any]:
        """The same cause with every typed failure turned into a defect (Effect's
        `electFailures`): what `catch_all` and `either` re-fail with when the cause holds
        a defect."""
        if isinstance(self, Fail):
            error: Any = self.error
            return Die(error if isinstance(error, BaseException) else FailureValue(error))
        if isinstance(self, _Both):
            return type(self)(self.left.elect_failures(), self.right.elect_failures())
        return self

    def squash(self) -> BaseException:
        """The single exception that best represents this cause: first failure, else first defect."""
        for leaf in self._leaves():
            if isinstance(leaf, Fail):
                error: Any = leaf.error
                return error if isinstance(error, BaseException) else FailureValue(error)
        for leaf in self._leaves():
            if isinstance(leaf, Die):
                return leaf.defect
        return Interrupted()

    def map(self, f: Callable[[E], E2]) -> Cause[E2]:
        """Transform every typed error, keeping the shape."""
        if isinstance(self, Fail):
            return Fail(f(self.error))
        if isinstance(self, Sequential):
            return Sequential(self.left.map(f), self.right.map(f))
        if isinstance(self, Parallel):
            return Parallel(self.left.map(f), self.right.map(f))
        return self  # pyright: ignore[reportReturnType]  # Empty, Die, Interrupt carry no E

    def pretty(self) -> str:
        """A readable report: each failure with the user-code frames it passed through."""
        parts: list[str] = []
        for leaf in self._leaves():
            if isinstance(leaf, Fail):
                parts.append(_describe("Fail", leaf.error))
            elif isinstance(leaf, Die):
                parts.append(_describe("Die", leaf.defect))
            elif isinstance(leaf, Interrupt):
                parts.append(f"Interrupt: fiber #{leaf.fiber_id} was interrupted")
        return "\n".join(parts) if parts else "Empty cause"

    def _leaves(self) -> Iterator[Cause[E]]:
        stack: list[Cause[E]] = [self]
        while stack:
            c = stack.pop()
            if isinstance(c, _Both):
                stack.append(c.right)
                stack.append(c.left)
            else:
                yield c

    # --- constructors --------------------------------------------------------------------

    @staticmethod
    def fail(error: E2) -> Cause[E2]:
        return Fail(error)

    @staticmethod
    def die(defect: BaseException) -> Cause[Any]:
        return Die(defect)

    @staticmethod
    def interrupt(fiber_id: int) -> Cause[Any]:
        return Interrupt(fiber_id)

    @staticmethod
    def sequential(left: Cause[E2], right: Cause[E2]) -> Cause[E2]:
        if isinstance(left, Empty):
            return right
        if isinstance(right, Empty):
            return left
        return Sequential(left, right)

    @staticmethod
    def parallel(left: Cause[E2], right: Cause[E2]) -> Cause[E2]:
        if isinstance(left, Empty):
            return right
        if isinstance(right, Empty):
            return left
        return Parallel(left, right)

    def _key(self) -> tuple[object, ...]:
        return ()

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and cast(Cause[Any], other)._key() == self._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._key()))

    def __str__(self) -> str:
        return self.pretty()


class Empty(Cause[Any]):
    """No failure at all (the identity of sequential and parallel combination)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Cause.Empty()"


class Fail(Cause[E]):
    """A typed, expected failure carrying `error`."""

    __slots__ = ("error",)

    def __init__(self, error: E) -> None:
        self.error = error

    def _key(self) -> tuple[object, ...]:
        return (self.error,)

    def __repr__(self) -> str:
        return f"Cause.Fail({self.error!r})"


class Die(Cause[Any]):
    """A defect: an exception nobody declared, usually a bug."""

    __slots__ = ("defect",)

    def __init__(self, defect: BaseException) -> None:
        self.defect = defect

    def _key(self) -> tuple[object, ...]:
        return (id(self.defect),)

    def __repr__(self) -> str:
        return f"Cause.Die({self.defect!r})"


class Interrupt(Cause[Any]):
    """The fiber `fiber_id` was interrupted."""

    __slots__ = ("fiber_id",)

    def __init__(self, fiber_id: int) -> None:
        self.fiber_id = fiber_id

    def _key(self) -> tuple[object, ...]:
        return (self.fiber_id,)

    def __repr__(self) -> str:
        return f"Cause.Interrupt({self.fiber_id})"


class _Both(Cause[E]):
    """Two causes together; the subclass says how they relate."""

    __slots__ = ("left", "right")

    def __init__(self, left: Cause[E], right: Cause[E]) -> None:
        self.left = left
        self.right = right

    def _key(self) -> tuple[object, ...]:
        return (self.left, self.right)

    def __repr__(self) -> str:
        return f"Cause.{type(self).__name__}({self.left!r}, {self.right!r})"


class Sequential(_Both[E]):
    """`left` happened, then `right` (for example a failure, then a failing finalizer)."""

    __slots__ = ()


class Parallel(_Both[E]):
    """`left` and `right` happened in concurrent fibers."""

    __slots__ = ()


#: The interpreter's own files; their frames are hidden from users' tracebacks and reports.
RUNTIME_FILES = ("/effects/effect.py", "/effects/runtime.py")
RUNTIME_DIR = "/effects/_internal/"


def is_runtime_file(filename: str) -> bool:
    path = filename.replace("\\", "/")
    return path.endswith(RUNTIME_FILES) or RUNTIME_DIR in path


def _describe(kind: str, error: object) -> str:
    head = f"{kind}: {error!r}"
    if not isinstance(error, BaseException) or error.__traceback__ is None:
        return head
    frames = [
        f for f in traceback.extract_tb(error.__traceback__) if not is_runtime_file(f.filename)
    ]
    lines = "".join(traceback.format_list(frames))
    return f"{head}\n{lines}".rstrip()


EMPTY: Cause[Any] = Empty()
