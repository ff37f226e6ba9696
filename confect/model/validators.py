"""Validators (`v.string()`, `v.object({...})`, ...): check values and convert them.

Each validator goes both ways. `encode` takes what Python code holds (attrs documents,
`Doc` wrappers, ints in float fields) and gives a checked Convex value; `decode` takes a
Convex value and gives what a handler or caller works with. A mismatch raises
`ValidationError` with the path of the first bad part: `args.tags[3]: expected string, got 12`.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Generic, Literal, TypeVar, Union, cast, get_args, get_origin

import attrs

from confect.model.documents import CONVERTER, Doc, decode_document, document_value
from confect.model.errors import ValidationError
from confect.model.ids import Id, table_number_of
from confect.model.values import MAX_INT64, MIN_INT64, Value, type_name

T = TypeVar("T")


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _bad(path: str, expected: str, value: object) -> ValidationError:
    return ValidationError(path=path, message=f"expected {expected}, got {_shown(value)}")


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


class _Leaf(Validator[T]):
    """A validator whose Python and Convex forms are the same."""

    def check(self, value: Any, path: str) -> T:
        raise NotImplementedError

    def encode(self, value: Any, path: str = "value") -> Value:
        return cast(Value, self.check(value, path))

    def decode(self, value: Value, path: str = "value") -> T:
        return self.check(value, path)


class StringV(_Leaf[str]):
    def check(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise _bad(path, "string", value)
        return value

    def describe(self) -> str:
        return "string()"


class Float64V(_Leaf[float]):
    def check(self, value: Any, path: str) -> float:
        if type(value) is float:
            return value
        if type(value) is int:
            return float(value)
        raise _bad(path, "number", value)

    def describe(self) -> str:
        return "number()"


class Int64V(_Leaf[int]):
    def check(self, value: Any, path: str) -> int:
        if type(value) is not int:
            raise _bad(path, "int64", value)
        if not MIN_INT64 <= value <= MAX_INT64:
            raise ValidationError(path=path, message=f"{value} does not fit in an int64")
        return value

    def describe(self) -> str:
        return "int64()"


class BooleanV(_Leaf[bool]):
    def check(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise _bad(path, "boolean", value)
        return value

    def describe(self) -> str:
        return "boolean()"


class NullV(_Leaf[None]):
    def check(self, value: Any, path: str) -> None:
        if value is not None:
            raise _bad(path, "null", value)

    def describe(self) -> str:
        return "null()"


class BytesV(_Leaf[bytes]):
    def check(self, value: Any, path: str) -> bytes:
        if not isinstance(value, bytes):
            raise _bad(path, "bytes", value)
        return value

    def describe(self) -> str:
        return "bytes()"


class LiteralV(_Leaf[Any]):
    def __init__(self, literal: str | int | float | bool) -> None:
        self.literal = literal

    def check(self, value: Any, path: str) -> Any:
        if type(value) is not type(self.literal) or value != self.literal:
            raise _bad(path, repr(self.literal), value)
        return value

    def describe(self) -> str:
        return f"literal({self.literal!r})"


class AnyV(_Leaf[Any]):
    def check(self, value: Any, path: str) -> Any:
        return _generic_encode(value, path)

    def describe(self) -> str:
        return "any()"


class IdV(_Leaf[Id[Any]]):
    """An id of one table (checked against the table's number once a backend binds it)."""

    def __init__(self, table: str) -> None:
        self.table = table
        self.number: int | None = None

    def check(self, value: Any, path: str) -> Id[Any]:
        if not isinstance(value, str):
            raise _bad(path, f"id of table {self.table!r}", value)
        number = table_number_of(value)
        if number is None or (self.number is not None and number != self.number):
            raise _bad(path, f"id of table {self.table!r}", value)
        return Id(value)

    def describe(self) -> str:
        return f"id({self.table!r})"


def bind(
    validator: Validator[Any] | None,
    numbers: Mapping[str, int],
    documents: Mapping[str, Validator[Any]],
) -> None:
    """Tell the id and doc validators inside `validator` their tables' numbers and
    document validators (a backend does this for its app when it starts)."""
    for node in _walk(validator):
        if isinstance(node, IdV):
            node.number = numbers.get(node.table)
        elif isinstance(node, DocV):
            node.validator = documents.get(node.table)


def _walk(validator: Validator[Any] | None) -> Iterator[Validator[Any]]:
    if validator is None:
        return
    yield validator
    children: list[Validator[Any]] = []
    if isinstance(validator, ArrayV):
        children.append(cast(ArrayV[Any], validator).item)
    elif isinstance(validator, OptionalV):
        children.append(cast(OptionalV[Any], validator).inner)
    elif isinstance(validator, ObjectV):
        children.extend(validator.fields.values())
    elif isinstance(validator, RecordV):
        children.append(cast(RecordV[Any], validator).values)
    elif isinstance(validator, UnionV):
        children.extend(validator.members)
    for child in children:
        yield from _walk(child)


class ArrayV(Validator[list[T]]):
    def __init__(self, item: Validator[T]) -> None:
        self.item = item

    def encode(self, value: Any, path: str = "value") -> Value:
        if not isinstance(value, (list, tuple)):
            raise _bad(path, "array", value)
        item = self.item.encode
        return [item(x, f"{path}[{i}]") for i, x in enumerate(cast("Sequence[Any]", value))]

    def decode(self, value: Value, path: str = "value") -> list[T]:
        if not isinstance(value, list):
            raise _bad(path, "array", value)
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
            raise _bad(path, "object", value)
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
            raise _bad(path, "object", value)
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
            raise _bad(path, "record", value)
        items = cast("Mapping[Any, Any]", value).items()
        return {
            cast(str, self.keys.encode(k, f"{path} key")): self.values.encode(x, f"{path}.{k}")
            for k, x in items
        }

    def decode(self, value: Value, path: str = "value") -> dict[str, T]:
        if not isinstance(value, dict):
            raise _bad(path, "record", value)
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
        raise _bad(path, self.describe(), value)

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
            raise _bad(path, f"document of {self.table!r}", cast(object, value))
        return _generic_encode(value, path)

    def decode(self, value: Value, path: str = "value") -> Any:
        if not isinstance(value, dict) or not isinstance(value.get("_id"), str):
            raise _bad(path, f"document of {self.table!r}", value)
        return decode_document(self.table, value, self.validator, path)

    def describe(self) -> str:
        return f"doc({self.table!r})"


def _generic_encode(value: Any, path: str) -> Value:
    """Any Python value that maps onto Convex values (attrs classes and `Doc`s included)."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return cast(Value, value)
    if isinstance(value, Doc):
        return document_value(cast("Doc[Any]", value))
    cls: type[Any] = type(cast(object, value))
    if attrs.has(cls):
        fields = attrs.fields(cls)
        return {
            f.name: _generic_encode(getattr(value, f.name), f"{path}.{f.name}")
            for f in fields
            if getattr(value, f.name) is not None
        }
    if isinstance(value, (list, tuple)):
        items = cast("Sequence[Any]", value)
        return [_generic_encode(x, f"{path}[{i}]") for i, x in enumerate(items)]
    if isinstance(value, Mapping):
        items = cast("Mapping[Any, Any]", value).items()
        out: dict[str, Value] = {}
        for key, item in items:
            if not isinstance(key, str):
                raise _bad(f"{path} key", "string", key)
            out[key] = _generic_encode(item, f"{path}.{key}")
        return out
    raise ValidationError(path=path, message=f"{type_name(value)} is not a Convex value")


def encode_any(value: Any, path: str = "value") -> Value:
    """Encode a Python value with no validator (attrs classes and `Doc`s become objects)."""
    return _generic_encode(value, path)


class FieldEncoder:
    """Encodes a value compared with a document field the way that field stores it, so that
    `q.gt("rank", 1)` on a `v.number()` field compares with the float64 1.0, not the int64 1."""

    def __init__(self, document: Validator[Any] | None) -> None:
        self._document = document

    def __call__(self, path: str, value: Any) -> Value:
        validator = self._field(path)
        if validator is not None:
            try:
                return validator.encode(value, path)
            except ValidationError:
                pass  # a value of another type: compare it as it is
        return _generic_encode(value, path)

    def _field(self, path: str) -> Validator[Any] | None:
        validator = self._document
        for part in path.split("."):
            while isinstance(validator, OptionalV):
                validator = cast(OptionalV[Any], validator).inner
            if not isinstance(validator, ObjectV):
                return None
            validator = validator.fields.get(part)
        return validator


# --- from Python type hints --------------------------------------------------------------------------


def from_type(hint: Any, where: str) -> Validator[Any]:
    """The validator for a type hint of an attrs field (str, float, int, list[X], X | None, ...)."""
    if isinstance(hint, Validator):
        return cast(Validator[Any], hint)
    simple: dict[Any, Callable[[], Validator[Any]]] = {
        str: StringV,
        float: Float64V,
        int: Int64V,
        bool: BooleanV,
        bytes: BytesV,
        type(None): NullV,
        None: NullV,
        Any: AnyV,
    }
    if hint in simple:
        return simple[hint]()
    origin, args = get_origin(hint), get_args(hint)
    if origin in (list, Sequence, tuple) and args:
        return ArrayV(from_type(args[0], where))
    if origin in (dict, Mapping) and len(args) == 2:
        return RecordV(from_type(args[0], where), from_type(args[1], where))
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        inner = (
            from_type(members[0], where)
            if len(members) == 1
            else UnionV(*(from_type(a, where) for a in members))
        )
        return OptionalV(inner) if len(members) < len(args) else inner
    if origin is Literal:
        literals = [LiteralV(a) for a in args]
        return UnionV(*literals) if len(literals) > 1 else literals[0]
    if origin is Id or hint is Id:
        return IdV("*")
    if isinstance(hint, type) and attrs.has(hint):
        return object_of(hint)
    raise TypeError(
        f"{where}: no Convex validator for the type {hint!r}; give one in the field's metadata"
    )


def object_of(cls: type[T]) -> ObjectV[T]:
    """The object validator of an attrs class, from its field types.

    A field may name its validator explicitly: `attrs.field(metadata={"validator": v.id("users")})`.
    """
    hints = attrs.resolve_types(cls)
    fields: dict[str, Validator[Any]] = {}
    for field in attrs.fields(hints):
        explicit = field.metadata.get("validator")
        where = f"{cls.__name__}.{field.name}"
        fields[field.name] = explicit if explicit is not None else from_type(field.type, where)
    return ObjectV(fields, cls)


class _V:
    """The validator namespace users write as `v.string()`, `v.array(v.int64())`, ..."""

    @staticmethod
    def string() -> StringV:
        return StringV()

    @staticmethod
    def number() -> Float64V:
        return Float64V()

    float64 = number

    @staticmethod
    def int64() -> Int64V:
        return Int64V()

    @staticmethod
    def boolean() -> BooleanV:
        return BooleanV()

    @staticmethod
    def null() -> NullV:
        return NullV()

    @staticmethod
    def bytes() -> BytesV:
        return BytesV()

    @staticmethod
    def literal(value: str | int | float | bool) -> LiteralV:
        return LiteralV(value)

    @staticmethod
    def id(table: str) -> IdV:
        return IdV(table)

    @staticmethod
    def array(item: Validator[T]) -> ArrayV[T]:
        return ArrayV(item)

    @staticmethod
    def object(fields: Mapping[str, Validator[Any]]) -> ObjectV[dict[str, Any]]:
        return ObjectV(fields)

    @staticmethod
    def record(keys: Validator[str], values: Validator[T]) -> RecordV[T]:
        return RecordV(keys, values)

    @staticmethod
    def union(*members: Validator[Any]) -> UnionV:
        return UnionV(*members)

    @staticmethod
    def optional(inner: Validator[T]) -> OptionalV[T]:
        return OptionalV(inner)

    @staticmethod
    def any() -> AnyV:
        return AnyV()

    @staticmethod
    def doc(table: str) -> DocV:
        return DocV(table)

    @staticmethod
    def of(document_class: type[T]) -> ObjectV[T]:
        """An object validator made from an attrs class."""
        return object_of(document_class)


v = _V()
