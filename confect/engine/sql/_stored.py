"""Documents as the SQL engines store them: compact stored JSON, decoded as they are read,
with a damaged one named (its table and id) rather than failing everything around it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from confect.engine.records import Document
from confect.model.documents import user_fields
from confect.model.errors import CorruptDocumentError, SchemaError, ValidationError
from confect.model.schema import Schema
from confect.model.values import from_stored_json, to_stored_json

MAX_REPORTED = 20
log = logging.getLogger("confect.engine")

StoredRow = tuple[Any, Any]
"""A stored document as an engine's query gives it: (its id, its stored body)."""


def document_to_json(document: Document) -> str:
    """A document as stored: compact stored JSON (`to_stored_json`)."""
    return json.dumps(to_stored_json(document), separators=(",", ":"))


def document_from_json(body: str | bytes, table: str, id_: str) -> Document:
    """The stored document `id_` of `table` from its body (what `document_to_json` wrote);
    raises `CorruptDocumentError` (naming both) if the body is not a stored document."""
    try:
        value = from_stored_json(body)
    except (ValueError, RecursionError) as error:
        raise CorruptDocumentError(table=table, id=id_, message=str(error)) from None
    if not isinstance(value, dict):
        raise CorruptDocumentError(table=table, id=id_, message="it is not a JSON object")
    if value.get("_id") != id_ or type(value.get("_creationTime")) is not float:
        raise CorruptDocumentError(
            table=table, id=id_, message="its _id or _creationTime is missing or wrong"
        )
    return value


def readable(table: str, rows: Iterable[StoredRow]) -> Iterator[Document]:
    """The documents of `rows` (of `table`) that can be decoded; the others are left out
    (`check_documents` reports them when the engine opens)."""
    for id_, body in rows:
        try:
            yield document_from_json(body, table, str(id_))
        except CorruptDocumentError:
            continue


def scan_in_chunks(
    fetch: Callable[[bytes, bytes], Sequence[tuple[Any, Any, Any]]],
    table: str,
    lo: bytes,
    hi: bytes,
    descending: bool,
    chunk: int,
) -> Iterator[tuple[bytes, Document]]:
    """A scan of [lo, hi) by queries of `chunk` rows (`fetch(lo, hi)` gives the next rows
    of (key, id, stored body) in scan order), each document decoded as it is reached: no
    query holds the database while the reader works, and a reader that stops early decodes
    little. A document that cannot be decoded fails the scan when it is reached."""
    while True:
        rows = fetch(lo, hi)
        for key, id_, body in rows:
            yield bytes(key), document_from_json(body, table, str(id_))
        if len(rows) < chunk:
            return
        last = bytes(rows[-1][0])
        if descending:
            hi = last
        else:
            lo = last + b"\x00"


def check_documents(schema: Schema, stored: Callable[[str], Iterable[StoredRow]]) -> None:
    """Refuse a schema that the stored documents (`stored(table)`) do not match, with a
    report of them. Documents that cannot be decoded at all are logged (which table, which
    id) and otherwise left alone: one damaged row must not keep a deployment from opening."""
    bad: list[str] = []
    count = 0
    unreadable: list[str] = []
    broken = 0
    for name, table in schema.tables.items():
        for id_, body in stored(name):
            try:
                document = document_from_json(body, name, str(id_))
            except CorruptDocumentError as error:
                broken += 1
                if len(unreadable) < MAX_REPORTED:
                    unreadable.append(f"  {name} {id_}: {error.message}")
                continue
            if name.startswith("_"):
                continue
            try:
                table.validator.decode(user_fields(document), "document")
            except ValidationError as error:
                count += 1
                if len(bad) < MAX_REPORTED:
                    bad.append(f"  {name} {document['_id']}: {error}")
    if broken:
        log.error(
            "%d stored document(s) cannot be read; they are kept as they are, the others are "
            "served, and a read that reaches one of them fails:\n%s",
            broken,
            "\n".join(unreadable) + _more(broken, unreadable),
        )
    if count:
        raise SchemaError(
            message=f"{count} stored document(s) do not match the new schema; "
            f"fix the schema or the data, then start again:\n" + "\n".join(bad) + _more(count, bad)
        )


def _more(count: int, shown: list[str]) -> str:
    return f"\n  ... and {count - len(shown)} more" if count > len(shown) else ""
