"""The engine interface every storage backend implements.

An engine stores documents (plain dicts of Convex values with `_id` and `_creationTime`),
keeps each table's indexes as order-preserving byte keys (`confect.engine.catalog`), and
commits transactions with optimistic concurrency (`confect.engine.occ`): a commit names the
index ranges its transaction read, and fails with `WriteConflict` if a commit after the
transaction began wrote a document whose key falls in one of them.

The records engines exchange, the index catalog and the OCC check are re-exported here, so
that code using an engine needs this one module.
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence

from confect.engine.catalog import BY_CREATION_TIME, BY_ID, IndexCatalog, field_value, index_key
from confect.engine.occ import CommitLog, CommitRequest, conflicts
from confect.engine.records import Commit, Document, ReadRange, Write
from confect.model.errors import WriteConflict
from confect.model.schema import Schema
from confect.model.values import prefix_range

__all__ = [
    "BLOB_CHUNK_BYTES",
    "BY_CREATION_TIME",
    "BY_ID",
    "BlobWriter",
    "Commit",
    "CommitLog",
    "CommitRequest",
    "CommitWatcher",
    "Document",
    "Engine",
    "IndexCatalog",
    "ReadRange",
    "Write",
    "conflicts",
    "field_value",
    "index_key",
]

BLOB_CHUNK_BYTES = 1 << 20
"""The size of the pieces a blob is stored (PostgreSQL) and read (every engine) in."""

CommitWatcher = Callable[[list[Commit]], None]
"""Told of commits made by other processes sharing an engine's store; an empty list means
some were missed, so anything may have changed."""


class BlobWriter(abc.ABC):
    """A new blob: `write` its bytes in order (each piece is hashed and stored as it comes,
    so no more than a piece of it is held in memory), then `keep` it, under its sha256, or
    `discard` it."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._kept = False
        self.size = 0

    @property
    def sha256(self) -> str:
        """The sha256 (hex) of what was written so far."""
        return self._hash.hexdigest()

    def write(self, piece: bytes | bytearray | memoryview) -> None:
        """Append `piece` to the blob."""
        self._hash.update(piece)
        self.size += len(piece)
        self._store(piece)

    def keep(self) -> str:
        """Store the blob under its sha256 and return that; if a blob with the same bytes
        is stored already, it stays and this copy goes."""
        sha256 = self._keep()
        self._kept = True
        return sha256

    def discard(self) -> None:
        """Drop what was written, unless it was kept."""
        if not self._kept:
            self._discard()

    @abc.abstractmethod
    def _store(self, piece: bytes | bytearray | memoryview) -> None:
        """Put `piece` where the blob is being built (a file, rows, a list)."""

    @abc.abstractmethod
    def _keep(self) -> str: ...

    @abc.abstractmethod
    def _discard(self) -> None: ...


class Engine(abc.ABC):
    """Storage for one deployment: documents, indexes, commits, blobs."""

    catalog: IndexCatalog
    process_id = ""
    """This process's name among the server processes sharing the engine's store ("" when
    one process owns it)."""

    @abc.abstractmethod
    def configure(self, schema: Schema) -> dict[str, int]:
        """Adopt `schema` (create tables and indexes); return each table's number."""

    @abc.abstractmethod
    def set_table_numbers(self, numbers: dict[str, int]) -> None:
        """Give tables these numbers (for an import into an empty deployment)."""

    @abc.abstractmethod
    def last_ts(self) -> int:
        """The timestamp of the latest commit (ns), 0 for an empty deployment."""

    @abc.abstractmethod
    def get(self, table: str, id_: str) -> Document | None:
        """The latest committed version of a document."""

    @abc.abstractmethod
    def scan(
        self, table: str, index: str, lo: bytes, hi: bytes, descending: bool
    ) -> Iterator[tuple[bytes, Document]]:
        """Committed documents whose key in `index` is in [lo, hi), in key order."""

    @abc.abstractmethod
    def search_candidates(self, table: str, index: str, terms: Sequence[str]) -> set[str]:
        """Ids of committed documents whose indexed text has one of `terms` as a word, or a
        word starting with the last term."""

    def commit(self, begin_ts: int, reads: Sequence[ReadRange], writes: Sequence[Write]) -> int:
        """Apply `writes` atomically unless a later commit hit `reads`; return the new ts.

        Raises `WriteConflict` on conflict.
        """
        result = self.commit_many([(begin_ts, reads, writes)])[0]
        if isinstance(result, WriteConflict):
            raise result
        return result

    @abc.abstractmethod
    def commit_many(self, requests: Sequence[CommitRequest]) -> list[int | WriteConflict]:
        """Commit several transactions in order, together (one fsync where it matters):
        each is checked as `commit` checks it, against the batch members before it too."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the engine's resources."""

    @abc.abstractmethod
    def commits_since(self, ts: int) -> list[Commit] | None:
        """Commits after `ts`, oldest first; None when they are no longer known."""

    @abc.abstractmethod
    def next_creation_time(self, now_ms: float) -> float:
        """A `_creationTime` (ms) later than every one handed out before."""

    # --- file blobs, content-addressed by sha256 -------------------------------------------------

    @abc.abstractmethod
    def new_blob(self) -> BlobWriter:
        """A blob to write, piece by piece."""

    @abc.abstractmethod
    def read_blob(self, sha256: str) -> Iterator[bytes] | None:
        """The bytes of the blob `sha256` in pieces of at most BLOB_CHUNK_BYTES, each read as
        it is reached; None if there is no such blob."""

    @abc.abstractmethod
    def delete_blob(self, sha256: str) -> None: ...

    def put_blob(self, pieces: Iterable[bytes]) -> str:
        """Store the bytes of `pieces` as a blob; its sha256."""
        blob = self.new_blob()
        try:
            for piece in pieces:
                blob.write(piece)
        except BaseException:
            blob.discard()
            raise
        return blob.keep()

    def get_blob(self, sha256: str) -> bytes | None:
        """The bytes of the blob `sha256` (all in memory), or None."""
        pieces = self.read_blob(sha256)
        return None if pieces is None else b"".join(pieces)

    # --- the server processes sharing the store ---------------------------------------------------

    @abc.abstractmethod
    def watch(self, watcher: CommitWatcher) -> Callable[[], None]:
        """Have `watcher` told of the commits other processes make; returns how to stop."""

    @abc.abstractmethod
    def shared_secret(self) -> bytes:
        """A secret every server process of this store shares (it signs upload URLs)."""

    @abc.abstractmethod
    def is_running(self, process_id: str) -> bool:
        """Whether a server process named `process_id` still serves this store."""

    def documents(self, table: str, descending: bool = False) -> Iterator[Document]:
        """Every committed document of `table`, oldest first (newest first if `descending`)."""
        lo, hi = prefix_range()
        return (document for _, document in self.scan(table, BY_CREATION_TIME, lo, hi, descending))

    def is_valid(self, begin_ts: int, reads: Sequence[ReadRange]) -> bool:
        """Whether what a transaction begun at `begin_ts` read is still current."""
        commits = self.commits_since(begin_ts)
        return commits is not None and not conflicts(reads, commits, self.catalog)
