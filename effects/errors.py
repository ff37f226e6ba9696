"""Typed, tagged errors: the failures users declare and handle."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, ClassVar, Never, Self

import attrs
from typing_extensions import dataclass_transform

if TYPE_CHECKING:
    from effects.effect import Effect


@dataclass_transform(frozen_default=True, field_specifiers=(attrs.field,))
class TaggedError(Exception):
    """Base class for typed errors.

    Subclasses are frozen attrs classes with structural equality; `_tag` is the class
    name. Inside a `@gen` function, `yield from MyError(...)` fails the effect with it,
    and so does `raise MyError(...)`. Write `return (yield from MyError(...))` where
    pyright should know that the code below is unreachable (see README "Typing").
    """

    _tag: ClassVar[str] = "TaggedError"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._tag = cls.__name__
        if "__attrs_attrs__" not in cls.__dict__:
            attrs.define(frozen=True, slots=False, eq=True, repr=True, auto_exc=False)(cls)

    def __iter__(self) -> Generator[Effect[Never, Self, Never], Any, Never]:
        raise self

    def __str__(self) -> str:
        return repr(self)


class TimeoutException(TaggedError):
    """An effect did not finish within `seconds` (Effect's `TimeoutException`)."""

    seconds: float


TimeoutError = TimeoutException  # the name API.md first gave it; deprecated
"""Deprecated: `TimeoutException`, under a name that shadows Python's builtin."""


class NoSuchElementError(TaggedError):
    """An optional value was empty where one was required."""

    message: str = "no such element"


class UnknownException(TaggedError):
    """An exception from `attempt`/`try_promise` that had no error mapper."""

    error: BaseException


class FailureValue(Exception):
    """Raised for a typed failure whose error is not an exception (e.g. `fail("oops")`)."""

    def __init__(self, value: object) -> None:
        super().__init__(value)
        self.value = value


class Interrupted(Exception):
    """Raised by `run_sync`/`run` when the effect was interrupted."""

    def __init__(self, message: str = "the effect was interrupted") -> None:
        super().__init__(message)


class MissingServiceError(Exception):
    """A defect: an effect asked for a service nobody provided."""


class AsyncInSyncError(Exception):
    """A defect: `run_sync` met an asynchronous effect while an event loop is running."""
