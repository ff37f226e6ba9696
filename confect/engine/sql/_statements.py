"""The statements both SQL engines send, written once and spelled in each one's dialect.

The tables: `meta` (the last commit's ts and creation time, the index definitions the
entries were built for), `tables` (each table's number), `documents` (each document's
stored JSON), `entries` (each document's key in each index of its table: range reads are
B-tree range scans) and `terms` (each document's words in each search index).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from confect.engine.sql._dialect import Dialect

SCAN_CHUNK = 256
"""Rows per query of a scan."""

_SETUP = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tables (name TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, tbl TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS documents_by_table ON documents (tbl);
CREATE TABLE IF NOT EXISTS entries (
    tbl TEXT NOT NULL, idx TEXT NOT NULL, key {bytes} NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (tbl, idx, key)
){options};
CREATE INDEX IF NOT EXISTS entries_by_id ON entries (id);
CREATE TABLE IF NOT EXISTS terms (
    tbl TEXT NOT NULL, idx TEXT NOT NULL, term TEXT{byte_order} NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (tbl, idx, term, id)
){options};
CREATE INDEX IF NOT EXISTS terms_by_id ON terms (id);
"""

_UPSERT_META = "ON CONFLICT (key) DO UPDATE SET value = excluded.value"

_SCAN = (
    "SELECT e.key, e.id, {body} FROM entries e JOIN documents d ON d.id = e.id "
    "WHERE e.tbl = ? AND e.idx = ? AND e.key >= ? AND e.key < ? "
    "ORDER BY e.key {order} LIMIT " + str(SCAN_CHUNK)
)

_TERMS = "SELECT id FROM terms WHERE tbl = ? AND idx = ? AND term "
_LAST_WORD = "\U0010ffff"  # sorts after every word that starts with a prefix


@attrs.frozen
class Statements:
    """Every statement of the shared tables, in one dialect."""

    dialect: Dialect
    setup: str
    """Creates the shared tables where they are missing (several statements, no parameters)."""
    meta: str
    set_meta: str
    set_last_commit: str
    """Sets the last commit's ts and the last creation time handed out."""
    table_numbers: str
    add_table_number: str
    forget_table_numbers: str
    documents_of_table: str
    """Every document of a table as (id, stored body)."""
    body: str
    """A document's stored body, by its id and table."""
    put_document: str
    delete_document: str
    add_entry: str
    delete_entries_of: str
    drop_index: str
    add_term: str
    delete_terms_of: str
    drop_search_index: str
    scan_ascending: str
    """The next SCAN_CHUNK (key, id, stored body) of an index range, in key order."""
    scan_descending: str

    @classmethod
    def of(cls, dialect: Dialect) -> Statements:
        spell = dialect.spell
        d_body = dialect.body.format("d.body")
        return cls(
            dialect=dialect,
            setup=_SETUP.format(
                bytes=dialect.bytes_type,
                byte_order=dialect.byte_order,
                options=dialect.table_options,
            ),
            meta=spell("SELECT value FROM meta WHERE key = ?"),
            set_meta=spell(f"INSERT INTO meta (key, value) VALUES (?, ?) {_UPSERT_META}"),
            set_last_commit=spell(
                "INSERT INTO meta (key, value) VALUES ('last_ts', ?), ('last_creation', ?) "
                + _UPSERT_META
            ),
            table_numbers="SELECT name, number FROM tables",
            add_table_number=spell("INSERT INTO tables (name, number) VALUES (?, ?)"),
            forget_table_numbers="DELETE FROM tables",
            documents_of_table=spell(
                f"SELECT id, {dialect.body.format('body')} FROM documents WHERE tbl = ?"
            ),
            body=spell(
                f"SELECT {dialect.body.format('body')} FROM documents WHERE id = ? AND tbl = ?"
            ),
            put_document=spell(
                "INSERT INTO documents (id, tbl, body) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET tbl = excluded.tbl, body = excluded.body"
            ),
            delete_document=spell("DELETE FROM documents WHERE id = ?"),
            add_entry=spell("INSERT INTO entries (tbl, idx, key, id) VALUES (?, ?, ?, ?)"),
            delete_entries_of=spell("DELETE FROM entries WHERE id = ?"),
            drop_index=spell("DELETE FROM entries WHERE tbl = ? AND idx = ?"),
            add_term=spell("INSERT INTO terms (tbl, idx, term, id) VALUES (?, ?, ?, ?)"),
            delete_terms_of=spell("DELETE FROM terms WHERE id = ?"),
            drop_search_index=spell("DELETE FROM terms WHERE tbl = ? AND idx = ?"),
            scan_ascending=spell(_SCAN.format(body=d_body, order="ASC")),
            scan_descending=spell(_SCAN.format(body=d_body, order="DESC")),
        )

    def search(self, table: str, index: str, terms: Sequence[str]) -> tuple[str, list[object]]:
        """The query for the ids of documents with one of `terms` (not empty) as a word of
        `index`, or a word starting with the last term; and its parameters."""
        *whole, prefix = terms
        query = _TERMS + ">= ? AND term < ?"
        params: list[object] = [table, index, prefix, prefix + _LAST_WORD]
        if whole:
            one_of, bound = self.dialect.one_of(whole)
            query += " UNION " + _TERMS + one_of
            params += [table, index, *bound]
        return self.dialect.spell(query), params
