"""A transaction over any engine: reads with their ranges recorded, writes buffered until commit.

Reads see the transaction's own writes. Each read records the index range it covered (only
as far as it actually read), which is what the commit checks for conflicts and what makes
a query reactive.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from confect.engine.interface import (
    BY_CREATION_TIME,
    BY_ID,
    Document,
    Engine,
    ReadRange,
    Write,
    index_key,
)
from confect.model.errors import (
    MultiplePaginatedQueriesError,
    TimestampTooOldError,
    TransactionLimitError,
)
from confect.model.ids import new_id
from confect.model.values import (
    AFTER_PREFIX,
    Value,
    check_limits,
    encode_value,
    prefix_range,
    value_size,
)

T = TypeVar("T")

MAX_READS = 32_000
MAX_READ_BYTES = 16 << 20
MAX_WRITES = 16_000
MAX_WRITE_BYTES = 16 << 20
MAX_SCHEDULED = 1_000

Savepoint = tuple[dict[str, Any], dict[str, Any], int, int]


class Transaction:
    """One transaction's view of the engine, begun at the latest commit, or (for a query)
    reading as of the earlier commit `at_ts`: the writes of the commits since are undone
    over the engine's documents, as far back as the engine keeps its commits."""

    def __init__(
        self, engine: Engine, numbers: Mapping[str, int], now_ms: float, at_ts: int | None = None
    ) -> None:
        self.engine = engine
        self.numbers = numbers
        self.now_ms = now_ms
        self.begin_ts = engine.last_ts()
        self.engine_ts = self.begin_ts  # the engine's documents are read as of this commit
        self.reads: list[ReadRange] = []
        self.read_count = 0
        self.bytes_read = 0  # of user documents, as Convex counts (system tables have none)
        self.bytes_written = 0
        self.scheduled = 0
        # a query's journal: where its one page ended last run (pinned there again), and
        # where it ends this run (set by `paginate`, once)
        self.journal_in: str | None = None
        self.journal_out: str | None = None
        self._writes: dict[str, tuple[str, Document | None]] = {}  # id -> (table, new version)
        self._originals: dict[str, Document | None] = {}  # id -> committed version
        self._past: dict[str, tuple[str, Document | None]] = {}  # id -> version at begin_ts
        if at_ts is not None and at_ts < self.begin_ts:
            self._past = _versions_at(engine, at_ts)
            self.begin_ts = at_ts

    # --- reads -------------------------------------------------------------------------------

    def get(self, table: str, id_: str) -> Document | None:
        """The document `id_` of `table` as this transaction sees it."""
        key = encode_value(id_)
        self.reads.append(ReadRange(table, BY_ID, key, key + AFTER_PREFIX))
        self._count_read()
        pending = self._writes.get(id_) or self._past.get(id_)
        if pending is not None:
            document = pending[1] if pending[0] == table else None
        else:
            document = self.engine.get(table, id_)
        if document is not None:
            self._count_bytes_read(table, document)
        return document

    def scan(
        self, table: str, index: str, lo: bytes, hi: bytes, descending: bool = False
    ) -> Iterator[Document]:
        """Documents with keys in [lo, hi) of `index`, in order, own writes included."""
        return (document for _, document in self.scan_keyed(table, index, lo, hi, descending))

    def scan_keyed(
        self, table: str, index: str, lo: bytes, hi: bytes, descending: bool = False
    ) -> Iterator[tuple[bytes, Document]]:
        """Like `scan`, with each document's index key."""
        committed = self.engine.scan(table, index, lo, hi, descending)
        keyed = self._overlaid(table, index, lo, hi, descending, committed)
        last: bytes | None = None
        try:
            for key, document in keyed:
                last = key
                self._count_read()
                self._count_bytes_read(table, document)
                yield key, document
            last = None  # read to the end of the range
        finally:
            if last is None:
                self.reads.append(ReadRange(table, index, lo, hi))
            elif descending:
                self.reads.append(ReadRange(table, index, last, hi))
            else:
                self.reads.append(ReadRange(table, index, lo, last + b"\x00"))

    def _overlay(self) -> dict[str, tuple[str, Document | None]]:
        """The versions this transaction sees instead of the engine's: its own writes, over
        the versions at `begin_ts` of documents written since (for a read in the past)."""
        return {**self._past, **self._writes} if self._past else self._writes

    def _overlaid(
        self,
        table: str,
        index: str,
        lo: bytes,
        hi: bytes,
        descending: bool,
        committed: Iterator[tuple[bytes, Document]],
    ) -> Iterator[tuple[bytes, Document]]:
        """`committed` with the overlay's documents in [lo, hi) laid over it."""
        overlay = self._overlay()
        if not overlay:  # every query of the present, and a mutation before its first write
            return committed
        fields = self.engine.catalog.fields[table][index]
        mine = sorted(
            (index_key(new, index, fields), new)
            for written_table, new in overlay.values()
            if written_table == table and new is not None
        )
        mine = [(key, doc) for key, doc in mine if lo <= key < hi]
        if descending:
            mine.reverse()
        theirs = ((key, doc) for key, doc in committed if str(doc["_id"]) not in overlay)
        return _merge(mine, theirs, descending)

    def search(self, table: str, index: str, terms: list[str]) -> list[Document]:
        """Documents whose text in search index `index` has one of `terms` (the last as a
        prefix), own writes included, in no particular order. Reads the whole table, as far
        as conflicts and reactivity are concerned: any change to it may change the result."""
        self.reads.append(ReadRange(table, BY_CREATION_TIME, *prefix_range()))
        overlay = self._overlay()
        found: list[Document] = []
        for id_ in self.engine.search_candidates(table, index, terms):
            document = None if id_ in overlay else self.engine.get(table, id_)
            if document is not None:
                found.append(document)
        found += [new for written, new in overlay.values() if written == table and new is not None]
        for document in found:
            self._count_read()
            self._count_bytes_read(table, document)
        return found

    def _count_read(self) -> None:
        self.read_count += 1
        if self.read_count > MAX_READS:
            raise TransactionLimitError(
                message=f"this function read more than {MAX_READS} documents in one transaction"
            )

    def _count_bytes_read(self, table: str, document: Document) -> None:
        if table.startswith("_"):
            return
        self.bytes_read += value_size(document)
        if self.bytes_read > MAX_READ_BYTES:
            raise TransactionLimitError(
                message=f"this function read more than {MAX_READ_BYTES} bytes (16 MiB) of "
                "documents in one transaction"
            )

    # --- writes ------------------------------------------------------------------------------

    def insert(self, table: str, fields: dict[str, Value]) -> str:
        """Insert a validated document; return its new id."""
        id_ = str(new_id(self.numbers[table]))
        document: Document = {
            **fields,
            "_id": id_,
            "_creationTime": self.engine.next_creation_time(self.now_ms),
        }
        self._write(table, id_, document, original=None)
        return id_

    def insert_system(self, table: str, fields: dict[str, Value]) -> str:
        """Insert a record the server keeps for itself; return its id. App code's limits
        on documents and writes do not stop it (Convex holds its system documents to limits
        of their own): a mutation is not failed by its own bookkeeping."""
        id_ = str(new_id(self.numbers[table]))
        now = self.engine.next_creation_time(self.now_ms)
        self._originals[id_] = None
        self._writes[id_] = (table, {**fields, "_id": id_, "_creationTime": now})
        return id_

    def replace(self, table: str, current: Document, fields: dict[str, Value]) -> None:
        """Replace the user fields of `current` (as read in this transaction)."""
        id_ = str(current["_id"])
        document = {**fields, "_id": id_, "_creationTime": current["_creationTime"]}
        self._write(table, id_, document, original=current)

    def delete(self, table: str, current: Document) -> None:
        """Delete `current` (as read in this transaction)."""
        self._write(table, str(current["_id"]), None, original=current)

    def _write(self, table: str, id_: str, new: Document | None, original: Document | None) -> None:
        if new is not None:
            size = check_limits(new, "document")
            if not table.startswith("_"):
                self._count_bytes_written(size)
        if id_ not in self._originals:
            self._originals[id_] = None if original is None else self.engine.get(table, id_)
        self._writes[id_] = (table, new)
        if len(self._writes) > MAX_WRITES:
            raise TransactionLimitError(
                message=f"this function wrote more than {MAX_WRITES} documents in one transaction"
            )

    def _count_bytes_written(self, size: int) -> None:
        """Each write of a user document counts its size, as in Convex (a document written
        twice counts twice)."""
        self.bytes_written += size
        if self.bytes_written > MAX_WRITE_BYTES:
            raise TransactionLimitError(
                message=f"this function wrote more than {MAX_WRITE_BYTES} bytes (16 MiB) of "
                "documents in one transaction"
            )

    def count_scheduled(self) -> None:
        self.scheduled += 1
        if self.scheduled > MAX_SCHEDULED:
            raise TransactionLimitError(
                message=f"this function scheduled more than {MAX_SCHEDULED} functions"
            )

    def record_page_end(self, cursor: str) -> None:
        """The end of the page `paginate` read: the journal this run leaves; a second
        paginated query fails, as Convex's."""
        if self.journal_out is not None:
            raise MultiplePaginatedQueriesError()
        self.journal_out = cursor

    def run_with(self, f: Callable[[Transaction], T]) -> T:
        """`f(self)`: lets services share code between "in this transaction" and "in a new one"."""
        return f(self)

    # --- savepoints and commit -----------------------------------------------------------------

    def savepoint(self) -> Savepoint:
        """A mark to roll back to (for a sub-mutation that fails): its writes are undone and
        no longer count (its reads still do, as in Convex)."""
        return dict(self._writes), dict(self._originals), self.scheduled, self.bytes_written

    def rollback(self, mark: Savepoint) -> None:
        writes, originals, self.scheduled, self.bytes_written = mark
        self._writes, self._originals = dict(writes), dict(originals)

    def writes(self) -> list[Write]:
        """The net change of each written document."""
        out: list[Write] = []
        for id_, (table, new) in self._writes.items():
            old = self._originals.get(id_)
            if old is None and new is None:
                continue  # inserted and deleted again
            out.append(Write(table, id_, old, new))
        return out

    def commit(self) -> int:
        """Commit; raises `WriteConflict` if a concurrent commit changed what was read."""
        return self.engine.commit(self.begin_ts, self.reads, self.writes())


def _merge(
    mine: list[tuple[bytes, Document]],
    theirs: Iterator[tuple[bytes, Document]],
    descending: bool,
) -> Iterator[tuple[bytes, Document]]:
    """Merge two key-ordered streams."""
    index = 0
    for key, document in theirs:
        while index < len(mine) and (mine[index][0] > key if descending else mine[index][0] < key):
            yield mine[index]
            index += 1
        yield key, document
    yield from mine[index:]


def _versions_at(engine: Engine, ts: int) -> dict[str, tuple[str, Document | None]]:
    """Each document written after commit `ts`, as it was at `ts` (None: not there yet)."""
    commits = engine.commits_since(ts)
    if commits is None:
        raise TimestampTooOldError(ts=ts)
    versions: dict[str, tuple[str, Document | None]] = {}
    for commit in commits:
        for write in commit.writes:
            versions.setdefault(write.id, (write.table, write.old))
    return versions
