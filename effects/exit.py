"""How a fiber ended: `Exit.Success(value)` or `Exit.Failure(cause)`."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Never, cast

from typing_extensions import TypeVar

from effects.cause import Cause, Fail

A = TypeVar("A", covariant=True, default=Any)
E = TypeVar("E", covariant=True, default=Never)


class Exit(Generic[A, E]):
    """The outcome of running an effect. Match on `Exit.Success` / `Exit.Failure`."""

    __slots__ = ()
    Success: ClassVar[type[Success[Any]]]
    Failure: ClassVar[type[Failure[Any]]]

    def is_success(self) -> bool:
        return isinstance(self, Success)

    def _key(self) -> tuple[object, ...]:
        return (self.value,) if isinstance(self, Success) else (cast(Failure[Any], self).cause,)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and cast(Exit[Any, Any], other)._key() == self._key()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *self._key()))

    @staticmethod
    def succeed(value: A) -> Exit[A, Never]:  # pyright: ignore[reportGeneralTypeIssues]
        return Success(value)

    @staticmethod
    def fail(error: E) -> Exit[Never, E]:  # pyright: ignore[reportGeneralTypeIssues]
        return Failure(Fail(error))

    @staticmethod
    def fail_cause(cause: Cause[E]) -> Exit[Never, E]:  # pyright: ignore[reportGeneralTypeIssues]
        return Failure(cause)


class Success(Exit[A, Never]):
    """The effect succeeded with `value`."""

    __slots__ = ("value",)
    __match_args__ = ("value",)

    def __init__(self, value: A) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Exit.Success({self.value!r})"


class Failure(Exit[Never, E]):
    """The effect failed; `cause` says how."""

    __slots__ = ("cause",)
    __match_args__ = ("cause",)

    def __init__(self, cause: Cause[E]) -> None:
        self.cause = cause

    def __repr__(self) -> str:
        return f"Exit.Failure({self.cause!r})"


Exit.Success = Success
Exit.Failure = Failure
