"""What the SQL engines do alike, on a connection of either (`Database`) in the caller's
transaction: adopt a schema (check the stored documents, number the new tables, rebuild
the indexes whose definition changed), and turn a batch of commits into rows."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import attrs

from confect.engine.catalog import IndexCatalog, number_new_tables
from confect.engine.records import Commit, Document
from confect.engine.sql._statements import Statements
from confect.engine.sql._stored import StoredRow, check_documents, document_to_json, readable
from confect.model.schema import Schema


class Database(Protocol):
    """A connection as the shared statements use it (a `sqlite3.Connection` is one)."""

    def execute(self, statement: str, params: Sequence[Any] = ..., /) -> Iterable[Any]: ...

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]], /) -> object: ...


def meta(db: Database, sql: Statements, key: str, default: str) -> str:
    """The store's value for `key`, or `default`."""
    for (value,) in db.execute(sql.meta, (key,)):
        return str(value)
    return default


def set_meta(db: Database, sql: Statements, key: str, value: str) -> None:
    db.execute(sql.set_meta, (key, value))


def configure(db: Database, sql: Statements, schema: Schema) -> tuple[IndexCatalog, dict[str, int]]:
    """Adopt `schema`: refuse it if stored documents break it (`check_documents`), number
    its new tables, rebuild the indexes whose definition changed. Its index catalog and
    each table's number."""
    check_documents(schema, lambda table: documents_of(db, sql, table))
    catalog = IndexCatalog(schema)
    known = {str(name): int(number) for name, number in db.execute(sql.table_numbers)}
    numbers = number_new_tables(known, schema.tables)
    db.executemany(
        sql.add_table_number,
        [(name, number) for name, number in numbers.items() if name not in known],
    )
    _rebuild_changed_indexes(db, sql, catalog)
    _rebuild_changed_search_indexes(db, sql, catalog)
    return catalog, numbers


def set_table_numbers(db: Database, sql: Statements, numbers: Mapping[str, int]) -> None:
    """Number the tables `numbers`, and no others."""
    db.execute(sql.forget_table_numbers)
    db.executemany(sql.add_table_number, list(numbers.items()))


def documents_of(db: Database, sql: Statements, table: str) -> Iterable[StoredRow]:
    """Every document of `table` as stored (id, body); SQLite streams them, and writes to
    the other tables meanwhile do not disturb that."""
    return db.execute(sql.documents_of_table, (table,))


def _rebuild_changed_indexes(db: Database, sql: Statements, catalog: IndexCatalog) -> None:
    now = {t: {i: list(f) for i, f in idx.items()} for t, idx in catalog.fields.items()}
    stale, fresh = index_changes(json.loads(meta(db, sql, "indexes", "{}")), now)
    for table, index in stale:
        db.execute(sql.drop_index, (table, index))
    for table, index in fresh:
        db.executemany(
            sql.add_entry,
            (
                (table, index, catalog.keys(table, document)[index], document["_id"])
                for document in readable(table, documents_of(db, sql, table))
            ),
        )
    set_meta(db, sql, "indexes", json.dumps(now, sort_keys=True))


def _rebuild_changed_search_indexes(db: Database, sql: Statements, catalog: IndexCatalog) -> None:
    stale, fresh = index_changes(json.loads(meta(db, sql, "search", "{}")), catalog.search)
    for table, index in stale:
        db.execute(sql.drop_search_index, (table, index))
    for table, index in fresh:
        db.executemany(
            sql.add_term,
            (
                (table, index, word, document["_id"])
                for document in readable(table, documents_of(db, sql, table))
                for word in catalog.terms(table, document)[index]
            ),
        )
    set_meta(db, sql, "search", json.dumps(catalog.search, sort_keys=True))


def index_changes(
    before: Mapping[str, Mapping[str, Any]], now: Mapping[str, Mapping[str, Any]]
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Between two index definitions (table -> index -> what it indexes): the (table, index)
    pairs whose stored entries are stale (changed or gone), and those to build (changed or new)."""
    stale = [
        (table, index)
        for table, indexes in before.items()
        for index, definition in indexes.items()
        if now.get(table, {}).get(index) != definition
    ]
    fresh = [
        (table, index)
        for table, indexes in now.items()
        for index, definition in indexes.items()
        if before.get(table, {}).get(index) != definition
    ]
    return stale, fresh


@attrs.frozen
class BatchRows:
    """What a batch of commits changes in the shared tables: a document written several
    times in the batch is written once, as it is at the end."""

    cleared: list[tuple[str]]
    """The documents whose index entries and search terms go (they had a version before)."""
    deleted: list[tuple[str]]
    documents: list[tuple[str, str, str]]
    """(id, table, stored body) of each document as it is now."""
    entries: list[tuple[str, str, bytes, str]]
    terms: list[tuple[str, str, str, str]]


def batch_rows(commits: Iterable[Commit], catalog: IndexCatalog) -> BatchRows:
    """The rows of `commits` (in order) for `write_batch`."""
    cleared: dict[str, None] = {}
    latest: dict[str, tuple[str, Document | None]] = {}
    for commit in commits:
        for write in commit.writes:
            if write.old is not None:
                cleared[write.id] = None
            latest[write.id] = (write.table, write.new)
    deleted: list[tuple[str]] = []
    documents: list[tuple[str, str, str]] = []
    entries: list[tuple[str, str, bytes, str]] = []
    terms: list[tuple[str, str, str, str]] = []
    for id_, (table, document) in latest.items():
        if document is None:
            deleted.append((id_,))
            continue
        documents.append((id_, table, document_to_json(document)))
        entries += [
            (table, index, key, id_) for index, key in catalog.keys(table, document).items()
        ]
        for index, words in catalog.terms(table, document).items():
            terms += [(table, index, word, id_) for word in words]
    return BatchRows([(id_,) for id_ in cleared], deleted, documents, entries, terms)


def write_batch(
    db: Database, sql: Statements, rows: BatchRows, last_ts: int, last_creation: float
) -> None:
    """Write `rows` and the store's new last commit ts and creation time."""
    if rows.cleared:
        db.executemany(sql.delete_entries_of, rows.cleared)
        db.executemany(sql.delete_terms_of, rows.cleared)
    if rows.deleted:
        db.executemany(sql.delete_document, rows.deleted)
    if rows.documents:
        db.executemany(sql.put_document, rows.documents)
    if rows.entries:
        db.executemany(sql.add_entry, rows.entries)
    if rows.terms:
        db.executemany(sql.add_term, rows.terms)
    db.execute(sql.set_last_commit, (str(last_ts), repr(last_creation)))
