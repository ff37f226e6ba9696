"""The dashboard's data: the tables with their schema, pages of documents read straight
from the engine (never a whole table), and writes through the deployment's mutations'
write path (validated against the schema, committed as a mutation commits, so every
subscription sees them).

A page's cursor is the index key of the last document it read, in URL-safe base64: the
next page reads on from just after it. A field filter reads at most `SCAN_BUDGET`
documents per page, so a filter that matches nothing on a big table still answers soon
(with a cursor to read on).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterator
from typing import Any

import effects
from confect.codegen._typescript import ts_type
from confect.engine.interface import BY_CREATION_TIME, BY_ID, Document, field_value
from confect.model.errors import InvalidValueError, ValidationError
from confect.model.schema import HIDDEN_TABLES, TableDefinition
from confect.model.validators import FieldEncoder
from confect.model.values import Value, from_wire, to_wire
from confect.runtime.call_log import failure
from confect.runtime.deployment import Deployment
from confect.server.calls import ErrorCode, RequestError
from confect.server.dashboard.messages import (
    DeleteRequest,
    DocumentsPage,
    DocumentsRequest,
    Done,
    IndexInfo,
    Inserted,
    InsertRequest,
    ReplaceRequest,
    SearchIndexInfo,
    TableInfo,
    TablesResponse,
)
from confect.services.database import DatabaseWriter, DatabaseWriterService
from confect.services.query_builder import IndexRangeBuilder
from effects import Effect
from effects.exit import Failure, Success

_URL_SAFE = str.maketrans("-_", "+/")
SCAN_BUDGET = 5000
"""The most documents one page of a filtered read looks at."""


def tables(deployment: Deployment) -> TablesResponse:
    """Every table the app sees (its own, then the system tables), with schema and indexes."""
    listed = sorted(deployment.schema.visible_tables.items(), key=lambda t: t[0].startswith("_"))
    return TablesResponse([_table_info(name, table) for name, table in listed])


def _table_info(name: str, table: TableDefinition[Any]) -> TableInfo:
    return TableInfo(
        name=name,
        system=name.startswith("_"),
        document=ts_type(table.validator),
        indexes=[IndexInfo(i.name, list(i.fields)) for i in table.indexes.values()],
        search_indexes=[
            SearchIndexInfo(s.name, s.search_field, list(s.filter_fields))
            for s in table.search_indexes.values()
        ],
    )


def table_of(deployment: Deployment, name: str) -> TableDefinition[Any]:
    """The visible table `name`; a 404 `RequestError` if there is none."""
    if name in HIDDEN_TABLES or name not in deployment.schema.tables:
        raise RequestError(ErrorCode.NOT_FOUND, f"no table named {name!r}")
    return deployment.schema.tables[name]


def documents(deployment: Deployment, request: DocumentsRequest) -> DocumentsPage:
    """A page of `request.table`'s documents (see `DocumentsRequest`)."""
    table = table_of(deployment, request.table)
    lo, hi = _range(table, request)
    descending = request.order == "desc"
    if request.cursor is not None:
        after = _key_of(request.cursor)
        if descending:
            hi = min(hi, after)
        else:
            lo = max(lo, after + b"\x00")
    scan = deployment.engine.scan(request.table, request.index, lo, hi, descending)
    matches = _matcher(table, request)
    return _page(scan, matches, request.limit)


def _page(
    scan: Iterator[tuple[bytes, Document]], matches: Callable[[Document], bool], limit: int
) -> DocumentsPage:
    found: list[Any] = []
    scanned = 0
    for key, document in scan:
        scanned += 1
        if matches(document):
            found.append(to_wire(document))
        if len(found) >= limit or scanned >= SCAN_BUDGET:
            return DocumentsPage(found, _cursor(key), scanned)
    return DocumentsPage(found, None, scanned)


