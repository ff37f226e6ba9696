"""Making validators: the `v` namespace users write (`v.string()`, `v.array(...)`), and
validators from the type hints of attrs classes (`object_of`)."""

from __future__ import annotations

import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar, Union, cast, get_args, get_origin

import attrs
from convex import ConvexInt64

from confect.model.ids import Id
from confect.model.validators._base import Validator
from confect.model.validators._classes import (
    AnyV,
    ArrayV,
    BooleanV,
    BytesV,
    DocV,
    Float64V,
    IdV,
    Int64V,
    LiteralV,
    NullV,
    ObjectV,
    OptionalV,
    RecordV,
    StringV,
    UnionV,
)
from confect.model.validators._pagination import PaginationOptsV, PaginationResultV
from confect.model.values import MISSING, Missing

T = TypeVar("T")


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
        return _from_union(args, where)
    if origin is Literal:
        literals = [LiteralV(a) for a in args]
        return UnionV(*literals) if len(literals) > 1 else literals[0]
    if origin is Id or hint is Id:
        return _id_of(args[0] if args else Any)
    if isinstance(hint, type) and attrs.has(hint):
        return object_of(hint)
    raise TypeError(
        f"{where}: no Convex validator for the type {hint!r}; give one in the field's metadata"
    )


def _id_of(target: Any) -> IdV:
    """`Id[Post]`: an id of the table of Post documents (`define_schema` names it); an id
    typed by anything but an attrs class (`Id[Any]`, `Id[dict[str, Any]]`): of any table."""
    if isinstance(target, type) and attrs.has(target):
        return IdV(None, target)
    return IdV(None)


def _from_union(args: tuple[Any, ...], where: str) -> Validator[Any]:
    """`X | None` is an optional X (None for missing); `X | None | Missing` is an optional X
    or null, and `X | Missing` an optional X (`MISSING` for missing, in both)."""
    missing, none = Missing in args, type(None) in args
    members = [from_type(a, where) for a in args if a is not type(None) and a is not Missing]
    if none and missing:
        members.append(NullV())
    inner = members[0] if len(members) == 1 else UnionV(*members)
    if missing:
        return OptionalV(inner, when_missing=MISSING)
    return OptionalV(inner) if none else inner


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
        """A float64; an `int` (within ±2**53) becomes one."""
        return Float64V()

    float64 = number

    @staticmethod
    def int64() -> Int64V:
        """An int64 (a JavaScript `bigint`): an `int` or a `ConvexInt64`; decodes to `int`."""
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
    def literal(value: str | int | float | bool | ConvexInt64) -> LiteralV:
        """One value; a number is a float64 (`v.literal(3)` is 3.0, as a JavaScript 3),
        unless it is a `ConvexInt64`."""
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
        """A field that may be missing: `None` in Python, or `MISSING` where `inner` holds
        `null` (then `None` is `null`)."""
        return OptionalV(inner)

    @staticmethod
    def any() -> AnyV:
        return AnyV()

    @staticmethod
    def doc(table: str) -> DocV:
        return DocV(table)

    @staticmethod
    def pagination_opts() -> PaginationOptsV:
        """Convex's `paginationOptsValidator`: a paginated query's `paginationOpts`,
        decoded into `PaginationOptions` (pass it to `paginate`)."""
        return PaginationOptsV()

    @staticmethod
    def pagination_result(item: Validator[Any]) -> PaginationResultV:
        """Convex's `paginationResultValidator(item)`: what `paginate` gives, as `returns`."""
        return PaginationResultV(item)

    @staticmethod
    def of(document_class: type[T]) -> ObjectV[T]:
        """An object validator made from an attrs class."""
        return object_of(document_class)


v = _V()
