"""The PostgreSQL engine: one deployment's data shared by any number of server processes.

The tables are those of the SQLite engine (`_statements`: documents as stored JSON, index
entries as order-preserving BYTEA keys, search terms), in one PostgreSQL schema (namespace)
per deployment, plus `commits`: every commit's writes, so that each process can check
conflicts against, and invalidate its subscriptions for, commits made by the others
(`_postgres_commits`), and the rows of file blobs (`_postgres_blobs`).

Commits are serialized by a transaction-level advisory lock: inside it a process first
reads the commits it has not seen, checks the transaction's reads against them, then
writes and announces the commit with NOTIFY. Each process listens on a background
thread and hands the commits of others to `watch`ers.
"""

from __future__ import annotations

import logging
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

try:  # the driver is an optional extra: say which, when it is missing
    import psycopg
    from psycopg import sql
except ModuleNotFoundError as missing:
    from confect.engine.sql.postgres_driver import PostgresDriverMissingError

    raise PostgresDriverMissingError(missing=missing.name or "psycopg") from None

from confect.engine.interface import (
    BlobWriter,
    Commit,
    CommitLog,
    CommitRequest,
    CommitWatcher,
    ReadRange,
)
from confect.engine.occ import accept_batch
from confect.engine.records import latest_creation_time
from confect.engine.sql import _core, _postgres_blobs, _postgres_commits
from confect.engine.sql._postgres_commits import COMMIT_LOCKS, PROCESS_LOCKS, advisory_lock
from confect.engine.sql._postgres_statements import (
    SQL,
    WITH_LATEST,
    Database,
    literal,
    with_latest,
)
from confect.engine.sql._reads import SqlReads
from confect.model.errors import WriteConflict
from confect.model.schema import Schema

T = TypeVar("T")
Connection = psycopg.Connection[Any]
log = logging.getLogger("confect.engine.sql.postgres")


