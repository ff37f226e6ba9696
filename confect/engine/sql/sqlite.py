"""The SQLite engine: the durable, embedded default (stdlib `sqlite3`, WAL, fsync on commit).

Documents are rows of JSON (Convex's wire encoding); every index is rows of
(table, index, key, id) whose BLOB keys sort as Convex values do, so range reads are
SQLite B-tree range scans. File blobs are files next to the database, named by sha256
(written first to `blobs/incoming/`, then moved into place). One process owns a data
directory at a time (a lock file says so).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from confect.engine.interface import (
    BLOB_CHUNK_BYTES,
    BlobWriter,
    Commit,
    CommitLog,
    CommitRequest,
    Document,
    Engine,
    IndexCatalog,
    StoredRow,
    accept_batch,
    check_documents,
    decode_document,
    encode_document,
    index_changes,
    number_new_tables,
    readable,
    scan_in_chunks,
)
from confect.model.errors import WriteConflict
from confect.model.schema import Schema

SCAN_CHUNK = 256

_SETUP = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tables (name TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, tbl TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS documents_by_table ON documents (tbl);
CREATE TABLE IF NOT EXISTS entries (
    tbl TEXT NOT NULL, idx TEXT NOT NULL, key BLOB NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (tbl, idx, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_by_id ON entries (id);
CREATE TABLE IF NOT EXISTS terms (
    tbl TEXT NOT NULL, idx TEXT NOT NULL, term TEXT NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (tbl, idx, term, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS terms_by_id ON terms (id);
"""


class EngineLockedError(Exception):
    """Another process has this data directory open."""


