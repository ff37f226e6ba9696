"""The PostgreSQL engine: one deployment's data shared by any number of server processes.

The tables are those of the SQLite engine (documents as wire JSON, index entries as
order-preserving BYTEA keys, search terms), in one PostgreSQL schema (namespace) per
deployment, plus `commits`: every commit's writes, so that each process can check
conflicts against, and invalidate its subscriptions for, commits made by the others.

Commits are serialized by a transaction-level advisory lock: inside it a process first
reads the commits it has not seen, checks the transaction's reads against them, then
writes and announces the commit with NOTIFY. Each process listens on a background
thread and hands the commits of others to `watch`ers.

File blobs live in tables too, written and read a piece (a row of `blob_chunks`) at a time
on a connection of their own, so no file is ever whole in memory and file traffic does not
queue behind reads and commits. A blob is written under a key of its own (this process's
id, then a random part) and named by its sha256 in `blob_names` once it is whole; the
pieces of a blob whose writer stopped before naming it are dropped when a process opens
the deployment and that writer is not running. (Rows, not large objects: rows belong to the
deployment's schema, dropped and copied with it, and each piece is one short statement.)
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from confect.engine.interface import (
    BLOB_CHUNK_BYTES,
    BlobWriter,
    Commit,
    CommitLog,
    CommitRequest,
    CommitWatcher,
    Document,
    Engine,
    IndexCatalog,
    ReadRange,
    StoredRow,
    Write,
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
from confect.model.values import from_stored_json, to_stored_json

T = TypeVar("T")
log = logging.getLogger("confect.engine.sql.postgres")
SCAN_CHUNK = 256  # rows per query of a scan (keep in step with the LIMITs below)
KEEP_COMMITS = 10_000  # commits kept in the `commits` table for the other processes
PRUNE_EVERY = 1_000
COMMIT_LOCKS = 0x636F6E66  # advisory lock class: a deployment's commits and schema ("conf")
PROCESS_LOCKS = 0x70726F63  # advisory lock class: each live process holds one ("proc")

_SETUP = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tables (name TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, tbl TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS documents_by_table ON documents (tbl);
CREATE TABLE IF NOT EXISTS entries (
    tbl TEXT NOT NULL, idx TEXT NOT NULL, key BYTEA NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (tbl, idx, key)
);
CREATE INDEX IF NOT EXISTS entries_by_id ON entries (id);
CREATE TABLE IF NOT EXISTS terms (
    tbl TEXT NOT NULL, idx TEXT NOT NULL, term TEXT COLLATE "C" NOT NULL, id TEXT NOT NULL,
    PRIMARY KEY (tbl, idx, term, id)
);
CREATE INDEX IF NOT EXISTS terms_by_id ON terms (id);
CREATE TABLE IF NOT EXISTS commits (ts BIGINT PRIMARY KEY, writes TEXT NOT NULL);
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

# Every read also returns the latest commit's ts (one row even when nothing is found), so
# that checking a query's reads needs no second round trip unless a commit it has not
# heard of yet could have been read (`is_valid`).
_LATEST = "SELECT m.latest, r.* FROM (SELECT max(ts) AS latest FROM commits) m LEFT JOIN LATERAL "
_GET = _LATEST + "(SELECT body FROM documents WHERE id = %s AND tbl = %s) r ON true"
_SCAN = (
    "(SELECT e.key, e.id, d.body FROM entries e JOIN documents d ON d.id = e.id "
    "WHERE e.tbl = %s AND e.idx = %s AND e.key >= %s AND e.key < %s "
)
_SCAN_ASCENDING = _LATEST + _SCAN + "ORDER BY e.key ASC LIMIT 256) r ON true ORDER BY r.key ASC"
_SCAN_DESCENDING = _LATEST + _SCAN + "ORDER BY e.key DESC LIMIT 256) r ON true ORDER BY r.key DESC"
_SEARCH = _LATEST + (
    "(SELECT id FROM terms WHERE tbl = %s AND idx = %s AND term >= %s AND term < %s "
    "UNION SELECT id FROM terms WHERE tbl = %s AND idx = %s AND term = ANY(%s)) r ON true"
)


def split_url(url: str) -> tuple[str, str]:
    """`postgres://...?schema=NAME` as (a libpq URL, the schema; "confect" if not named)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    schema = next((value for key, value in query if key == "schema"), "confect")
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


