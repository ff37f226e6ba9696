"""The validator base class, the error a mismatch raises, and the encoding of a Python
value that has no validator (`encode_any`), which the `any()` and `doc()` validators and
compared values fall back on.

Where no validator says, values cross as the `convex` Python client makes them: a plain
`int` is a float64 (Convex's `number`, what JavaScript code works with) and a `ConvexInt64`
an int64 (a JavaScript `bigint`), both ways (`encode_any`, `decode_any`), so a value read
goes back out as it came. An `int` beyond float64's exact range (±2**53) is refused rather
than rounded. (Inside confect, values are plain: an `int` there is an int64.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar, cast

import attrs
from convex import ConvexInt64

from confect.model.documents import document_value, is_document
from confect.model.errors import ValidationError
from confect.model.values import MISSING, Value, type_name, with_int64_markers
from confect.model.wire import wire_name

T = TypeVar("T")


class Validator(Generic[T]):
    """Checks and converts one value. Subclasses implement `encode`, `decode`, `describe`."""

    is_optional = False

    def absent(self, value: Any) -> bool:
        """Whether `value`, given for an object's field of this validator, means the field
        is missing (`MISSING`; an optional field also takes `None` where `null` is not one
        of its values)."""
        return value is MISSING

    def encode(self, value: Any, path: str = "value") -> Value:
        """A checked Convex value from a Python value."""
        raise NotImplementedError

    def decode(self, value: Value, path: str = "value") -> T:
        """The Python value for a Convex value, checked."""
        raise NotImplementedError

    def decode_document(self, value: Value, path: str = "value") -> Any:
        """A table's document fields decoded as `decode` does, except that an attrs class
        decodes into its stored-document class (`confect.model.documents.stored_class`)."""
        return self.decode(value, path)

    def describe(self) -> str:
        """A short human name for error messages."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"v.{self.describe()}"


def mismatch(path: str, expected: str, value: object) -> ValidationError:
    """The error for `value` at `path` where `expected` was expected."""
    return ValidationError(path=path, message=f"expected {expected}, got {_shown(value)}")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


MAX_EXACT_FLOAT_INT = 2**53
"""The largest `int` a float64 holds exactly (and every smaller one), as in the `convex`
client; `-MAX_EXACT_FLOAT_INT` is the smallest."""


def float64_of_int(value: int, path: str) -> float:
    """The float64 of an `int` in a number position; a `ValidationError` at `path` for one
    that a float64 would round."""
    if not -MAX_EXACT_FLOAT_INT <= value <= MAX_EXACT_FLOAT_INT:
        raise ValidationError(
            path=path,
            message=f"the integer {value} is outside the range of a Convex float64 (-2^53 to "
            f"2^53); use ConvexInt64({value}) for an int64 (a bigint in JavaScript), or "
            "declare v.int64()",
        )
    return float(value)


def encode_any(value: Any, path: str = "value") -> Value:
    """Encode a Python value with no validator (attrs classes and `Doc`s become objects; an
    `int` is a float64, a `ConvexInt64` an int64; a field set to `MISSING` is left out)."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, (float, str, bytes)):
        return cast(Value, value)
    if isinstance(value, int):
        return float64_of_int(value, path)
    if isinstance(value, ConvexInt64):
        return int(value.value)
    if is_document(value):
        return document_value(value)
    cls: type[Any] = type(cast(object, value))
    if attrs.has(cls):
        fields = ((f, getattr(value, f.name)) for f in attrs.fields(cls))
        return {
            wire_name(f): encode_any(item, f"{path}.{f.name}")
            for f, item in fields
            if item is not None and item is not MISSING
        }
    if isinstance(value, (list, tuple)):
        items = cast("Sequence[Any]", value)
        return [encode_any(x, f"{path}[{i}]") for i, x in enumerate(items)]
    if isinstance(value, Mapping):
        return _encode_mapping(cast("Mapping[Any, Any]", value), path)
    if value is MISSING:
        raise ValidationError(
            path=path, message="MISSING is not a value: it only leaves out an object's field"
        )
    raise ValidationError(path=path, message=f"{type_name(value)} is not a Convex value")


def decode_any(value: Value) -> Any:
    """The Python value of a Convex value with no validator: the value itself, but each
    int64 a `ConvexInt64` (so that `encode_any` gives it back as an int64, not a float64)."""
    return with_int64_markers(value)


def _encode_mapping(value: Mapping[Any, Any], path: str) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise mismatch(f"{path} key", "string", key)
        if item is not MISSING:
            out[key] = encode_any(item, f"{path}.{key}")
    return out
