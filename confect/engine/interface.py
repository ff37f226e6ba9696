"""The engine interface every storage backend implements, and what they share.

An engine stores documents (plain dicts of Convex values with `_id` and `_creationTime`),
keeps each table's indexes as order-preserving byte keys (see `confect.model.values.encode_key`),
and commits transactions with optimistic concurrency: a commit names the index ranges its
transaction read, and fails with `WriteConflict` if a commit after the transaction began
wrote a document whose key falls in one of them.
"""

from __future__ import annotations

import abc
import hashlib
import json
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import attrs

from confect.model.documents import user_fields
from confect.model.errors import CorruptDocumentError, SchemaError, ValidationError, WriteConflict
from confect.model.schema import (
    CRONS_TABLE,
    SCHEDULED_TABLE,
    SESSION_REQUESTS_TABLE,
    STORAGE_TABLE,
    Schema,
)
from confect.model.text_search import words
from confect.model.values import (
    UNDEFINED,
    Value,
    encode_key,
    encode_value,
    from_stored_json,
    prefix_range,
    to_stored_json,
)

Document = dict[str, Value]

SYSTEM_TABLE_NUMBERS = {
    SCHEDULED_TABLE: 1,
    STORAGE_TABLE: 2,
    CRONS_TABLE: 3,
    SESSION_REQUESTS_TABLE: 4,
}
FIRST_USER_TABLE = 10001

BY_ID = "by_id"
BY_CREATION_TIME = "by_creation_time"
MAX_REPORTED = 20
BLOB_CHUNK_BYTES = 1 << 20
"""The size of the pieces a blob is stored (PostgreSQL) and read (every engine) in."""
log = logging.getLogger("confect.engine")


@attrs.frozen
class ReadRange:
    """A read of the keys in [lo, hi) of one index: the unit of conflict detection."""

    table: str
    index: str
    lo: bytes
    hi: bytes

    def contains(self, key: bytes) -> bool:
        return self.lo <= key < self.hi


@attrs.frozen
class Write:
    """A document's change in one commit: `old` None for an insert, `new` None for a delete."""

    table: str
    id: str
    old: Document | None
    new: Document | None


@attrs.frozen
class Commit:
    ts: int
    writes: tuple[Write, ...]


def field_value(document: Mapping[str, Value], path: str) -> Any:
    """The value at a dotted path, or `UNDEFINED` when it is missing."""
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return UNDEFINED
        value = value[part]  # pyright: ignore[reportUnknownVariableType]
    return value  # pyright: ignore[reportUnknownVariableType]


def index_key(document: Mapping[str, Value], index: str, fields: Sequence[str]) -> bytes:
    """The key of `document` in an index over `fields` (then `_creationTime`, `_id`)."""
    if index == BY_ID:
        return encode_value(document["_id"])
    values = [field_value(document, path) for path in fields]
    values.append(document["_creationTime"])
    values.append(document["_id"])
    return encode_key(tuple(values))


def number_new_tables(numbers: Mapping[str, int], tables: Iterable[str]) -> dict[str, int]:
    """`numbers`, plus a number for each table that has none: a system table its fixed one,
    a user table the next free one from FIRST_USER_TABLE. A table keeps its number forever."""
    out = dict(numbers)
    for name in tables:
        if name not in out:
            out[name] = (
                SYSTEM_TABLE_NUMBERS.get(name) or max([FIRST_USER_TABLE - 1, *out.values()]) + 1
            )
    return out


def document_to_json(document: Document) -> str:
    """A document as stored by the SQL engines: compact stored JSON (`to_stored_json`)."""
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


# the old names, until the SQL engines call these by the new ones
encode_document = document_to_json
decode_document = document_from_json


StoredRow = tuple[Any, Any]
"""A stored document as an engine's query gives it: (its id, its stored body)."""


def readable(table: str, rows: Iterable[StoredRow]) -> Iterator[Document]:
    """The documents of `rows` (of `table`) that can be decoded; the others are left out
    (`check_documents` reports them when the engine opens)."""
    for id_, body in rows:
        try:
            yield decode_document(body, table, str(id_))
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
            yield bytes(key), decode_document(body, table, str(id_))
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
                document = decode_document(body, name, str(id_))
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


class IndexCatalog:
    """The index fields of every table, from the schema (system indexes included)."""

    def __init__(self, schema: Schema) -> None:
        self.fields: dict[str, dict[str, tuple[str, ...]]] = {}
        self.search: dict[str, dict[str, str]] = {}  # table -> search index -> its text field
        for name, table in schema.tables.items():
            indexes: dict[str, tuple[str, ...]] = {BY_ID: (), BY_CREATION_TIME: ()}
            indexes.update({i.name: i.fields for i in table.indexes.values()})
            self.fields[name] = indexes
            self.search[name] = {i.name: i.search_field for i in table.search_indexes.values()}

    def keys(self, table: str, document: Mapping[str, Value]) -> dict[str, bytes]:
        """The document's key in each index of its table."""
        return {name: index_key(document, name, f) for name, f in self.fields[table].items()}

    def terms(self, table: str, document: Mapping[str, Value]) -> dict[str, set[str]]:
        """The document's words in each search index of its table."""
        out: dict[str, set[str]] = {}
        for index, field in self.search[table].items():
            text = field_value(document, field)
            out[index] = set(words(text)) if isinstance(text, str) else set()
        return out