class PostgresEngine(Engine):
    """A deployment's data in PostgreSQL schema `schema` of the database at `url`."""

    def __init__(self, url: str, schema: str = "confect") -> None:
        self.url = url
        self.schema = schema
        self._channel = f"confect_{uuid.uuid5(uuid.NAMESPACE_URL, schema).hex}"
        self.process_id = secrets.token_hex(8)  # also tells its own notices from others'
        self.commit_lock = _lock(COMMIT_LOCKS, schema)  # its commits take it; others' not
        self.application_name = f"confect {self.process_id} {schema}"[:63]  # pg_stat_activity
        self._read = self._connect()
        with self._read.transaction():
            self._read.execute("SELECT pg_advisory_xact_lock(%s, %s)", self.commit_lock)
            self._read.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
            self._use_schema(self._read)
            self._read.execute(_SETUP)
            if self._read.execute("SELECT to_regclass('blobs')").fetchall()[0][0] is not None:
                for statement in _PIECES_OF_WHOLE_BLOBS:
                    self._read.execute(statement, {"chunk": BLOB_CHUNK_BYTES})
        self._write = self._connect_in_schema()
        self._blobs: psycopg.Connection[Any] | None = None  # connected at the first file
        self._blob_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._log_lock = threading.Lock()
        self._ts = int(self._meta(self._read, "last_ts", "0"))
        self._log = CommitLog(KEEP_COMMITS, known_after=self._ts)
        self._creation = float(self._meta(self._read, "last_creation", "0"))
        self._since_prune = 0
        self._seen = 0  # the latest commit any read saw (`_saw`)
        self._mine: set[int] = set()  # own commits between their COMMIT and `_learn`
        self._watchers: list[CommitWatcher] = []
        self._closing = False
        self._stopped = threading.Event()  # set by `close`: ends the listener's waits
        self._listen = self._listening()
        self._listener = threading.Thread(target=self._listen_loop, daemon=True)
        self._listener.start()
        self._drop_abandoned_blobs()

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True, application_name=self.application_name)

    def _use_schema(self, connection: psycopg.Connection[Any]) -> None:
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))

    def _reader(self) -> psycopg.Connection[Any]:
        """The reading connection (hold `_read_lock`), a new one if the last was lost: a
        request that met the loss failed, the next ones go through."""
        if self._read.broken:
            self._read = self._connect_in_schema()
        return self._read

    def _writer(self) -> psycopg.Connection[Any]:
        """The committing connection (hold `_write_lock`), a new one if the last was lost."""
        if self._write.broken:
            self._write = self._connect_in_schema()
        return self._write

    def _connect_in_schema(self) -> psycopg.Connection[Any]:
        connection = self._connect()
        self._use_schema(connection)
        return connection

    def close(self) -> None:
        """Stop listening and close the connections."""
        if self._closing:
            return
        self._closing = True
        self._stopped.set()
        try:
            with self._write_lock:
                self._notify(self._write, "close")
        except psycopg.Error:  # the server is gone: closing the socket ends the listener
            self._listen.close()
        self._listener.join(timeout=5.0)  # a daemon thread: a stuck one does not hold up exit
        for connection in (self._listen, self._write, self._read, self._blobs):
            if connection is not None:
                connection.close()

    def drop(self) -> None:
        """Delete the deployment's schema and everything in it (tests), then close."""
        with self._write_lock:
            self._writer().execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
            )
        self.close()

    def admin_key(self, proposed: str) -> str:
        """The deployment's admin key, which every process shares: the one kept, or else
        `proposed`, kept from now on."""
        return self._kept("admin_key", proposed)

    def shared_secret(self) -> bytes:
        return bytes.fromhex(self._kept("shared_secret", secrets.token_hex(32)))

    def _kept(self, key: str, proposed: str) -> str:
        """The deployment's value for `key`: the one kept, or else `proposed`, kept now."""
        with self._write_lock, self._writer().transaction():
            self._write.execute("SELECT pg_advisory_xact_lock(%s, %s)", self.commit_lock)
            value = self._meta(self._write, key, "")
            if not value:
                value = proposed
                self._set_meta(self._write, key, value)
        return value

    @staticmethod
    def _meta(connection: psycopg.Connection[Any], key: str, default: str) -> str:
        row = connection.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return default if row is None else str(row[0])

    @staticmethod
    def _set_meta(connection: psycopg.Connection[Any], key: str, value: str) -> None:
        connection.execute(
            "INSERT INTO meta (key, value) VALUES (%s, %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # --- schema ------------------------------------------------------------------------------

    def configure(self, schema: Schema) -> dict[str, int]:
        with self._write_lock, self._writer().transaction():
            self._write.execute("SELECT pg_advisory_xact_lock(%s, %s)", self.commit_lock)
            check_documents(schema, self._rows)
            self.catalog = IndexCatalog(schema)
            known = {
                str(n): int(x) for n, x in self._write.execute("SELECT name, number FROM tables")
            }
            numbers = number_new_tables(known, schema.tables)
            with self._write.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO tables (name, number) VALUES (%s, %s)",
                    [(name, number) for name, number in numbers.items() if name not in known],
                )
            self._rebuild_changed_indexes()
            return numbers

    def _rebuild_changed_indexes(self) -> None:
        db = self._write
        now = {t: {i: list(f) for i, f in idx.items()} for t, idx in self.catalog.fields.items()}
        stale, fresh = index_changes(json.loads(self._meta(db, "indexes", "{}")), now)
        for table, index in stale:
            db.execute("DELETE FROM entries WHERE tbl = %s AND idx = %s", (table, index))
        for table, index in fresh:
            self._insert_entries(
                [
                    (table, index, self.catalog.keys(table, document)[index], document["_id"])
                    for document in self._stored(table)
                ]
            )
        self._set_meta(db, "indexes", json.dumps(now, sort_keys=True))
        stale, fresh = index_changes(
            json.loads(self._meta(db, "search", "{}")), self.catalog.search
        )
        for table, index in stale:
            db.execute("DELETE FROM terms WHERE tbl = %s AND idx = %s", (table, index))
        for table, index in fresh:
            self._insert_terms(
                [
                    (table, index, word, document["_id"])
                    for document in self._stored(table)
                    for word in self.catalog.terms(table, document)[index]
                ]
            )
        self._set_meta(db, "search", json.dumps(self.catalog.search, sort_keys=True))

    def _rows(self, table: str) -> list[StoredRow]:
        """Every document of `table` as stored, (id, body) (in the write connection's
        transaction)."""
        return self._write.execute(
            "SELECT id, body FROM documents WHERE tbl = %s", (table,)
        ).fetchall()

    def _stored(self, table: str) -> Iterator[Document]:
        """Every readable document of `table` (in the write connection's transaction)."""
        return readable(table, self._rows(table))

    def _insert_entries(self, rows: list[tuple[Any, ...]]) -> None:
        with self._write.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO entries (tbl, idx, key, id) VALUES (%s, %s, %s, %s)", rows
            )

    def _insert_terms(self, rows: list[tuple[Any, ...]]) -> None:
        with self._write.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO terms (tbl, idx, term, id) VALUES (%s, %s, %s, %s)", rows
            )

    def set_table_numbers(self, numbers: dict[str, int]) -> None:
        with self._write_lock, self._writer().transaction():
            self._write.execute("DELETE FROM tables")
            with self._write.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO tables (name, number) VALUES (%s, %s)", list(numbers.items())
                )

    # --- reads -------------------------------------------------------------------------------

    def last_ts(self) -> int:
        return self._ts

    def get(self, table: str, id_: str) -> Document | None:
        with self._read_lock:
            rows = self._reader().execute(_GET, (id_, table)).fetchall()
            self._saw(rows)
        body = rows[0][1]
        return None if body is None else decode_document(body, table, id_)

    def _saw(self, rows: list[tuple[Any, ...]]) -> None:
        """Note the latest commit a read's `rows` saw (hold `_read_lock`)."""
        latest = rows[0][0]
        if latest is not None and latest > self._seen:
            self._seen = latest

    def scan(
        self, table: str, index: str, lo: bytes, hi: bytes, descending: bool
    ) -> Iterator[tuple[bytes, Document]]:
        query = _SCAN_DESCENDING if descending else _SCAN_ASCENDING

        def fetch(lo: bytes, hi: bytes) -> list[tuple[Any, Any, Any]]:
            with self._read_lock:
                rows = self._reader().execute(query, (table, index, lo, hi)).fetchall()
                self._saw(rows)
            return [] if rows[0][1] is None else [(key, id_, body) for _, key, id_, body in rows]

        return scan_in_chunks(fetch, table, lo, hi, descending, SCAN_CHUNK)

    def search_candidates(self, table: str, index: str, terms: Sequence[str]) -> set[str]:
        if not terms:
            return set()
        *whole, prefix = terms
        params = (table, index, prefix, prefix + "\U0010ffff", table, index, list(whole))
        with self._read_lock:
            rows = self._reader().execute(_SEARCH, params).fetchall()
            self._saw(rows)
        return {str(row[1]) for row in rows if row[1] is not None}

    def is_valid(self, begin_ts: int, reads: Sequence[ReadRange]) -> bool:
        """Checked against the commits this process knows of, and every commit a read saw
        (one whose notice has not arrived yet is read first): a query never passes with
        reads torn by a commit. Commits no read saw arrive by notice and invalidate then."""
        with self._read_lock:
            if self._seen > self._ts:
                self._catch_up(self._reader())
        return super().is_valid(begin_ts, reads)

    # --- commits -----------------------------------------------------------------------------

    def commit_many(self, requests: Sequence[CommitRequest]) -> list[int | WriteConflict]:
        """Commit several transactions in one PostgreSQL transaction, checked against every
        earlier commit of any process. Pipelined: one round trip to take the lock and read
        the commits not seen yet, one to write."""
        with self._write_lock:
            accepted: list[Commit] = []
            try:
                results = self._commit_batch(requests, accepted)
                self._learn(accepted)
                return results
            finally:  # a failed batch may still have committed: a catch-up tells (as theirs)
                self._mine.difference_update(commit.ts for commit in accepted)

    def _commit_batch(
        self, requests: Sequence[CommitRequest], accepted: list[Commit]
    ) -> list[int | WriteConflict]:
        """The PostgreSQL transaction of `commit_many`; fills `accepted` before it writes."""
        db = self._writer()
        with db.pipeline(), db.transaction():
            db.execute("SELECT pg_advisory_xact_lock(%s, %s)", self.commit_lock)
            self._catch_up(db)
            results, batch = accept_batch(requests, self._log, self._ts, self.catalog)
            accepted += batch
            if accepted:
                self._mine.update(commit.ts for commit in accepted)
                self._apply(accepted)
        return results

    def _apply(self, commits: list[Commit]) -> None:
        db = self._write
        creation = self._creation
        gone: list[tuple[str]] = []
        documents: list[tuple[str, str, str]] = []
        entries: list[tuple[Any, ...]] = []
        terms: list[tuple[Any, ...]] = []
        for commit in commits:
            for write in commit.writes:
                if write.old is not None:
                    gone.append((write.id,))
                if write.new is None:
                    continue
                documents.append((write.id, write.table, encode_document(write.new)))
                keys = self.catalog.keys(write.table, write.new)
                entries += [(write.table, index, key, write.id) for index, key in keys.items()]
                found = self.catalog.terms(write.table, write.new)
                terms += [
                    (write.table, i, word, write.id) for i, ws in found.items() for word in ws
                ]
                created = write.new["_creationTime"]
                if isinstance(created, float) and created > creation:
                    creation = created
        with db.cursor() as cursor:
            if gone:
                cursor.executemany("DELETE FROM entries WHERE id = %s", gone)
                cursor.executemany("DELETE FROM terms WHERE id = %s", gone)
                cursor.executemany("DELETE FROM documents WHERE id = %s", gone)
            if documents:
                cursor.executemany(
                    "INSERT INTO documents (id, tbl, body) VALUES (%s, %s, %s)", documents
                )
                self._insert_entries(entries)
            if terms:
                self._insert_terms(terms)
            cursor.executemany(
                "INSERT INTO commits (ts, writes) VALUES (%s, %s)",
                [(commit.ts, _encode_writes(commit.writes)) for commit in commits],
            )
        db.execute(
            "INSERT INTO meta (key, value) VALUES ('last_ts', %s), ('last_creation', %s) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(commits[-1].ts), repr(creation)),
        )
        self._since_prune += len(commits)
        if self._since_prune >= PRUNE_EVERY:
            self._since_prune = 0
            self._prune(db)
        self._notify(db, str(commits[-1].ts))

    def _prune(self, db: psycopg.Connection[Any]) -> None:
        """Forget all but the last KEEP_COMMITS commits; a process that had not read them
        yet learns that it missed some (`forgotten_ts`)."""
        row = db.execute(
            "SELECT ts FROM commits ORDER BY ts DESC OFFSET %s LIMIT 1", (KEEP_COMMITS,)
        ).fetchone()
        if row is not None:
            db.execute("DELETE FROM commits WHERE ts <= %s", (row[0],))
            self._set_meta(db, "forgotten_ts", str(row[0]))

    def _notify(self, db: psycopg.Connection[Any], payload: str) -> None:
        db.execute("SELECT pg_notify(%s, %s)", (self._channel, f"{self.process_id} {payload}"))

    def _catch_up(self, db: psycopg.Connection[Any]) -> None:
        """Read the commits this process has not seen yet into its log. If some were pruned
        before it read them, its log starts over and watchers hear that they missed some."""
        known = self._ts
        rows = db.execute(
            "SELECT ts, writes FROM commits WHERE ts > %s ORDER BY ts", (known,)
        ).fetchall()
        if not rows:
            return
        commits = [Commit(int(ts), _decode_writes(writes)) for ts, writes in rows]
        if int(self._meta(db, "forgotten_ts", "0")) <= known:
            self._learn(commits)
            return
        with self._log_lock:
            self._log.forget(commits[-1].ts)
            self._ts = max(self._ts, commits[-1].ts)
            for watcher in self._watchers:
                watcher([])

    def _learn(self, commits: list[Commit]) -> None:
        """Add the commits not in the log yet to it, in order; tell watchers of the others'."""
        with self._log_lock:
            new = [commit for commit in commits if commit.ts > self._ts]
            for commit in new:
                self._log.append(commit)
                for write in commit.writes:
                    created = write.new["_creationTime"] if write.new is not None else None
                    if isinstance(created, float) and created > self._creation:
                        self._creation = created
            if new:
                self._ts = new[-1].ts
            theirs = [commit for commit in new if commit.ts not in self._mine]
            if theirs:
                for watcher in self._watchers:
                    watcher(theirs)

    def commits_since(self, ts: int) -> list[Commit] | None:
        with self._log_lock:
            return self._log.since(ts, self._ts)

    def next_creation_time(self, now_ms: float) -> float:
        with self._log_lock:
            self._creation = max(now_ms, self._creation + 0.001)
            return self._creation

    # --- other processes' commits ---------------------------------------------------------

    def watch(self, watcher: CommitWatcher) -> Callable[[], None]:
        """`watcher` hears each commit of the other processes once, in order, on whichever
        of this engine's threads learns of it first (keep it short: it holds a lock); returns
        how to stop."""
        with self._log_lock:
            self._watchers.append(watcher)
        return lambda: self._unwatch(watcher)

    def _unwatch(self, watcher: CommitWatcher) -> None:
        with self._log_lock:
            self._watchers.remove(watcher)

    def _listen_loop(self) -> None:
        """Hear the other processes' commit notices, until `close`. Through a lost connection
        it reconnects (a second apart), then catches up on what it missed."""
        own = self.process_id + " "
        while True:
            try:
                # consumed whole: the generator holds the connection's lock while it runs
                heard = [n.payload for n in self._listen.notifies(stop_after=1)]
                if self._closing and own + "close" in heard:
                    return
                if any(_is_commit_notice(p) and not p.startswith(own) for p in heard):
                    self._catch_up(self._listen)
            except psycopg.Error:
                if self._closing:
                    return
                log.exception("hearing other processes' commits failed; listening again")
                self._listen = self._reconnect_listener()

    def _listening(self) -> psycopg.Connection[Any]:
        """A connection listening for commit notices and holding this process's advisory
        lock while it lives (`is_running`)."""
        connection = self._connect_in_schema()
        connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
        connection.execute("SELECT pg_advisory_lock(%s, %s)", _lock(PROCESS_LOCKS, self.process_id))
        return connection

    def is_running(self, process_id: str) -> bool:
        if process_id == self.process_id:
            return True
        if not process_id:
            return False
        with self._read_lock:
            db = self._reader()
            row = db.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", _lock(PROCESS_LOCKS, process_id)
            )
            if (free := row.fetchone()) is not None and free[0]:  # its holder is gone
                db.execute("SELECT pg_advisory_unlock(%s, %s)", _lock(PROCESS_LOCKS, process_id))
                return False
        return True

    def _reconnect_listener(self) -> psycopg.Connection[Any]:
        self._listen.close()
        while not self._closing:
            try:
                connection = self._listening()
                self._catch_up(connection)
                return connection
            except psycopg.Error:
                self._stopped.wait(1.0)
        return self._listen

    # --- blobs -------------------------------------------------------------------------------

    def _on_blob_connection(self, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """`work` done on the connection for files (a new one if the last was lost)."""
        with self._blob_lock:
            if self._blobs is None or self._blobs.broken:
                self._blobs = self._connect_in_schema()
            return work(self._blobs)

    def new_blob(self) -> BlobWriter:
        return _BlobRows(f"{self.process_id}.{uuid.uuid4().hex}", self._on_blob_connection)

    def read_blob(self, sha256: str) -> Iterator[bytes] | None:
        row = self._on_blob_connection(
            lambda db: db.execute(
                "SELECT blob, chunks FROM blob_names WHERE sha256 = %s", (sha256,)
            ).fetchone()
        )
        return None if row is None else self._pieces(sha256, str(row[0]), int(row[1]))

    def _pieces(self, sha256: str, key: str, count: int) -> Iterator[bytes]:
        for seq in range(count):
            yield self._on_blob_connection(lambda db, seq=seq: _piece(db, sha256, key, seq))

    def delete_blob(self, sha256: str) -> None:
        def delete(db: psycopg.Connection[Any]) -> None:
            with db.transaction():
                named = db.execute(
                    "DELETE FROM blob_names WHERE sha256 = %s RETURNING blob", (sha256,)
                ).fetchall()
                if named:
                    db.execute("DELETE FROM blob_chunks WHERE blob = %s", (named[0][0],))

        self._on_blob_connection(delete)

    def _drop_abandoned_blobs(self) -> None:
        """Drop the pieces of blobs that processes which have stopped were writing."""
        with self._write_lock:
            unnamed = self._writer().execute(
                "SELECT c.blob FROM blob_chunks c WHERE c.seq = 0 AND NOT EXISTS "
                "(SELECT 1 FROM blob_names n WHERE n.blob = c.blob)"
            )
            keys = [str(key) for (key,) in unnamed.fetchall()]
        for key in keys:
            if not self.is_running(key.partition(".")[0]):
                with self._write_lock:
                    self._writer().execute("DELETE FROM blob_chunks WHERE blob = %s", (key,))


class _BlobRows(BlobWriter):
    """A blob written as rows of BLOB_CHUNK_BYTES under `key`, named when it is kept."""

    def __init__(
        self, key: str, on_connection: Callable[[Callable[[psycopg.Connection[Any]], Any]], Any]
    ) -> None:
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

        def name(db: psycopg.Connection[Any]) -> None:
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


def _piece(db: psycopg.Connection[Any], sha256: str, key: str, seq: int) -> bytes:
    row = db.execute(
        "SELECT data FROM blob_chunks WHERE blob = %s AND seq = %s", (key, seq), binary=True
    ).fetchone()
    if row is None:
        raise FileNotFoundError(f"blob {sha256} was deleted while it was being read")
    return bytes(row[0])


def _lock(kind: int, name: str) -> tuple[int, int]:
    """An advisory lock's two int4 keys: its class, and a hash of what it is for."""
    return kind, zlib.crc32(name.encode()) - 2**31


def _is_commit_notice(payload: str) -> bool:
    return payload.partition(" ")[2].isdigit()


def _encode_writes(writes: Sequence[Write]) -> str:
    return json.dumps(
        [
            [w.table, w.id, to_stored_json(w.old), to_stored_json(w.new)]  # pyright: ignore[reportArgumentType]
            for w in writes
        ],
        separators=(",", ":"),
    )


def _decode_writes(text: str) -> tuple[Write, ...]:
    rows: Any = from_stored_json(text)
    return tuple(Write(str(table), str(id_), old, new) for table, id_, old, new in rows)
