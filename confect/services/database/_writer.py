"""DatabaseWriter: the service mutations write with (`db.table(name).insert(...)`)."""

from __future__ import annotations

from typing import Any

import effects
from confect.engine.interface import Document
from confect.model.documents import user_fields
from confect.model.errors import GetByIdFailure, ValidationError
from confect.model.ids import Id, table_number_of
from confect.model.schema import Schema
from confect.model.validators import AnyV
from confect.model.values import Value
from confect.runtime.transaction import Transaction
from effects import Effect, Tag

_UNKNOWN_FIELD = AnyV()
"""How `patch` encodes a field its table does not declare (the check after refuses it)."""


class TableWriter:
    """Writes to one table: `db.table("notes").insert(Note(...))`."""

    def __init__(self, tx: Transaction, schema: Schema, table: str) -> None:
        self._tx = tx
        self._table = table
        self._validator = schema.table(table).validator

    def insert(self, document: Any) -> Effect[Id[Any], ValidationError]:
        """Validate and insert; succeed with the new id."""
        return effects.sync(lambda: Id(self._tx.insert(self._table, self._fields(document))))

    def patch(
        self, id_: str, fields: dict[str, Any]
    ) -> Effect[None, GetByIdFailure | ValidationError]:
        """Merge `fields` into the document, as Convex's `patch`: a field set to `MISSING`
        is removed, and so is one set to `None` where the field is optional and cannot
        hold `null` (elsewhere `None` stores `null`); the other fields are left as they are."""

        def run() -> None:
            current = self._current(id_)
            merged = user_fields(current)
            for name, value in fields.items():
                if name.startswith("_"):
                    raise ValidationError(
                        path=f"patch.{name}", message="system fields cannot be patched"
                    )
                field = self._validator.fields.get(name, _UNKNOWN_FIELD)
                if field.absent(value):
                    merged.pop(name, None)
                else:
                    merged[name] = field.encode(value, f"patch.{name}")
            self._validator.decode(merged, "document")  # the whole document still fits
            self._tx.replace(self._table, current, merged)

        return effects.sync(run)

    def replace(self, id_: str, document: Any) -> Effect[None, GetByIdFailure | ValidationError]:
        """Replace all user fields of the document."""
        return effects.sync(
            lambda: self._tx.replace(self._table, self._current(id_), self._fields(document))
        )

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


class DatabaseWriterService:
    """What `yield from DatabaseWriter` gives."""

    def __init__(self, tx: Transaction, schema: Schema) -> None:
        self._tx = tx
        self._schema = schema

    def table(self, name: str) -> TableWriter:
        return TableWriter(self._tx, self._schema, name)


class DatabaseWriter(Tag["DatabaseWriter", DatabaseWriterService]):
    """Writes: in mutations only."""
