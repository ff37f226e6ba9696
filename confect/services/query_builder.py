"""The pieces of a database read: index ranges (`q.eq(...).gt(...)`), filters
(`q.eq(q.field("x"), 1)`) and search filters (`q.search("text", "hello").eq(...)`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs

from confect.engine.interface import field_value
from confect.model.errors import ValidationError
from confect.model.validators import FieldEncoder, encode_any
from confect.model.values import AFTER_PREFIX, Value, encode_value, prefix_range


class IndexRangeBuilder:
    """Builds an index range: equalities on a prefix of the index's fields, then at most one
    lower bound (gt/gte) and one upper bound (lt/lte) on the next field."""

    def __init__(self, index: str, fields: Sequence[str], encode: FieldEncoder) -> None:
        self._index = index
        self._encode = encode
        self._fields = [*fields, "_creationTime"]
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


# --- filters -------------------------------------------------------------------------------------


@attrs.frozen
class Field:
    """A reference to a document field (dotted path) inside a filter."""

    path: str


Expression = Callable[[Mapping[str, Value]], Any]


class FilterBuilder:
    """`q` in `.filter(lambda q: q.and_(q.eq(q.field("a"), 1), q.gt(q.field("b"), 2)))`."""

    def __init__(self, encode: FieldEncoder) -> None:
        self._encode = encode

    @staticmethod
    def field(path: str) -> Field:
        return Field(path)

    def eq(self, a: Any, b: Any) -> Expression:
        return self._compare(a, b, lambda c: c == 0)

    def neq(self, a: Any, b: Any) -> Expression:
        return self._compare(a, b, lambda c: c != 0)

    def lt(self, a: Any, b: Any) -> Expression:
        return self._compare(a, b, lambda c: c < 0)

    def lte(self, a: Any, b: Any) -> Expression:
        return self._compare(a, b, lambda c: c <= 0)

    def gt(self, a: Any, b: Any) -> Expression:
        return self._compare(a, b, lambda c: c > 0)

    def gte(self, a: Any, b: Any) -> Expression:
        return self._compare(a, b, lambda c: c >= 0)

    @staticmethod
    def and_(*parts: Expression) -> Expression:
        return lambda document: all(part(document) for part in parts)

    @staticmethod
    def or_(*parts: Expression) -> Expression:
        return lambda document: any(part(document) for part in parts)

    @staticmethod
    def not_(part: Expression) -> Expression:
        return lambda document: not part(document)

    def _compare(self, a: Any, b: Any, test: Callable[[int], bool]) -> Expression:
        left, right = self._operand(a, b), self._operand(b, a)

        def evaluate(document: Mapping[str, Value]) -> bool:
            ka, kb = encode_value(left(document)), encode_value(right(document))
            return test((ka > kb) - (ka < kb))

        return evaluate

    def _operand(self, x: Any, other: Any) -> Callable[[Mapping[str, Value]], Any]:
        if isinstance(x, Field):
            path = x.path
            return lambda document: field_value(document, path)
        value = self._encode(other.path, x) if isinstance(other, Field) else encode_any(x)
        return lambda document: value


class SearchFilterBuilder:
    """`q` in `.search("search_text", lambda q: q.search("text", "hello").eq("author", a))`."""

    def __init__(self, encode: FieldEncoder) -> None:
        self._encode = encode
        self.field: str | None = None
        self.text = ""
        self.equalities: list[tuple[str, Any]] = []

    def search(self, field: str, text: str) -> SearchFilterBuilder:
        self.field, self.text = field, text
        return self

    def eq(self, field: str, value: Any) -> SearchFilterBuilder:
        self.equalities.append((field, self._encode(field, value)))
        return self
