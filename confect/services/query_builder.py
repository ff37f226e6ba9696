"""The ranges of a database read: index ranges (`q.eq(...).gt(...)`) and search filters
(`q.search("text", "hello").eq(...)`). Filter expressions are in `filters`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from confect.model.errors import ValidationError
from confect.model.validators import FieldEncoder
from confect.model.values import (
    AFTER_PREFIX,
    encode_value,
    prefix_range,
)


class IndexRangeBuilder:
    """Builds an index range: equalities on a prefix of the index's fields, then at most one
    lower bound (gt/gte) and one upper bound (lt/lte) on the next field.

    A missing field is Convex's `undefined`, below every value: `eq(field, MISSING)` selects
    the documents without `field`, and so does `eq(field, None)` where the field is optional
    and cannot hold `null` (where it can, `None` is `null`)."""

    def __init__(self, index: str, fields: Sequence[str], encode: FieldEncoder) -> None:
        """`fields`: every field of the index's key, in order (a schema index's own fields
        then `_creationTime`; `by_creation_time` has `_creationTime` only, `by_id` `_id`)."""
        self._index = index
        self._encode = encode
        self._fields = list(fields)
        self._equal: list[Any] = []
        self._lower: tuple[str, Any] | None = None
        self._upper: tuple[str, Any] | None = None

    def eq(self, field: str, value: Any) -> IndexRangeBuilder:
        if self._lower or self._upper:
            raise self._error("eq() must come before gt/gte/lt/lte")
        self._expect(field, len(self._equal))
        self._equal.append(self._encode(field, value))
        return self

    def gt(self, field: str, value: Any) -> IndexRangeBuilder:
        return self._bound("lower", "gt", field, value)

    def gte(self, field: str, value: Any) -> IndexRangeBuilder:
        return self._bound("lower", "gte", field, value)

    def lt(self, field: str, value: Any) -> IndexRangeBuilder:
        return self._bound("upper", "lt", field, value)

    def lte(self, field: str, value: Any) -> IndexRangeBuilder:
        return self._bound("upper", "lte", field, value)

    def _bound(self, side: str, op: str, field: str, value: Any) -> IndexRangeBuilder:
        self._expect(field, len(self._equal))
        if (self._lower if side == "lower" else self._upper) is not None:
            raise self._error(f"two {side} bounds on {field!r}")
        bound = (op, self._encode(field, value))
        if side == "lower":
            self._lower = bound
        else:
            self._upper = bound
        return self

    def _expect(self, field: str, position: int) -> None:
        if position >= len(self._fields) or self._fields[position] != field:
            wanted = self._fields[position] if position < len(self._fields) else "nothing more"
            raise self._error(f"expected a condition on {wanted!r}, got one on {field!r}")

    def _error(self, message: str) -> ValidationError:
        return ValidationError(path=f"index {self._index!r}", message=message)

    def bounds(self) -> tuple[bytes, bytes]:
        """The byte range [lo, hi) this builder describes."""
        lo, hi = prefix_range(*self._equal)
        prefix = lo
        if self._lower is not None:
            op, value = self._lower
            lo = prefix + encode_value(value) + (AFTER_PREFIX if op == "gt" else b"")
        if self._upper is not None:
            op, value = self._upper
            hi = prefix + encode_value(value) + (AFTER_PREFIX if op == "lte" else b"")
        return lo, hi


class SearchFilterBuilder:
    """`q` in `.search("search_text", lambda q: q.search("text", "hello").eq("author", a))`.

    `eq(field, MISSING)` matches the documents without `field` (Convex's `undefined`), and
    so does `None` where the field is optional and cannot hold `null`."""

    def __init__(self, encode: FieldEncoder) -> None:
        self._encode = encode
        self.field: str | None = None
        self.text = ""
        self.equalities: list[tuple[str, bytes]] = []  # (field, the value's key bytes)

    def search(self, field: str, text: str) -> SearchFilterBuilder:
        self.field, self.text = field, text
        return self

    def eq(self, field: str, value: Any) -> SearchFilterBuilder:
        self.equalities.append((field, encode_value(self._encode(field, value))))
        return self
