"""The validator classes: one per Convex type (`StringV`, `ArrayV`, ...), and `DocV` for
whole documents. `v` (in `_building`) makes them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar, cast

import attrs
from convex import ConvexInt64

from confect.model.documents import (
    CONVERTER,
    doc_from_stored,
    document_value,
    is_document,
    stored_class,
    user_fields,
)
from confect.model.errors import ValidationError
from confect.model.ids import Id, table_number_of
from confect.model.validators._base import (
    Validator,
    decode_any,
    encode_any,
    float64_of_int,
    mismatch,
)
from confect.model.values import MAX_INT64, MIN_INT64, MISSING, Missing, Value, type_name

T = TypeVar("T")


class _Named(Validator[T]):
    """A validator of one type, which `name` names."""

    name: ClassVar[str]
    """What the type is called in messages and in `describe()`."""

    def describe(self) -> str:
        return f"{self.name}()"


class _Leaf(_Named[T]):
    """A validator whose Python and Convex forms are the same: `check` goes both ways."""

    def check(self, value: Any, path: str) -> T:
        raise NotImplementedError

    def encode(self, value: Any, path: str = "value") -> Value:
        return cast(Value, self.check(value, path))

    def decode(self, value: Value, path: str = "value") -> T:
        return self.check(value, path)


class _InstanceOf(_Leaf[T]):
    """A leaf that takes exactly the instances of `kind`."""

    kind: ClassVar[type]

    def check(self, value: Any, path: str) -> T:
        if not isinstance(value, self.kind):
            raise mismatch(path, self.name, value)
        return value


class StringV(_InstanceOf[str]):
    kind = str
    name = "string"


class BooleanV(_InstanceOf[bool]):
    kind = bool
    name = "boolean"


class NullV(_InstanceOf[None]):
    kind = type(None)
    name = "null"


class BytesV(_InstanceOf[bytes]):
    kind = bytes
    name = "bytes"


class Float64V(_Named[float]):
    """Convex's `number`: a float64. An `int` is one too (within ±2**53, where a float64
    holds it exactly); a `ConvexInt64` is not (Convex's `v.number()` refuses a bigint)."""

    name = "number"

    def encode(self, value: Any, path: str = "value") -> Value:
        if type(value) is float:
            return value
        if type(value) is int:
            return float64_of_int(value, path)
        raise mismatch(path, "number", value)

    def decode(self, value: Value, path: str = "value") -> float:
        if type(value) is not float:
            raise mismatch(path, "number", value)
        return value


class Int64V(_Named[int]):
    """Convex's `int64` (a JavaScript `bigint`): an `int` or a `ConvexInt64`; decodes to `int`."""

    name = "int64"

    def encode(self, value: Any, path: str = "value") -> Value:
        if isinstance(value, ConvexInt64):
            return int(value.value)
        return self.decode(value, path)

    def decode(self, value: Value, path: str = "value") -> int:
        if type(value) is not int:
            raise mismatch(path, "int64", value)
        if not MIN_INT64 <= value <= MAX_INT64:
            raise ValidationError(path=path, message=f"{value} does not fit in an int64")
        return value


class LiteralV(Validator[Any]):
    """One value. As in Convex, a number literal is a float64 (`v.literal(3)` holds 3.0, and
    takes 3 or 3.0); `v.literal(ConvexInt64(3))` is the int64 3."""

    def __init__(self, literal: str | int | float | bool | ConvexInt64) -> None:
        self.literal = literal
        self._value: Value = self._convex_value(literal)
        self._decoded = literal.value if isinstance(literal, ConvexInt64) else literal

    @staticmethod
    def _convex_value(literal: str | int | float | bool | ConvexInt64) -> Value:
        if isinstance(literal, ConvexInt64):
            return literal.value
        if type(literal) is int:
            return float64_of_int(literal, f"literal({literal!r})")
        return literal

    def encode(self, value: Any, path: str = "value") -> Value:
        if type(value) is int and type(self._value) is int:  # an int64 literal takes an int
            self.decode(value, path)
            return self._value
        try:
            self.decode(self._convex_value(value), path)
        except ValidationError:
            raise mismatch(path, self._expected(), value) from None
        return self._value

    def decode(self, value: Value, path: str = "value") -> Any:
        if type(value) is not type(self._value) or value != self._value:
            raise mismatch(path, self._expected(), value)
        return self._decoded

    def _expected(self) -> str:
        number = type(self._value) in (int, float)
        return f"{self.literal!r} ({type_name(self._value)})" if number else repr(self.literal)

    def describe(self) -> str:
        return f"literal({self.literal!r})"


class AnyV(_Named[Any]):
    """Any Convex value, as values without a validator cross (`encode_any`, `decode_any`:
    an `int` is a float64, a `ConvexInt64` an int64)."""

    name = "any"

    def encode(self, value: Any, path: str = "value") -> Value:
        return encode_any(value, path)

    def decode(self, value: Value, path: str = "value") -> Any:
        return decode_any(value)


class IdV(_Leaf[Id[Any]]):
    """An id of one table (checked against the table's number once a backend binds it), or
    of any table when `table` is None (an `Id[Any]` field).

    An `Id[Post]` field's validator has `document_class` Post and no table until
    `define_schema` names the one table of Post documents."""

    def __init__(self, table: str | None, document_class: type[Any] | None = None) -> None:
        self.table = table
        self.document_class = document_class
        self.number: int | None = None

    def check(self, value: Any, path: str) -> Id[Any]:
        if not isinstance(value, str):
            raise mismatch(path, self._expected(), value)
        number = table_number_of(value)
        if number is None or (self.number is not None and number != self.number):
            raise mismatch(path, self._expected(), value)
        return Id(value)

    def _expected(self) -> str:
        return "id of any table" if self.table is None else f"id of table {self.table!r}"

    def describe(self) -> str:
        if self.table is not None:
            return f"id({self.table!r})"
        if self.document_class is not None:
            return f"Id[{self.document_class.__name__}]"
        return "id(any table)"


class ArrayV(Validator[list[T]]):
    def __init__(self, item: Validator[T]) -> None:
        self.item = item

    def encode(self, value: Any, path: str = "value") -> Value:
        if not isinstance(value, (list, tuple)):
            raise mismatch(path, "array", value)
        item = self.item.encode
        return [item(x, f"{path}[{i}]") for i, x in enumerate(cast("Sequence[Any]", value))]

    def decode(self, value: Value, path: str = "value") -> list[T]:
        if not isinstance(value, list):
            raise mismatch(path, "array", value)
        item = self.item.decode
        return [item(x, f"{path}[{i}]") for i, x in enumerate(value)]

    def describe(self) -> str:
        return f"array({self.item.describe()})"


class OptionalV(Validator[T | None]):
    """A field that may be missing (absent in Convex, `undefined` in JavaScript).

    In Python a missing field is `None`, short and what an attrs field's default says,
    unless the field can hold `null` (`v.optional(v.null())`, `v.optional(v.any())`): there
    `None` is `null`, and a missing field is `MISSING`, both ways."""

    is_optional = True

    def __init__(self, inner: Validator[T], when_missing: Missing | None = None) -> None:
        self.inner = inner
        self.holds_null = _holds_null(inner)
        self.when_missing: Missing | None = MISSING if self.holds_null else when_missing
        """What a missing field decodes to: `None`, or `MISSING` where the field holds `null`
        (or where a type hint names `Missing`)."""

    def absent(self, value: Any) -> bool:
        return value is MISSING or (value is None and not self.holds_null)

    def encode(self, value: Any, path: str = "value") -> Value:
        return None if self.absent(value) else self.inner.encode(value, path)

    def decode(self, value: Value, path: str = "value") -> T | None:
        return None if value is None and not self.holds_null else self.inner.decode(value, path)

    def describe(self) -> str:
        return f"optional({self.inner.describe()})"


def _holds_null(validator: Validator[Any]) -> bool:
    try:
        validator.decode(None)
    except ValidationError:
        return False
    return True


class ObjectV(Validator[T]):
    """An object with known fields; with `cls`, decodes into that attrs class. A field of
    `MISSING` is left out (so is one of `None`, where the field is optional and cannot hold
    `null`); a missing optional field decodes to `None` (or `MISSING`, see `OptionalV`)."""

    def __init__(self, fields: Mapping[str, Validator[Any]], cls: type[T] | None = None) -> None:
        self.fields = dict(fields)
        self.cls = cls

    def encode(self, value: Any, path: str = "value") -> Value:
        if is_document(value):  # system fields included (as Convex returns it)
            value = document_value(value)
        elif attrs.has(type(value)):  # pyright: ignore[reportUnknownArgumentType]
            value = CONVERTER.unstructure(value)
        if not isinstance(value, Mapping):
            raise mismatch(path, "object", value)
        given = cast("Mapping[str, Any]", value)
        out: dict[str, Value] = {}
        for name, validator in self.fields.items():
            item = given.get(name, MISSING)
            if validator.absent(item):
                if validator.is_optional:
                    continue
                raise ValidationError(path=f"{path}.{name}", message="required field is missing")
            out[name] = validator.encode(item, f"{path}.{name}")
        self._refuse_unexpected(given, path)
        return out

    def decode(self, value: Value, path: str = "value") -> T:
        return self._decode_into(self.cls, value, path)

    def decode_document(self, value: Value, path: str = "value") -> Any:
        return self._decode_into(None if self.cls is None else stored_class(self.cls), value, path)

    def _decode_into(self, cls: type[Any] | None, value: Value, path: str) -> Any:
        if not isinstance(value, dict):
            raise mismatch(path, "object", value)
        out = {name: _field_of(value, name, f, f"{path}.{name}") for name, f in self.fields.items()}
        self._refuse_unexpected(value, path)
        return out if cls is None else cls(**out)

    def _refuse_unexpected(self, given: Mapping[str, Any], path: str) -> None:
        for name in given:  # system fields too, as in Convex: `v.object` lists them to take them
            if name not in self.fields:
                raise ValidationError(path=f"{path}.{name}", message="unexpected field")

    def describe(self) -> str:
        return self.cls.__name__ if self.cls is not None else "object({...})"


def _field_of(given: dict[str, Value], name: str, validator: Validator[Any], path: str) -> Any:
    """The decoded field `name` of an object; a present optional field is a value of its
    inner validator (Convex's `v.optional(v.string())` refuses null)."""
    if isinstance(validator, OptionalV):
        optional = cast(OptionalV[Any], validator)
        return optional.inner.decode(given[name], path) if name in given else optional.when_missing
    if name not in given:
        raise ValidationError(path=path, message="required field is missing")
    return validator.decode(given[name], path)


class RecordV(Validator[dict[str, T]]):
    def __init__(self, keys: Validator[str], values: Validator[T]) -> None:
        self.keys = keys
        self.values = values

    def encode(self, value: Any, path: str = "value") -> Value:
        if not isinstance(value, Mapping):
            raise mismatch(path, "record", value)
        items = cast("Mapping[Any, Any]", value).items()
        return {
            cast(str, self.keys.encode(k, f"{path} key")): self.values.encode(x, f"{path}.{k}")
            for k, x in items
        }

    def decode(self, value: Value, path: str = "value") -> dict[str, T]:
        if not isinstance(value, dict):
            raise mismatch(path, "record", value)
        return {
            self.keys.decode(k, f"{path} key"): self.values.decode(x, f"{path}.{k}")
            for k, x in value.items()
        }

    def describe(self) -> str:
        return f"record({self.keys.describe()}, {self.values.describe()})"


class UnionV(Validator[Any]):
    def __init__(self, *members: Validator[Any]) -> None:
        self.members = members

    def encode(self, value: Any, path: str = "value") -> Value:
        return self._first(lambda member: member.encode(value, path), value, path)

    def decode(self, value: Value, path: str = "value") -> Any:
        return self._first(lambda member: member.decode(value, path), value, path)

    def decode_document(self, value: Value, path: str = "value") -> Any:
        return self._first(lambda member: member.decode_document(value, path), value, path)

    def _first(self, attempt: Callable[[Validator[Any]], Any], value: Any, path: str) -> Any:
        for member in self.members:
            try:
                return attempt(member)
            except ValidationError:
                continue
        raise mismatch(path, self.describe(), value)

    def describe(self) -> str:
        return " | ".join(member.describe() for member in self.members)


class DocV(Validator[Any]):
    """A whole document of `table`, system fields included; decodes to a document (see `doc_from_stored`). Once a
    backend binds it, its `_id` must be an id of `table` and its fields fit the table."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.number: int | None = None  # the table's, once a backend binds it
        self.validator: Validator[Any] | None = None  # the table's, once a backend binds it

    def encode(self, value: Any, path: str = "value") -> Value:
        if is_document(value):
            encoded = document_value(value)
        elif isinstance(value, dict) and "_id" in value:
            encoded = encode_any(value, path)
        else:
            raise mismatch(path, f"document of {self.table!r}", cast(object, value))
        self._check_id(encoded, path)
        if self.validator is not None:
            self.validator.decode(user_fields(cast("dict[str, Value]", encoded)), path)
        return encoded

    def decode(self, value: Value, path: str = "value") -> Any:
        return doc_from_stored(self.table, self._check_id(value, path), self.validator, path)

    def _check_id(self, value: Value, path: str) -> dict[str, Value]:
        id_ = value.get("_id") if isinstance(value, dict) else None
        if not isinstance(id_, str):
            raise mismatch(path, f"document of {self.table!r}", value)
        number = table_number_of(id_)
        if number is None or (self.number is not None and number != self.number):
            raise mismatch(f"{path}._id", f"id of table {self.table!r}", id_)
        return cast("dict[str, Value]", value)

    def describe(self) -> str:
        return f"doc({self.table!r})"
