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
import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from confect.engine._single_process import SingleProcessEngine
from confect.engine.interface import BLOB_CHUNK_BYTES, BlobWriter, Commit
from confect.engine.sql import _core
from confect.engine.sql._dialect import SQLITE
from confect.engine.sql._reads import SqlReads
from confect.engine.sql._statements import Statements
from confect.model.schema import Schema

_SQL = Statements.of(SQLITE)


class EngineLockedError(Exception):
    """Another process has the data directory `directory` open."""

    def __init__(self, directory: Path) -> None:
        super().__init__(f"{directory} is in use by another process")
        self.directory = directory


class SqliteEngine(SingleProcessEngine, SqlReads):
    """A deployment's data in `directory` (`data.sqlite3` and `blobs/`)."""

    _sql = _SQL

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock_file = open(self.directory / "lock", "w")  # noqa: SIM115 - held while open
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise EngineLockedError(self.directory) from None
        self._blobs = self.directory / "blobs"
        self._incoming = self._blobs / "incoming"
        shutil.rmtree(self._incoming, ignore_errors=True)  # uploads cut off by a stop
        self._incoming.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            self.directory / "data.sqlite3", isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SQL.setup)
        super().__init__(
            int(_core.meta(self._db, _SQL, "last_ts", "0")),
            float(_core.meta(self._db, _SQL, "last_creation", "0")),
        )

    def close(self) -> None:
        """Close the database and release the directory."""
        with self._lock:
            self._db.close()
            self._lock_file.close()

    @contextlib.contextmanager
    def _transaction(self) -> Generator[None]:
        """A write transaction (hold `_lock`): committed (one fsync) unless it raises."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def configure(self, schema: Schema) -> dict[str, int]:
        with self._lock, self._transaction():
            self.catalog, numbers = _core.configure(self._db, _SQL, schema)
            return numbers

    def set_table_numbers(self, numbers: dict[str, int]) -> None:
        with self._lock, self._transaction():
            _core.set_table_numbers(self._db, _SQL, numbers)

    def _query(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(statement, params).fetchall()

    # --- commits -----------------------------------------------------------------------------

    def _store(self, commits: list[Commit], last_creation: float) -> None:
        """All of `commits` in one SQLite transaction (one fsync)."""
        rows = _core.batch_rows(commits, self.catalog)
        with self._transaction():
            _core.write_batch(self._db, _SQL, rows, commits[-1].ts, last_creation)

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
