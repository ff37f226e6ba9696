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
            while isinstance(validator, OptionalV):
                validator = cast(OptionalV[Any], validator).inner
            if not isinstance(validator, ObjectV):
                return None
            validator = validator.fields.get(part)
        return validator