def conflicts(reads: Iterable[ReadRange], commits: Iterable[Commit], catalog: IndexCatalog) -> bool:
    """Whether any write of `commits` lands in any of `reads`."""
    by_table: dict[str, list[ReadRange]] = {}
    for read in reads:
        by_table.setdefault(read.table, []).append(read)
    for commit in commits:
        for write in commit.writes:
            ranges = by_table.get(write.table)
            if not ranges:
                continue
            fields = catalog.fields[write.table]
            for document in (write.old, write.new):
                if document is None:
                    continue
                for read in ranges:
                    if read.contains(index_key(document, read.index, fields.get(read.index, ()))):
                        return True
    return False


CommitRequest = tuple[int, Sequence[ReadRange], Sequence[Write]]
"""A transaction to commit: the ts it began at, what it read, what it wrote."""


def accept_batch(
    requests: Sequence[CommitRequest], log: CommitLog, last_ts: int, catalog: IndexCatalog
) -> tuple[list[int | WriteConflict], list[Commit]]:
    """Check each request of a batch against the commits since it began and the batch
    members before it; give each accepted one that writes a new ts. Returns each request's
    outcome (its ts, or the conflict) and the accepted commits, to apply in order."""
    results: list[int | WriteConflict] = []
    accepted: list[Commit] = []
    ts = last_ts
    for begin_ts, reads, writes in requests:
        since = log.since(begin_ts, last_ts) if reads else []
        if reads and (since is None or conflicts(reads, [*since, *accepted], catalog)):
            results.append(WriteConflict())
            continue
        if writes:
            ts = max(ts + 1, time.time_ns())
            accepted.append(Commit(ts, _with_commit_ts(writes, ts)))
        results.append(ts)
    return results, accepted


def _with_commit_ts(writes: Sequence[Write], ts: int) -> tuple[Write, ...]:
    """`writes`, with each new session request record given the ts of the commit that
    writes it: what a repeat of its request is answered with, known only now."""
    return tuple(
        Write(w.table, w.id, w.old, {**w.new, "ts": ts})
        if w.table == SESSION_REQUESTS_TABLE and w.new is not None and w.old is None
        else w
        for w in writes
    )


class CommitLog:
    """The recent commits of this process, for conflict checks (oldest are forgotten)."""

    def __init__(self, size: int = 10_000, known_after: int = 0) -> None:
        """`known_after`: the ts of the last commit made before this log (a restarted
        engine's): what came before it is not known."""
        self._log: deque[Commit] = deque(maxlen=size)
        self._floor = known_after  # commits at or before this ts may be missing

    def forget(self, ts: int) -> None:
        """Drop every commit: those up to `ts` are no longer known (some were missed)."""
        self._log.clear()
        self._floor = ts

    def append(self, commit: Commit) -> None:
        self._log.append(commit)

    def since(self, ts: int, last_ts: int) -> list[Commit] | None:
        """Commits after `ts`; None if some of them were forgotten."""
        if ts >= last_ts:
            return []
        if ts < self._floor or (len(self._log) == self._log.maxlen and self._log[0].ts > ts):
            return None
        newer: list[Commit] = []
        for commit in reversed(self._log):
            if commit.ts <= ts:
                break
            newer.append(commit)
        newer.reverse()
        return newer


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


CommitWatcher = Callable[[list[Commit]], None]
"""Told of commits made by other processes sharing an engine's store; an empty list means
some were missed, so anything may have changed."""


class Engine(abc.ABC):
    """Storage for one deployment: documents, indexes, commits, blobs."""

    catalog: IndexCatalog
    process_id = ""
    """This process's name among the server processes sharing the engine's store ("" when
    one process owns it)."""
    _own_secret = secrets.token_bytes(32)

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

    def watch(self, watcher: CommitWatcher) -> Callable[[], None]:
        """Have `watcher` told of the commits other processes make; returns how to stop. An
        engine that one process owns has none to tell: this does nothing unless overridden."""
        return lambda: None

    def shared_secret(self) -> bytes:
        """A secret every server process of this store shares (it signs upload URLs); for a
        store one process owns, one made when that process started."""
        return self._own_secret

    def is_running(self, process_id: str) -> bool:
        """Whether a server process named `process_id` still serves this store (never, for
        an engine one process owns: whoever ran before it has stopped)."""
        return False

    def documents(self, table: str, descending: bool = False) -> Iterator[Document]:
        """Every committed document of `table`, oldest first (newest first if `descending`)."""
        lo, hi = prefix_range()
        return (document for _, document in self.scan(table, BY_CREATION_TIME, lo, hi, descending))

    def is_valid(self, begin_ts: int, reads: Sequence[ReadRange]) -> bool:
        """Whether what a transaction begun at `begin_ts` read is still current."""
        commits = self.commits_since(begin_ts)
        return commits is not None and not conflicts(reads, commits, self.catalog)
