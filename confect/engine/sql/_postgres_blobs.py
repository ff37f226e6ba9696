"""File blobs of the PostgreSQL engine: rows of `blob_chunks`, written and read a piece at
a time on a connection of their own, so no file is ever whole in memory and file traffic
does not queue behind reads and commits.

A blob is written under a key of its own (the writing process's id, then a random part)
and named by its sha256 in `blob_names` once it is whole; the pieces of a blob whose writer
stopped before naming it are dropped when a process opens the deployment and that writer
is not running. (Rows, not large objects: rows belong to the deployment's schema, dropped
and copied with it, and each piece is one short statement.)
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import psycopg

from confect.engine.interface import BLOB_CHUNK_BYTES, BlobWriter

T = TypeVar("T")
Connection = psycopg.Connection[Any]
OnConnection = Callable[[Callable[[Connection], Any]], Any]

SETUP = """
CREATE TABLE IF NOT EXISTS blob_chunks (
    blob TEXT NOT NULL, seq INTEGER NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (blob, seq)
);
CREATE TABLE IF NOT EXISTS blob_names (
    sha256 TEXT PRIMARY KEY, blob TEXT NOT NULL, chunks INTEGER NOT NULL
);
"""

# Before blob_chunks, each blob was one row of `blobs` (sha256, data): cut into pieces.
_PIECES_OF_WHOLE_BLOBS = (
    "INSERT INTO blob_chunks (blob, seq, data) "
    "SELECT sha256, n, substring(data FROM n * %(chunk)s + 1 FOR %(chunk)s) FROM blobs, "
    "generate_series(0, (length(data) + %(chunk)s - 1) / %(chunk)s - 1) AS n",
    "INSERT INTO blob_names (sha256, blob, chunks) "
    "SELECT sha256, sha256, (length(data) + %(chunk)s - 1) / %(chunk)s FROM blobs",
    "DROP TABLE blobs",
)


def set_up(db: Connection) -> None:
    """Create the blob tables where they are missing, and move blobs stored whole (as
    before them) into them (in the caller's transaction)."""
    db.execute(SETUP)
    if db.execute("SELECT to_regclass('blobs')").fetchall()[0][0] is not None:
        for statement in _PIECES_OF_WHOLE_BLOBS:
            db.execute(statement, {"chunk": BLOB_CHUNK_BYTES})


class PostgresBlobs:
    """The blobs of one engine, on a connection `connect` makes at the first file (and
    again if it is lost)."""

    def __init__(self, process_id: str, connect: Callable[[], Connection]) -> None:
        self._process_id = process_id
        self._connect = connect
        self._db: Connection | None = None
        self._lock = threading.Lock()

    def _on_connection(self, work: Callable[[Connection], T]) -> T:
        """`work` done on the connection for files (a new one if the last was lost)."""
        with self._lock:
            if self._db is None or self._db.broken:
                self._db = self._connect()
            return work(self._db)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

    def new_blob(self) -> BlobWriter:
        return _BlobRows(f"{self._process_id}.{uuid.uuid4().hex}", self._on_connection)

    def read_blob(self, sha256: str) -> Iterator[bytes] | None:
        row = self._on_connection(
            lambda db: db.execute(
                "SELECT blob, chunks FROM blob_names WHERE sha256 = %s", (sha256,)
            ).fetchone()
        )
        return None if row is None else self._pieces(sha256, str(row[0]), int(row[1]))

    def _pieces(self, sha256: str, key: str, count: int) -> Iterator[bytes]:
        for seq in range(count):
            yield self._on_connection(lambda db, seq=seq: _piece(db, sha256, key, seq))

    def delete_blob(self, sha256: str) -> None:
        def delete(db: Connection) -> None:
            with db.transaction():
                named = db.execute(
                    "DELETE FROM blob_names WHERE sha256 = %s RETURNING blob", (sha256,)
                ).fetchall()
                if named:
                    db.execute("DELETE FROM blob_chunks WHERE blob = %s", (named[0][0],))

        self._on_connection(delete)


def drop_abandoned(on_connection: OnConnection, is_running: Callable[[str], bool]) -> None:
    """Drop the pieces of blobs that processes which have stopped were writing."""
    unnamed = on_connection(
        lambda db: db.execute(
            "SELECT c.blob FROM blob_chunks c WHERE c.seq = 0 AND NOT EXISTS "
            "(SELECT 1 FROM blob_names n WHERE n.blob = c.blob)"
        ).fetchall()
    )
    for key in [str(key) for (key,) in unnamed]:
        if not is_running(key.partition(".")[0]):
            on_connection(
                lambda db, key=key: db.execute("DELETE FROM blob_chunks WHERE blob = %s", (key,))
            )


class _BlobRows(BlobWriter):
    """A blob written as rows of BLOB_CHUNK_BYTES under `key`, named when it is kept."""

    def __init__(self, key: str, on_connection: OnConnection) -> None:
        super().__init__()
        self._key = key
        self._on_connection = on_connection
        self._buffer = bytearray()
        self._rows = 0

    def _store(self, piece: bytes | bytearray | memoryview) -> None:
        rest = memoryview(piece)
        if self._buffer:
            room = BLOB_CHUNK_BYTES - len(self._buffer)
            self._buffer += rest[:room]
            rest = rest[room:]
            if len(self._buffer) < BLOB_CHUNK_BYTES:
                return
            self._write_row(self._buffer)
            self._buffer = bytearray()
        while len(rest) >= BLOB_CHUNK_BYTES:
            self._write_row(rest[:BLOB_CHUNK_BYTES])
            rest = rest[BLOB_CHUNK_BYTES:]
        self._buffer += rest

    def _write_row(self, row: bytearray | memoryview) -> None:
        self._on_connection(
            lambda db: db.execute(
                "INSERT INTO blob_chunks (blob, seq, data) VALUES (%s, %s, %s)",
                (self._key, self._rows, row),
            )
        )
        self._rows += 1

    def _keep(self) -> str:
        if self._buffer:
            self._write_row(self._buffer)
        sha256 = self.sha256

        def name(db: Connection) -> None:
            with db.transaction():
                named = db.execute(
                    "INSERT INTO blob_names (sha256, blob, chunks) VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    (sha256, self._key, self._rows),
                )
                if named.rowcount == 0:  # the same bytes are stored already
                    db.execute("DELETE FROM blob_chunks WHERE blob = %s", (self._key,))

        self._on_connection(name)
        return sha256

    def _discard(self) -> None:
        self._buffer.clear()
        if self._rows:
            self._on_connection(
                lambda db: db.execute("DELETE FROM blob_chunks WHERE blob = %s", (self._key,))
            )


def _piece(db: Connection, sha256: str, key: str, seq: int) -> bytes:
    row = db.execute(
        "SELECT data FROM blob_chunks WHERE blob = %s AND seq = %s", (key, seq), binary=True
    ).fetchone()
    if row is None:
        raise FileNotFoundError(f"blob {sha256} was deleted while it was being read")
    return bytes(row[0])