def split_url(url: str) -> tuple[str, str]:
    """`postgres://...?schema=NAME` as (a libpq URL, the schema; "confect" if not named)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    schema = next((value for key, value in query if key == "schema"), "confect")
    rest = urlencode([(key, value) for key, value in query if key != "schema"])
    return urlunsplit(parts._replace(query=rest)), schema


class PostgresEngine(SqlReads):
    """A deployment's data in PostgreSQL schema `schema` of the database at `url`."""

    _sql = SQL

    def __init__(self, url: str, schema: str = "confect") -> None:
        self.url = url
        self.schema = schema
        self._channel = f"confect_{uuid.uuid5(uuid.NAMESPACE_URL, schema).hex}"
        self.process_id = secrets.token_hex(8)  # also tells its own notices from others'
        self.commit_lock = advisory_lock(COMMIT_LOCKS, schema)  # its commits take it; others' not
        self.application_name = f"confect {self.process_id} {schema}"[:63]  # pg_stat_activity
        self._read = self._connect()
        with self._read.transaction():
            self._read.execute("SELECT pg_advisory_xact_lock(%s, %s)", self.commit_lock)
            self._read.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
            )
            self._use_schema(self._read)
            self._read.execute(literal(SQL.setup + _postgres_commits.SETUP))
            _postgres_blobs.set_up(self._read)
        self._write = self._connect_in_schema()
        self._blobs = _postgres_blobs.PostgresBlobs(self.process_id, self._connect_in_schema)
        self._read_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._log_lock = threading.Lock()
        self._ts = int(_core.meta(Database(self._read), SQL, "last_ts", "0"))
        self._log = CommitLog(_postgres_commits.KEEP_COMMITS, known_after=self._ts)
        self._creation = float(_core.meta(Database(self._read), SQL, "last_creation", "0"))
        self._since_prune = 0
        self._seen = 0  # the latest commit any read saw
        self._mine: set[int] = set()  # own commits between their COMMIT and `_learn`
        self._watchers: list[CommitWatcher] = []
        self._closing = False
        self._stopped = threading.Event()  # set by `close`: ends the listener's waits
        self._listen = self._listening()
        self._listener = threading.Thread(target=self._listen_loop, daemon=True)
        self._listener.start()
        _postgres_blobs.drop_abandoned(self._on_writer, self.is_running)

    def _connect(self) -> Connection:
        return psycopg.connect(self.url, autocommit=True, application_name=self.application_name)

    def _use_schema(self, connection: Connection) -> None:
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))

    def _connect_in_schema(self) -> Connection:
        connection = self._connect()
        self._use_schema(connection)
        return connection

    def _reader(self) -> Connection:
        """The reading connection (hold `_read_lock`), a new one if the last was lost: a
        request that met the loss failed, the next ones go through."""
        if self._read.broken:
            self._read = self._connect_in_schema()
        return self._read

    def _writer(self) -> Connection:
        """The committing connection (hold `_write_lock`), a new one if the last was lost."""
        if self._write.broken:
            self._write = self._connect_in_schema()
        return self._write

    def _on_writer(self, work: Callable[[Connection], T]) -> T:
        with self._write_lock:
            return work(self._writer())

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
        for connection in (self._listen, self._write, self._read):
            connection.close()
        self._blobs.close()

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
        """The deployment's secret, made by the first process that asked for it."""
        return bytes.fromhex(self._kept("shared_secret", secrets.token_hex(32)))

    def _kept(self, key: str, proposed: str) -> str:
        """The deployment's value for `key`: the one kept, or else `proposed`, kept now."""
        with self._write_lock, self._writer().transaction():
            self._write.execute("SELECT pg_advisory_xact_lock(%s, %s)", self.commit_lock)
            db = Database(self._write)
            value = _core.meta(db, SQL, key, "")
            if not value:
                value = proposed
                _core.set_meta(db, SQL, key, value)
        return value

    # --- schema ------------------------------------------------------------------------------

    def configure(self, schema: Schema) -> dict[str, int]:
        with self._write_lock, self._writer().transaction():
            self._write.execute("SELECT pg_advisory_xact_lock(%s, %s)", self.commit_lock)
            self.catalog, numbers = _core.configure(Database(self._write), SQL, schema)
            return numbers

    def set_table_numbers(self, numbers: dict[str, int]) -> None:
        with self._write_lock, self._writer().transaction():
            _core.set_table_numbers(Database(self._write), SQL, numbers)

    # --- reads -------------------------------------------------------------------------------

    def last_ts(self) -> int:
        return self._ts

    def _query(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """Each read also notes the latest commit it saw, for `is_valid`."""
        query = WITH_LATEST.get(statement) or with_latest(statement)
        with self._read_lock:
            rows = self._reader().execute(query, params).fetchall()
            latest = rows[0][0]
            if latest is not None and latest > self._seen:
                self._seen = latest
        return [] if rows[0][1] is None else [row[1:] for row in rows]

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
                self._apply(db, accepted)
        return results

    def _apply(self, db: Connection, commits: list[Commit]) -> None:
        rows = _core.batch_rows(commits, self.catalog)
        creation = latest_creation_time(commits, self._creation)
        _core.write_batch(Database(db), SQL, rows, commits[-1].ts, creation)
        _postgres_commits.add(db, commits)
        self._since_prune += len(commits)
        if self._since_prune >= _postgres_commits.PRUNE_EVERY:
            self._since_prune = 0
            _postgres_commits.prune(db)
        self._notify(db, str(commits[-1].ts))

    def _notify(self, db: Connection, payload: str) -> None:
        db.execute("SELECT pg_notify(%s, %s)", (self._channel, f"{self.process_id} {payload}"))

    def _catch_up(self, db: Connection) -> None:
        """Read the commits this process has not seen yet into its log. If some were pruned
        before it read them, its log starts over and watchers hear that they missed some."""
        known = self._ts
        commits = _postgres_commits.after(db, known)
        if not commits:
            return
        if _postgres_commits.forgotten_ts(db) <= known:
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
            self._creation = latest_creation_time(new, self._creation)
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

    def _listening(self) -> Connection:
        """A connection listening for commit notices and holding this process's advisory
        lock while it lives (`is_running`)."""
        connection = self._connect_in_schema()
        connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
        connection.execute(
            "SELECT pg_advisory_lock(%s, %s)", advisory_lock(PROCESS_LOCKS, self.process_id)
        )
        return connection

    def is_running(self, process_id: str) -> bool:
        """Whether the process `process_id` still holds its advisory lock (`_listening`)."""
        if process_id == self.process_id:
            return True
        if not process_id:
            return False
        lock = advisory_lock(PROCESS_LOCKS, process_id)
        with self._read_lock:
            db = self._reader()
            row = db.execute("SELECT pg_try_advisory_lock(%s, %s)", lock)
            if (free := row.fetchone()) is not None and free[0]:  # its holder is gone
                db.execute("SELECT pg_advisory_unlock(%s, %s)", lock)
                return False
        return True

    def _reconnect_listener(self) -> Connection:
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

    def new_blob(self) -> BlobWriter:
        return self._blobs.new_blob()

    def read_blob(self, sha256: str) -> Iterator[bytes] | None:
        return self._blobs.read_blob(sha256)

    def delete_blob(self, sha256: str) -> None:
        self._blobs.delete_blob(sha256)


def _is_commit_notice(payload: str) -> bool:
    return payload.partition(" ")[2].isdigit()
