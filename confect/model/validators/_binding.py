"""Validators over an app's documents: `bind` tells the id and doc validators inside one
their tables, and `FieldEncoder` encodes a compared value as its document field stores it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, cast

from confect.model.errors import ValidationError
from confect.model.validators._base import Validator, encode_any
from confect.model.validators._classes import (
    ArrayV,
    DocV,
    IdV,
    ObjectV,
    OptionalV,
    RecordV,
    UnionV,
)
from confect.model.values import MISSING, Missing, Value


def bind(
    validator: Validator[Any] | None,
    numbers: Mapping[str, int],
    documents: Mapping[str, Validator[Any]],
) -> None:
    """Tell the id and doc validators inside `validator` their tables' numbers and
    document validators (a backend does this for its app when it starts)."""
    for _, node in walk(validator):
        if isinstance(node, IdV):
            node.number = None if node.table is None else numbers.get(node.table)
        elif isinstance(node, DocV):
            node.number = numbers.get(node.table)
            node.validator = documents.get(node.table)


def walk(
    validator: Validator[Any] | None, path: str = "value"
) -> Iterator[tuple[str, Validator[Any]]]:
    """`validator` and every validator inside it, each with the path of what it checks."""
    if validator is None:
        return
    yield path, validator
    for child_path, child in _children(validator, path):
        yield from walk(child, child_path)


def _children(validator: Validator[Any], path: str) -> list[tuple[str, Validator[Any]]]:
    if isinstance(validator, ArrayV):
        return [(f"{path}[]", cast(ArrayV[Any], validator).item)]
    if isinstance(validator, OptionalV):
        return [(path, cast(OptionalV[Any], validator).inner)]
    if isinstance(validator, ObjectV):
        return [(f"{path}.{name}", f) for name, f in validator.fields.items()]
    if isinstance(validator, RecordV):
        return [(f"{path}[key]", cast(RecordV[Any], validator).values)]
    if isinstance(validator, UnionV):
        return [(path, member) for member in validator.members]
    return []


class FieldEncoder:
    """Encodes a value compared with a document field the way that field stores it, so that
    `q.gt("rank", 1)` on a `v.number()` field compares with the float64 1.0, not the int64 1.

    `MISSING` stays itself (Convex's `undefined`: it matches documents without the field);
    so does `None` where the field is optional and cannot hold `null`."""

    def __init__(self, document: Validator[Any] | None) -> None:
        self._document = document

    def __call__(self, path: str, value: Any) -> Value | Missing:
        validator = self._field(path)
        if validator is None:
            return MISSING if value is MISSING else encode_any(value, path)
        if validator.absent(value):
            return MISSING
        try:
            return validator.encode(value, path)
        except ValidationError:
            return encode_any(value, path)  # a value of another type: compare it as it is

    def _field(self, path: str) -> Validator[Any] | None:
        validator = self._document
        for part in path.split("."):
            validator = _field_of(validator, part)
        return validator


def _field_of(validator: Validator[Any] | None, name: str) -> Validator[Any] | None:
    """The validator of the field `name` of objects of `validator`: of the first object of
    a union that has the field."""
    while isinstance(validator, OptionalV):
        validator = cast(OptionalV[Any], validator).inner
    if isinstance(validator, ObjectV):
        return validator.fields.get(name)
    if isinstance(validator, UnionV):
        fields = (_field_of(member, name) for member in validator.members)
        return next((field for field in fields if field is not None), None)
    return None