def _range(table: TableDefinition[Any], request: DocumentsRequest) -> tuple[bytes, bytes]:
    if request.index == BY_CREATION_TIME:
        fields = ["_creationTime"]
    elif request.index == BY_ID:
        fields = ["_id"]
    elif request.index in table.indexes:
        fields = [*table.indexes[request.index].fields, "_creationTime"]
    else:
        raise RequestError(
            ErrorCode.BAD_REQUEST, f"table {request.table!r} has no index {request.index!r}"
        )
    if len(request.eq) + (request.lower is not None or request.upper is not None) > len(fields):
        raise RequestError(
            ErrorCode.BAD_REQUEST,
            f"index {request.index!r} orders by {fields}: too many values for its range",
        )
    if request.lower is not None and request.lower.op not in ("gt", "gte"):
        raise RequestError(ErrorCode.BAD_REQUEST, "a lower bound's op is gt or gte")
    if request.upper is not None and request.upper.op not in ("lt", "lte"):
        raise RequestError(ErrorCode.BAD_REQUEST, "an upper bound's op is lt or lte")
    builder = IndexRangeBuilder(request.index, fields, FieldEncoder(table.validator))
    try:
        for field, value in zip(fields, request.eq, strict=False):
            builder.eq(field, _value(value, f"eq.{field}"))
        for bound in (request.lower, request.upper):
            if bound is not None:  # on the field after the equalities (checked above)
                bounded = fields[len(request.eq)]
                getattr(builder, bound.op)(bounded, _value(bound.value, bound.op))
    except ValidationError as error:
        raise RequestError(ErrorCode.BAD_REQUEST, str(error)) from None
    return builder.bounds()


def _matcher(table: TableDefinition[Any], request: DocumentsRequest) -> Callable[[Document], bool]:
    wanted = request.field
    if wanted is None:
        return lambda _: True
    value = FieldEncoder(table.validator)(wanted.path, _value(wanted.value, "field.value"))
    return lambda document: field_value(document, wanted.path) == value


def _value(wire: Any, where: str) -> Value:
    try:
        return from_wire(wire, where)
    except InvalidValueError as error:
        raise RequestError(ErrorCode.BAD_REQUEST, f"{where}: {error}") from None


def _cursor(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def _key_of(cursor: str) -> bytes:
    try:
        key = base64.b64decode(cursor.translate(_URL_SAFE), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise RequestError(ErrorCode.BAD_REQUEST, "the cursor is not one a page gave")
    return key


# --- writes ---------------------------------------------------------------------------------


def _writable(deployment: Deployment, name: str) -> None:
    table_of(deployment, name)
    if name.startswith("_"):
        raise RequestError(
            ErrorCode.BAD_REQUEST, f"{name!r} is a system table: the dashboard only reads it"
        )


def _fields(document: dict[str, Any]) -> dict[str, Value]:
    decoded = _value(document, "document")
    assert isinstance(decoded, dict)
    return decoded


async def insert(deployment: Deployment, request: InsertRequest) -> Inserted:
    """Insert a document, validated by the table's schema."""
    _writable(deployment, request.table)
    fields = _fields(request.document)
    inserted = await _mutate(deployment, lambda db: db.table(request.table).insert(fields))
    return Inserted(str(inserted))


async def replace(deployment: Deployment, request: ReplaceRequest) -> Done:
    """Replace a document's fields, validated by the table's schema."""
    _writable(deployment, request.table)
    fields = _fields(request.document)
    await _mutate(deployment, lambda db: db.table(request.table).replace(request.id, fields))
    return Done(1)


async def delete(deployment: Deployment, request: DeleteRequest) -> Done:
    """Delete documents, in one transaction."""
    _writable(deployment, request.table)
    table = request.table

    def delete_all(db: DatabaseWriterService) -> Effect[None, Any]:
        return effects.for_each(request.ids, lambda id_: db.table(table).delete(id_)).as_(None)

    await _mutate(deployment, delete_all)
    return Done(len(request.ids))


async def _mutate(
    deployment: Deployment, write: Callable[[DatabaseWriterService], Effect[Any, Any]]
) -> Any:
    """Run `write` as a mutation of the deployment does, and commit it; a `RequestError`
    with its message if it fails (the document does not fit the schema, no such id)."""
    exit_ = await effects.run_exit(deployment.transact(lambda: DatabaseWriter.flat_map(write)))
    if isinstance(exit_, Failure):
        message, _ = failure(exit_.cause)
        raise RequestError(ErrorCode.BAD_REQUEST, message.removeprefix("Uncaught "))
    assert isinstance(exit_, Success)
    return exit_.value.value
