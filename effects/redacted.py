"""`Redacted`: a secret that does not show itself in `repr`, `str` or logs (Effect's `Redacted`)."""

from __future__ import annotations

from typing import Generic, TypeVar, cast

A = TypeVar("A", covariant=True)
T = TypeVar("T")


class Redacted(Generic[A]):
    """Wraps a secret; prints as `<redacted>`. Read it with `Redacted.value(secret)`.

    Two `Redacted` are equal when their secrets are (as in Effect).
    """

    __slots__ = ("_secret",)

    def __init__(self, secret: A) -> None:
        self._secret = secret

    @staticmethod
    def make(secret: T) -> Redacted[T]:
        """Wrap `secret`."""
        return Redacted(secret)

    @staticmethod
    def value(redacted: Redacted[T]) -> T:
        """The secret inside `redacted`."""
        return redacted._secret

    def __repr__(self) -> str:
        return "<redacted>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Redacted) and cast("Redacted[object]", other)._secret == self._secret
        )

    def __hash__(self) -> int:
        return hash(self._secret)


__all__ = ["Redacted"]
