"""DatabaseWriter: the service mutations write with (`db.table(name).insert(...)`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar, cast, overload

import effects
from confect.engine.interface import Document
from confect.model.documents import user_fields
from confect.model.errors import GetByIdFailure, ValidationError
from confect.model.ids import Id, table_number_of
from confect.model.schema import SYSTEM_FIELDS, Schema, TableDefinition
from confect.model.validators import AnyV, ObjectV, UnionV
from confect.model.values import MISSING, Value
from confect.runtime.transaction import Transaction
from effects import Effect, Tag

D = TypeVar("D")
_UNKNOWN_FIELD = AnyV()
"""How `patch` encodes a field its table does not declare (the check after refuses it)."""


class TableWriter(Generic[D]):
    """Writes to one table whose documents are `D`s: `db.table(notes).insert(Note(...))`.

    A document is given as an instance of the table's class or as a mapping of its fields
    (checked at run time only)."""

    def __init__(self, tx: Transaction, schema: Schema, table: str | TableDefinition[D]) -> None:
        self._tx = tx
        self._table = schema.name_of(table)
        self._validator = schema.table(self._table).validator

    def insert(self, document: D | Mapping[str, Any]) -> Effect[Id[D], ValidationError]:
        """Validate and insert; succeed with the new id."""
        return effects.sync(lambda: Id(self._tx.insert(self._table, self._fields(document))))

    def patch(
        self, id_: str, fields: Mapping[str, Any]
    ) -> Effect[None, GetByIdFailure | ValidationError]:
        """Merge `fields` into the document, as Convex's `patch`: a field set to `MISSING`
        is removed, and so is one set to `None` where the field is optional and cannot
        hold `null` (elsewhere `None` stores `null`); the other fields are left as they are.
        `_id` and `_creationTime` may be given if unchanged (they are then left out)."""

        def run() -> None:
            current = self._current(id_)
            given = _without_system_fields(current, fields, "patch")
            self._tx.replace(self._table, current, self._patched(user_fields(current), given))

        return effects.sync(run)

    def replace(
        self, id_: str, document: D | Mapping[str, Any]
    ) -> Effect[None, GetByIdFailure | ValidationError]:
        """Replace all user fields of the document (`_id` and `_creationTime` may be given
        if unchanged)."""

        def run() -> None:
            current = self._current(id_)
            given = document
            if isinstance(document, Mapping):
                given = _without_system_fields(
                    current, cast(Mapping[str, Any], document), "replace"
                )
            self._tx.replace(self._table, current, self._fields(given))

        return effects.sync(run)

    def delete(self, id_: str) -> Effect[None, GetByIdFailure]:
        """Delete the document."""
        return effects.sync(lambda: self._tx.delete(self._table, self._current(id_)))

    def _current(self, id_: str) -> Document:
        if table_number_of(id_) != self._tx.numbers.get(self._table):
            raise ValidationError(
                path="id", message=f"{id_!r} is not an id of table {self._table!r}"
            )
        current = self._tx.get(self._table, id_)
        if current is None:
            raise GetByIdFailure(id=id_, table=self._table)
        return current

    def _fields(self, document: Any) -> dict[str, Value]:
        encoded = self._validator.encode(document, "document")
        assert isinstance(encoded, dict)
        return encoded

    def _patched(self, stored: dict[str, Value], fields: Mapping[str, Any]) -> dict[str, Value]:
        """`stored` with `fields` merged in, by the first object of the table's validator (a
        union's first that fits) the whole document then fits."""
        validator = self._validator
        objects = validator.members if isinstance(validator, UnionV) else (validator,)
        failures: list[ValidationError] = []
        for document in objects:
            try:
                return _merged(cast(ObjectV[Any], document), stored, fields)
            except ValidationError as error:
                failures.append(error)
        if len(failures) == 1:
            raise failures[0]
        raise ValidationError(
            path="document",
            message=f"the patched document fits no object of {validator.describe()} "
            f"({'; '.join(str(f) for f in failures)})",
        )


def _merged(
    document: ObjectV[Any], stored: dict[str, Value], fields: Mapping[str, Any]
) -> dict[str, Value]:
    merged = dict(stored)
    for name, value in fields.items():
        field = document.fields.get(name, _UNKNOWN_FIELD)
        if field.absent(value):
            merged.pop(name, None)
        else:
            merged[name] = field.encode(value, f"patch.{name}")
    document.decode(merged, "document")  # the whole document still fits
    return merged


def _without_system_fields(
    current: Document, fields: Mapping[str, Any], verb: str
) -> dict[str, Any]:
    """`fields` without `_id` and `_creationTime`, which may only repeat the document's."""
    for name in SYSTEM_FIELDS:
        given = fields.get(name, MISSING)
        if given is not MISSING and given != current[name]:
            raise ValidationError(
                path=f"{verb}.{name}",
                message=f"{given!r} does not match the document's {name} {current[name]!r}",
            )
    return {name: value for name, value in fields.items() if name not in SYSTEM_FIELDS}


class DatabaseWriterService:
    """What `yield from DatabaseWriter` gives."""

    def __init__(self, tx: Transaction, schema: Schema) -> None:
        self._tx = tx
        self._schema = schema

    @overload
    def table(self, table: TableDefinition[D]) -> TableWriter[D]: ...
    @overload
    def table(self, table: str) -> TableWriter[Any]: ...
    def table(self, table: str | TableDefinition[Any]) -> TableWriter[Any]:
        """Writes to a table, given by its definition (`db.table(notes)`: typed by its
        documents) or by name."""
        writer: TableWriter[Any] = TableWriter(self._tx, self._schema, table)
        return writer


class DatabaseWriter(Tag["DatabaseWriter", DatabaseWriterService]):
    """Writes: in mutations only."""
