"""The validator base class, the error a mismatch raises, and the encoding of a Python
value that has no validator (`encode_any`), which the `any()` and `doc()` validators and
compared values fall back on."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar, cast

import attrs

from confect.model.documents import Doc, document_value
from confect.model.errors import ValidationError
from confect.model.values import Value, type_name
from confect.model.wire import wire_name

T = TypeVar("T")


class Validator(Generic[T]):
    """Checks and converts one value. Subclasses implement `encode`, `decode`, `describe`."""

    is_optional = False

    def encode(self, value: Any, path: str = "value") -> Value:
        """A checked Convex value from a Python value."""
        raise NotImplementedError

    def decode(self, value: Value, path: str = "value") -> T:
        """The Python value for a Convex value, checked."""
        raise NotImplementedError

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


def encode_any(value: Any, path: str = "value") -> Value:
    """Encode a Python value with no validator (attrs classes and `Doc`s become objects)."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return cast(Value, value)
    if isinstance(value, Doc):
        return document_value(cast("Doc[Any]", value))
    cls: type[Any] = type(cast(object, value))
    if attrs.has(cls):
        fields = attrs.fields(cls)
        return {
            wire_name(f): encode_any(getattr(value, f.name), f"{path}.{f.name}")
            for f in fields
            if getattr(value, f.name) is not None
        }
    if isinstance(value, (list, tuple)):
        items = cast("Sequence[Any]", value)
        return [encode_any(x, f"{path}[{i}]") for i, x in enumerate(items)]
    if isinstance(value, Mapping):
        items = cast("Mapping[Any, Any]", value).items()
        out: dict[str, Value] = {}
        for key, item in items:
            if not isinstance(key, str):
                raise mismatch(f"{path} key", "string", key)
            out[key] = encode_any(item, f"{path}.{key}")
        return out
    raise ValidationError(path=path, message=f"{type_name(value)} is not a Convex value")