class SqliteEngine(Engine):
    """A deployment's data in `directory` (`data.sqlite3` and `blobs/`)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.directory / "lock", "w")  # noqa: SIM115 - held while open
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise EngineLockedError(f"{self.directory} is in use by another process") from None
        self._blobs = self.directory / "blobs"
        self._incoming = self._blobs / "incoming"
        shutil.rmtree(self._incoming, ignore_errors=True)  # uploads cut off by a stop
        self._incoming.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            self.directory / "data.sqlite3", isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SETUP)
        self._ts = int(self._meta("last_ts", "0"))
        self._creation = float(self._meta("last_creation", "0"))
        self._log = CommitLog(known_after=self._ts)
        self._lock = threading.RLock()

    def close(self) -> None:
        """Close the database and release the directory."""
        with self._lock:
            self._db.close()
            self._lock_file.close()

    def _meta(self, key: str, default: str) -> str:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # --- schema ------------------------------------------------------------------------------

    def configure(self, schema: Schema) -> dict[str, int]:
        with self._lock:
            check_documents(schema, self._rows)
            self.catalog = IndexCatalog(schema)
            self._db.execute("BEGIN IMMEDIATE")
            try:
                numbers = self._number_tables(schema)
                self._rebuild_changed_indexes()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return numbers

    def _number_tables(self, schema: Schema) -> dict[str, int]:
        known = {str(n): int(x) for n, x in self._db.execute("SELECT name, number FROM tables")}
        numbers = number_new_tables(known, schema.tables)
        self._db.executemany(
            "INSERT INTO tables (name, number) VALUES (?, ?)",
            [(name, number) for name, number in numbers.items() if name not in known],
        )
        return numbers

    def _rebuild_changed_indexes(self) -> None:
        now = {t: {i: list(f) for i, f in idx.items()} for t, idx in self.catalog.fields.items()}
        stale, fresh = index_changes(json.loads(self._meta("indexes", "{}")), now)
        for table, index in stale:
            self._db.execute("DELETE FROM entries WHERE tbl = ? AND idx = ?", (table, index))
        for table, index in fresh:
            self._backfill(table, index)
        self._set_meta("indexes", json.dumps(now, sort_keys=True))
        stale, fresh = index_changes(json.loads(self._meta("search", "{}")), self.catalog.search)
        for table, index in stale:
            self._db.execute("DELETE FROM terms WHERE tbl = ? AND idx = ?", (table, index))
        for table, index in fresh:
            self._backfill_terms(table, index)
        self._set_meta("search", json.dumps(self.catalog.search, sort_keys=True))

    def _rows(self, table: str) -> Iterator[StoredRow]:
        """Every document of `table` as stored (id, body), streamed (callers may write
        other tables of this connection meanwhile: `entries`, `terms`)."""
        # bodies are read as bytes: one that is not UTF-8 is then a corrupt document (named
        # when decoded), not an error of the whole statement
        yield from self._db.execute(
            "SELECT id, CAST(body AS BLOB) FROM documents WHERE tbl = ?", (table,)
        )

    def _stored(self, table: str) -> Iterator[Document]:
        """Every readable document of `table`, streamed as `_rows` is."""
        return readable(table, self._rows(table))

    def _backfill(self, table: str, index: str) -> None:
        for document in self._stored(table):
            key = self.catalog.keys(table, document)[index]
            self._db.execute(
                "INSERT INTO entries (tbl, idx, key, id) VALUES (?, ?, ?, ?)",
                (table, index, key, document["_id"]),
            )

    def _backfill_terms(self, table: str, index: str) -> None:
        for document in self._stored(table):
            self._insert_terms(
                table, str(document["_id"]), {index: self.catalog.terms(table, document)[index]}
            )

    def _insert_terms(self, table: str, id_: str, terms: dict[str, set[str]]) -> None:
        rows = [(table, index, word, id_) for index, found in terms.items() for word in found]
        if rows:
            self._db.executemany("INSERT INTO terms (tbl, idx, term, id) VALUES (?, ?, ?, ?)", rows)

    def set_table_numbers(self, numbers: dict[str, int]) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM tables")
            self._db.executemany("INSERT INTO tables (name, number) VALUES (?, ?)", numbers.items())
            self._db.execute("COMMIT")

    # --- reads -------------------------------------------------------------------------------

    def last_ts(self) -> int:
        return self._ts

    def get(self, table: str, id_: str) -> Document | None:
        with self._lock:
            row = self._db.execute(
                "SELECT CAST(body AS BLOB) FROM documents WHERE id = ? AND tbl = ?", (id_, table)
            ).fetchone()
        return None if row is None else decode_document(row[0], table, id_)

    def scan(
        self, table: str, index: str, lo: bytes, hi: bytes, descending: bool
    ) -> Iterator[tuple[bytes, Document]]:
        query = (
            "SELECT e.key, e.id, CAST(d.body AS BLOB) FROM entries e JOIN documents d ON d.id = e.id "
            "WHERE e.tbl = ? AND e.idx = ? AND e.key >= ? AND e.key < ? "
            f"ORDER BY e.key {'DESC' if descending else 'ASC'} LIMIT {SCAN_CHUNK}"
        )

        def fetch(lo: bytes, hi: bytes) -> list[tuple[Any, Any, Any]]:
            with self._lock:
                return self._db.execute(query, (table, index, lo, hi)).fetchall()

        return scan_in_chunks(fetch, table, lo, hi, descending, SCAN_CHUNK)

    def search_candidates(self, table: str, index: str, terms: Sequence[str]) -> set[str]:
        if not terms:
            return set()
        *whole, prefix = terms
        query = "SELECT id FROM terms WHERE tbl = ? AND idx = ? AND term >= ? AND term < ?"
        params: list[Any] = [table, index, prefix, prefix + "\U0010ffff"]
        if whole:
            query += f" UNION SELECT id FROM terms WHERE tbl = ? AND idx = ? AND term IN ({','.join('?' * len(whole))})"
            params += [table, index, *whole]
        with self._lock:
            return {str(row[0]) for row in self._db.execute(query, params)}

    # --- commits -----------------------------------------------------------------------------

    def commit_many(self, requests: Sequence[CommitRequest]) -> list[int | WriteConflict]:
        """Commit several transactions with one SQLite transaction (one fsync)."""
        with self._lock:
            results, accepted = accept_batch(requests, self._log, self._ts, self.catalog)
            if accepted:
                self._apply(accepted)
            return results

    def _apply(self, commits: list[Commit]) -> None:
        db = self._db
        creation = self._creation
        db.execute("BEGIN IMMEDIATE")
        try:
            for commit in commits:
                for write in commit.writes:
                    if write.old is not None:
                        db.execute("DELETE FROM entries WHERE id = ?", (write.id,))
                        db.execute("DELETE FROM terms WHERE id = ?", (write.id,))
                    if write.new is None:
                        db.execute("DELETE FROM documents WHERE id = ?", (write.id,))
                        continue
                    db.execute(
                        "INSERT OR REPLACE INTO documents (id, tbl, body) VALUES (?, ?, ?)",
                        (write.id, write.table, encode_document(write.new)),
                    )
                    db.executemany(
                        "INSERT INTO entries (tbl, idx, key, id) VALUES (?, ?, ?, ?)",
                        [
                            (write.table, index, key, write.id)
                            for index, key in self.catalog.keys(write.table, write.new).items()
                        ],
                    )
                    self._insert_terms(
                        write.table, write.id, self.catalog.terms(write.table, write.new)
                    )
                    created = write.new["_creationTime"]
                    if isinstance(created, float) and created > creation:
                        creation = created
            self._set_meta("last_ts", str(commits[-1].ts))
            self._set_meta("last_creation", repr(creation))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._ts = commits[-1].ts
        for commit in commits:
            self._log.append(commit)

    def commits_since(self, ts: int) -> list[Commit] | None:
        return self._log.since(ts, self._ts)

    def next_creation_time(self, now_ms: float) -> float:
        with self._lock:
            self._creation = max(now_ms, self._creation + 0.001)
            return self._creation

    # --- blobs -------------------------------------------------------------------------------

    def _blob_path(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self._blobs / sha256[:2] / sha256

    def new_blob(self) -> BlobWriter:
        return _BlobFile(self._incoming / f"{uuid.uuid4().hex}.part", self._blob_path)

    def read_blob(self, sha256: str) -> Iterator[bytes] | None:
        try:
            file = open(self._blob_path(sha256), "rb")  # noqa: SIM115 - closed by _pieces_of
        except FileNotFoundError:
            return None
        return _pieces_of(file)

    def delete_blob(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._blob_path(sha256).unlink()


class _BlobFile(BlobWriter):
    """A blob written to a file of its own in `incoming/`, moved into place when kept."""

    def __init__(self, path: Path, final_path: Callable[[str], Path]) -> None:
        super().__init__()
        self._path = path
        self._final_path = final_path
        self._file = open(path, "wb")  # noqa: SIM115 - closed when kept or discarded

    def _store(self, piece: bytes | bytearray | memoryview) -> None:
        self._file.write(piece)

    def _keep(self) -> str:
        sha256 = self.sha256
        path = self._final_path(sha256)
        if path.exists():  # the same bytes are stored already
            self._discard()
            return sha256
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path, path)
        _fsync_directory(path.parent)
        return sha256

    def _discard(self) -> None:
        self._file.close()
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()


def _pieces_of(file: BinaryIO) -> Iterator[bytes]:
    with file:
        while piece := file.read(BLOB_CHUNK_BYTES):
            yield piece


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
