"""The validator classes: one per Convex type (`StringV`, `ArrayV`, ...), and `DocV` for
whole documents. `v` (in `_building`) makes them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar, cast

import attrs

from confect.model.documents import CONVERTER, Doc, doc_from_stored, document_value
from confect.model.errors import ValidationError
from confect.model.ids import Id, table_number_of
from confect.model.validators._base import Validator, encode_any, mismatch
from confect.model.values import MAX_INT64, MIN_INT64, Value

T = TypeVar("T")


class _Leaf(Validator[T]):
    """A validator whose Python and Convex forms are the same: `check` goes both ways."""

    name: ClassVar[str]
    """What the type is called in messages and in `describe()`."""

    def check(self, value: Any, path: str) -> T:
        raise NotImplementedError

    def encode(self, value: Any, path: str = "value") -> Value:
        return cast(Value, self.check(value, path))

    def decode(self, value: Value, path: str = "value") -> T:
        return self.check(value, path)

    def describe(self) -> str:
        return f"{self.name}()"


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


class Float64V(_Leaf[float]):
    name = "number"

    def check(self, value: Any, path: str) -> float:
        if type(value) is float:
            return value
        if type(value) is int:
            return float(value)
        raise mismatch(path, "number", value)


class Int64V(_Leaf[int]):
    name = "int64"

    def check(self, value: Any, path: str) -> int:
        if type(value) is not int:
            raise mismatch(path, "int64", value)
        if not MIN_INT64 <= value <= MAX_INT64:
            raise ValidationError(path=path, message=f"{value} does not fit in an int64")
        return value


class LiteralV(_Leaf[Any]):
    def __init__(self, literal: str | int | float | bool) -> None:
        self.literal = literal

    def check(self, value: Any, path: str) -> Any:
        if type(value) is not type(self.literal) or value != self.literal:
            raise mismatch(path, repr(self.literal), value)
        return value

    def describe(self) -> str:
        return f"literal({self.literal!r})"


class AnyV(_Leaf[Any]):
    name = "any"

    def check(self, value: Any, path: str) -> Any:
        return encode_any(value, path)


class IdV(_Leaf[Id[Any]]):
    """An id of one table (checked against the table's number once a backend binds it)."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.number: int | None = None

    def check(self, value: Any, path: str) -> Id[Any]:
        if not isinstance(value, str):
            raise mismatch(path, f"id of table {self.table!r}", value)
        number = table_number_of(value)
        if number is None or (self.number is not None and number != self.number):
            raise mismatch(path, f"id of table {self.table!r}", value)
        return Id(value)

    def describe(self) -> str:
        return f"id({self.table!r})"


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
    """A field that may be missing (None in Python, absent in Convex)."""

    is_optional = True

    def __init__(self, inner: Validator[T]) -> None:
        self.inner = inner

    def encode(self, value: Any, path: str = "value") -> Value:
        return None if value is None else self.inner.encode(value, path)

    def decode(self, value: Value, path: str = "value") -> T | None:
        return None if value is None else self.inner.decode(value, path)

    def describe(self) -> str:
        return f"optional({self.inner.describe()})"


class ObjectV(Validator[T]):
    """An object with known fields; with `cls`, decodes into that attrs class."""

    def __init__(self, fields: Mapping[str, Validator[Any]], cls: type[T] | None = None) -> None:
        self.fields = dict(fields)
        self.cls = cls

    def encode(self, value: Any, path: str = "value") -> Value:
        if attrs.has(type(value)):  # pyright: ignore[reportUnknownArgumentType]
            value = CONVERTER.unstructure(value)
        if not isinstance(value, Mapping):
            raise mismatch(path, "object", value)
        given = cast("Mapping[str, Any]", value)
        out: dict[str, Value] = {}
        for name, validator in self.fields.items():
            item = given.get(name)
            if item is None and validator.is_optional:
                continue
            if name not in given:
                raise ValidationError(path=f"{path}.{name}", message="required field is missing")
            out[name] = validator.encode(item, f"{path}.{name}")
        for name in given:
            if name not in self.fields and not name.startswith("_"):
                raise ValidationError(path=f"{path}.{name}", message="unexpected field")
        return out

    def decode(self, value: Value, path: str = "value") -> T:
        if not isinstance(value, dict):
            raise mismatch(path, "object", value)
        out: dict[str, Any] = {}
        for name, validator in self.fields.items():
            item = value.get(name)
            if item is None and name not in value:
                if validator.is_optional:
                    out[name] = None
                    continue
                raise ValidationError(path=f"{path}.{name}", message="required field is missing")
            out[name] = validator.decode(item, f"{path}.{name}")
        for name in value:
            if name not in self.fields and not name.startswith("_"):
                raise ValidationError(path=f"{path}.{name}", message="unexpected field")
        if self.cls is None:
            return cast(T, out)
        return self.cls(**out)

    def describe(self) -> str:
        return self.cls.__name__ if self.cls is not None else "object({...})"


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
    """A whole document of `table`, system fields included; decodes to `Doc[T]`."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.validator: Validator[Any] | None = None  # the table's, once a backend binds it

    def encode(self, value: Any, path: str = "value") -> Value:
        if isinstance(value, Doc):
            return document_value(cast("Doc[Any]", value))
        if not isinstance(value, dict) or "_id" not in value:
            raise mismatch(path, f"document of {self.table!r}", cast(object, value))
        return encode_any(value, path)

    def decode(self, value: Value, path: str = "value") -> Any:
        if not isinstance(value, dict) or not isinstance(value.get("_id"), str):
            raise mismatch(path, f"document of {self.table!r}", value)
        return doc_from_stored(self.table, value, self.validator, path)

    def describe(self) -> str:
        return f"doc({self.table!r})"
