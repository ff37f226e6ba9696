"""The backend: runs an app's functions against an engine, each call with its type's layer.

Top-level calls (`query`, `mutation`, `action`) take and give Convex values, as a server
or a test harness sees them. Calls made from inside functions (runners, the scheduler)
take and give Python values and typed errors.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast

import attrs

import effects
from confect.app.functions import FunctionDefinition, Kind
from confect.app.registry import App
from confect.engine.interface import BY_CREATION_TIME, Document, Engine, ReadRange, Write
from confect.engine.memory import MemoryEngine
from confect.model.documents import user_fields
from confect.model.errors import FunctionNotFoundError, ValidationError, WriteConflict
from confect.model.schema import CRONS_TABLE, SCHEDULED_TABLE, STORAGE_TABLE
from confect.model.validators import bind
from confect.model.values import AFTER_PREFIX, Value, encode_value, prefix_range
from confect.runtime import session_requests
from confect.runtime.group_commit import GroupCommitter
from confect.runtime.layers import (
    action_services,
    as_layer,
    mutation_services,
    query_services,
    with_ctx,
)
from confect.runtime.session_requests import SessionRequest
from confect.runtime.transaction import Transaction
from confect.runtime.user_code import Inline, MovedOffLoop, UserCode, in_worker_thread
from confect.services.auth import UserIdentity
from confect.services.storage import StorageFiles
from effects import Cause, Effect, Exit, Layer, Scope, ScopeService

T = TypeVar("T")
MAX_COMMIT_ATTEMPTS = 100
PRUNE_CHUNK = 1000  # session request records deleted per transaction


@attrs.frozen
class QueryResult:
    """A query's value, what it read (its reactive dependencies), the ts it read at and its
    journal (where its paginated query's page ended, to pin it there when run again)."""

    value: Value
    reads: list[ReadRange]
    ts: int
    journal: str | None = None


@attrs.frozen
class MutationResult:
    """What a transaction's body returned (a Convex value for a mutation) and its commit ts."""

    value: Any
    ts: int


CommitListener = Callable[[int, list[Write]], None]


class Backend:
    """One deployment of an app: its engine, files, scheduler, and the way calls are run."""

    def __init__(
        self,
        app: App,
        engine: Engine | None = None,
        *,
        now: Callable[[], float] = time.time,
        base_url: str = "http://127.0.0.1:3210",
        services: Mapping[Any, Any] | None = None,
        group_commit: bool = False,
    ) -> None:
        self.app = app
        self.schema = app.schema
        self.engine = engine or MemoryEngine()
        self.numbers = self.engine.configure(self.schema)
        self._bind_validators()
        self.now = now
        self.files = StorageFiles(self.engine, base_url, self.now_ms)
        self.scope = ScopeService()  # holds what the app's layer acquired, until `close`
        app_services = self._build(app.layer) if app.layer is not None else {}
        self.services = {**app_services, **(services or {})}  # over the per-call services
        self.commit_listeners: list[CommitListener] = []
        # where handlers run (a server's worker threads); commit listeners run on
        # `listener_loop` when it is set, whichever thread committed
        self.user_code: UserCode = Inline()
        self.listener_loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()  # over _open and _doomed_blobs: user code is threaded
        self._open: dict[int, int] = {}  # begin ts -> transactions still reading
        self._doomed_blobs: list[tuple[int, str]] = []  # (ts of the delete, sha256)
        # with group_commit, mutations must run on an asyncio loop (the server's)
        self.committer = GroupCommitter(self.engine) if group_commit else None
        self.recover()
        self.sync_crons()

    def _build(self, layer: Layer[Any, Any, Any]) -> dict[Any, Any]:
        return effects.run_sync(layer.build().provide_service(Scope, self.scope)).as_dict()

    def close(self) -> None:
        """Release what the app's layer acquired."""
        effects.run_sync(self.scope.close(Exit.succeed(None)))

    def _bind_validators(self) -> None:
        documents = {name: table.validator for name, table in self.schema.tables.items()}
        for table in documents.values():
            bind(table, self.numbers, documents)
        for function in self.app.functions.values():
            bind(function.args, self.numbers, documents)
            bind(function.returns, self.numbers, documents)

    def reload(self, app: App) -> None:
        """Switch to a new version of the app (same data): schema, functions, crons.

        Raises `SchemaError` (and keeps the old version) if the data does not fit."""
        numbers = self.engine.configure(app.schema)
        self.app, self.schema, self.numbers = app, app.schema, numbers
        self._bind_validators()
        self.sync_crons()

    def renumber_tables(self, numbers: dict[str, int]) -> None:
        """Adopt another deployment's table numbers (its ids name them); only when empty."""
        self.numbers = {**self.numbers, **numbers}
        self.engine.set_table_numbers(self.numbers)
        self._bind_validators()

    def with_services(self, services: Mapping[Any, Any]) -> Backend:
        """The same deployment, with `services` replacing or adding to each call's."""
        twin = object.__new__(Backend)
        twin.__dict__.update(self.__dict__)
        twin.services = {**self.services, **services}
        return twin

    def now_ms(self) -> float:
        return self.now() * 1000

    def new_transaction(self, at_ts: int | None = None) -> Transaction:
        """A transaction begun now (reading as of commit `at_ts`, if given); `finish` it when
        done (deleted files wait for it)."""
        tx = Transaction(self.engine, self.numbers, self.now_ms(), at_ts)
        with self._lock:
            self._open[tx.begin_ts] = self._open.get(tx.begin_ts, 0) + 1
        return tx

    def finish(self, tx: Transaction) -> None:
        """The transaction will read no more: files deleted since it began may go."""
        with self._lock:
            left = self._open.get(tx.begin_ts, 0) - 1
            if left > 0:
                self._open[tx.begin_ts] = left
            else:
                self._open.pop(tx.begin_ts, None)
            self._collect_blobs()

    def _finishing(self, tx: Transaction) -> Callable[[Exit[Any, Any]], Effect[None]]:
        return lambda _: effects.sync(lambda: self.finish(tx))

    # --- resolving functions -------------------------------------------------------------------

    def resolve(self, fn: Any, kind: Kind | None = None) -> FunctionDefinition[Any, Any]:
        """The function for a reference (a definition or a `module:name` path)."""
        found = self.app.function(fn) if isinstance(fn, str) else fn
        if not isinstance(found, FunctionDefinition):
            raise ValidationError(path="function", message=f"{fn!r} is not a confect function")
        if kind is not None and found.kind != kind:
            raise ValidationError(
                path=found.name,
                message=f"is a {found.kind}, not a {kind}; call it as a {found.kind}",
            )
        return found  # pyright: ignore[reportUnknownVariableType]

    def resolve_for_scheduling(
        self, fn: Any, args: Mapping[str, Any]
    ) -> tuple[str, dict[str, Value]]:
        function = self.resolve(fn)
        path = self.app.path_of(function)
        if path is None:
            raise ValidationError(
                path="scheduler", message=f"{function.name} is not a function of this app"
            )
        return path, function.encode_args(args)

    # --- top-level calls -----------------------------------------------------------------------

    def query(
        self,
        fn: Any,
        args: dict[str, Value],
        identity: UserIdentity | None = None,
        at_ts: int | None = None,
        journal: str | None = None,
    ) -> Effect[QueryResult, Any]:
        """Run a query in a fresh transaction (reading as of commit `at_ts`, if given; fails
        `TimestampTooOldError` if that is too far back), its page pinned to end where
        `journal` (a previous run's) says; re-run if a commit raced its reads."""
        return effects.suspend(
            lambda: self._query_attempt(fn, args, identity, at_ts, journal, 0, False)
        )

    def _query_attempt(
        self,
        fn: Any,
        args: dict[str, Value],
        identity: UserIdentity | None,
        at_ts: int | None,
        journal: str | None,
        n: int,
        off_loop: bool,
    ) -> Effect[QueryResult, Any]:
        # a method, not a closure calling itself: that would be a reference cycle per query
        function = self.resolve(fn, "query")
        tx = self.new_transaction(at_ts)
        tx.journal_in = journal
        body = self.user_code.run(
            self._invoke(function, args, query_services(self, tx, identity)), "query", off_loop
        ).on_exit(self._finishing(tx))

        def check(value: Value) -> Effect[QueryResult, Any]:
            if n + 1 < MAX_COMMIT_ATTEMPTS and not self.engine.is_valid(tx.engine_ts, tx.reads):
                return self._query_attempt(fn, args, identity, at_ts, journal, n + 1, off_loop)
            return effects.succeed(QueryResult(value, tx.reads, tx.begin_ts, tx.journal_out))

        def moved(_: MovedOffLoop) -> Effect[QueryResult, Any]:
            return self._query_attempt(fn, args, identity, at_ts, journal, n, True)

        return body.flat_map(check).catch_tag(MovedOffLoop, moved)

    def mutation(
        self,
        fn: Any,
        args: dict[str, Value],
        identity: UserIdentity | None = None,
        request: SessionRequest | None = None,
    ) -> Effect[MutationResult, Any]:
        """Run a mutation as a transaction, retried on conflict; nothing commits if it fails.
        With a sync-protocol `request`, it runs once: a repeat of a request that committed
        is answered with its recorded value and ts."""
        return effects.suspend(
            lambda: self._mutation(self.resolve(fn, "mutation"), args, identity, None, request)
        )

    def action(
        self, fn: Any, args: dict[str, Value], identity: UserIdentity | None = None
    ) -> Effect[Value, Any]:
        """Run an action (not transactional)."""
        return effects.suspend(
            lambda: self.user_code.run(
                self._invoke(self.resolve(fn, "action"), args, action_services(self, identity)),
                "action",
            )
        )

    def http_action(
        self, fn: Any, request: Any, identity: UserIdentity | None = None
    ) -> Effect[Any, Any]:
        """Run an http action with the request; succeed with its response."""

        def start() -> Effect[Any, Any]:
            function = self.resolve(fn, "http_action")
            services = action_services(self, identity, "http_action")
            body = self._provide(services, "http_action", lambda: function.handler(request))
            return self.user_code.run(body, "http_action")

        return effects.suspend(start)

    def call(
        self,
        function: FunctionDefinition[Any, Any],
        args: dict[str, Value],
        identity: UserIdentity | None = None,
    ) -> Effect[Value, Any]:
        """Run a query, mutation or action by its kind; succeed with its Convex value."""
        if function.kind == "query":
            return self.query(function, args, identity).map(lambda r: r.value)
        if function.kind == "mutation":
            return self.mutation(function, args, identity).map(lambda r: r.value)
        return self.action(function, args, identity)

    def _mutation(
        self,
        function: FunctionDefinition[Any, Any],
        args: dict[str, Value],
        identity: UserIdentity | None,
        finish: Callable[[Transaction], bool] | None,
        request: SessionRequest | None = None,
    ) -> Effect[MutationResult, Any]:
        def body(tx: Transaction) -> Effect[Value, Any]:
            return self._invoke(function, args, mutation_services(self, tx, identity))

        return self._transact(body, finish, request=request)

    def transact(
        self, effect: Callable[[], Effect[Any, Any, Any]], identity: UserIdentity | None = None
    ) -> Effect[MutationResult, Any]:
        """Run any effect with a mutation's services, as one transaction (retried on conflict)."""

        def body(tx: Transaction) -> Effect[Any, Any]:
            return self._provide(mutation_services(self, tx, identity), "mutation", effect)

        return effects.suspend(lambda: self._transact(body, None))

    def _transact(
        self,
        body_of: Callable[[Transaction], Effect[Any, Any]],
        finish: Callable[[Transaction], bool] | None,
        attempt: int = 0,
        request: SessionRequest | None = None,
        off_loop: bool = False,
    ) -> Effect[MutationResult, Any]:
        """`body_of(tx)` in a new transaction, committed when it succeeds. `finish(tx)`, if
        given, runs first and may call the whole thing off (a job someone already ran); so
        does the record of `request`, if it ran before, which is then the answer."""
        tx = self.new_transaction()
        if finish is not None and not finish(tx):
            self.finish(tx)
            return effects.succeed(MutationResult(None, tx.begin_ts))
        if request is not None and (recorded := session_requests.find(tx, request)) is not None:
            self.finish(tx)
            if self.engine.is_valid(tx.engine_ts, tx.reads) or attempt + 1 >= MAX_COMMIT_ATTEMPTS:
                return effects.succeed(MutationResult(*recorded))
            # the record came from a commit this process had not heard of: hear it first,
            # so that what follows the answer (a transition to its ts) can reach that ts
            return self._transact(body_of, finish, attempt + 1, request, off_loop)

        def commit(value: Any) -> Effect[MutationResult, Any]:
            if request is not None:
                session_requests.record(tx, request, value)
            writes = tx.writes()

            def done(ts: int) -> MutationResult:
                self._committed(ts, writes)
                return MutationResult(value, ts)

            def retry(conflict: WriteConflict) -> Effect[MutationResult, Any]:
                if attempt + 1 >= MAX_COMMIT_ATTEMPTS:
                    return effects.die(conflict)
                return self._transact(body_of, finish, attempt + 1, request, off_loop)

            return (
                self._commit(tx.begin_ts, tx.reads, writes)
                .map(done)
                .catch_tag(WriteConflict, retry)
            )

        def moved(_: MovedOffLoop) -> Effect[MutationResult, Any]:
            return self._transact(body_of, finish, attempt, request, off_loop=True)

        body = self.user_code.run(body_of(tx), "mutation", off_loop)
        body = body.flat_map(commit).on_exit(self._finishing(tx))
        return body.catch_tag(MovedOffLoop, moved)

    def _commit(
        self, begin_ts: int, reads: list[ReadRange], writes: list[Write]
    ) -> Effect[int, WriteConflict]:
        if self.committer is not None and not in_worker_thread():  # the committer's loop
            return self.committer.commit(begin_ts, reads, writes)
        return effects.sync(lambda: self.engine.commit(begin_ts, reads, writes))

    def _invoke(
        self, function: FunctionDefinition[Any, Any], args: Value, services: dict[Any, Any]
    ) -> Effect[Value, Any]:
        def start() -> Effect[Any, Any]:
            return function.handler(**function.decode_args(args))

        return self._provide(services, function.kind, start).map(function.encode_result)

    def _provide(
        self, services: dict[Any, Any], kind: str, effect: Callable[[], Effect[Any, Any, Any]]
    ) -> Effect[Any, Any]:
        """`effect()` with a call's services, the app's and tests' own laid over them, and
        the function context of `kind` over all of them."""
        if self.services:
            services.update(self.services)
        return as_layer(with_ctx(services, kind)).provide_to(effects.suspend(effect))

    # --- calls from inside functions -----------------------------------------------------------

    def nested_query(
        self, tx: Transaction, identity: UserIdentity | None, fn: Any, args: Mapping[str, Any]
    ) -> Effect[Any, Any]:
        """A query run inside the caller's transaction (so it sees the caller's writes)."""

        def start() -> Effect[Any, Any]:
            function = self.resolve(fn, "query")
            body = self._invoke(
                function, function.encode_args(args), query_services(self, tx, identity)
            )
            return body.map(function.decode_result)

        return effects.suspend(start)

    def nested_mutation(
        self, tx: Transaction, identity: UserIdentity | None, fn: Any, args: Mapping[str, Any]
    ) -> Effect[Any, Any]:
        """A mutation run as a sub-transaction: its writes are undone if it fails."""

        def start() -> Effect[Any, Any]:
            function = self.resolve(fn, "mutation")
            mark = tx.savepoint()
            body = self._invoke(
                function, function.encode_args(args), mutation_services(self, tx, identity)
            )

            def undo_on_failure(exit_: Exit[Any, Any]) -> Effect[None]:
                return effects.sync(lambda: None if exit_.is_success() else tx.rollback(mark))

            return body.map(function.decode_result).on_exit(undo_on_failure)

        return effects.suspend(start)

    def call_from_action(
        self, kind: Kind, identity: UserIdentity | None, fn: Any, args: Mapping[str, Any]
    ) -> Effect[Any, Any]:
        """A query, mutation or action run on its own, as an action's runners do."""

        def start() -> Effect[Any, Any]:
            function = self.resolve(fn, kind)
            encoded = function.encode_args(args)
            return self.call(function, encoded, identity).map(function.decode_result)

        return effects.suspend(start)

    def in_own_transaction(self, f: Callable[[Transaction], T]) -> T:
        """Run `f` in a new transaction and commit it (retried on conflict)."""
        for attempt in range(MAX_COMMIT_ATTEMPTS):
            tx = self.new_transaction()
            try:
                result = f(tx)
                writes = tx.writes()
                ts = tx.commit()
            except WriteConflict:
                if attempt + 1 == MAX_COMMIT_ATTEMPTS:
                    raise
                continue
            finally:
                self.finish(tx)
            self._committed(ts, writes)
            return result
        raise AssertionError("unreachable")

    def _committed(self, ts: int, writes: list[Write]) -> None:
        if not writes:
            return
        with self._lock:
            for write in writes:
                if write.table == STORAGE_TABLE and write.new is None and write.old is not None:
                    self._doomed_blobs.append((ts, str(write.old["sha256"])))
            self._collect_blobs()
        loop = self.listener_loop
        if loop is not None and in_worker_thread():
            loop.call_soon_threadsafe(self.tell_listeners, ts, writes)
        else:
            self.tell_listeners(ts, writes)

    def tell_listeners(self, ts: int, writes: list[Write]) -> None:
        """Tell the commit listeners of a commit (this process's, or one another process
        sharing the engine made)."""
        for listener in self.commit_listeners:
            listener(ts, writes)

    def _collect_blobs(self) -> None:
        """Delete the blobs of deleted files once no open transaction began before the
        delete (it could still read the file) and no other file has the same bytes.
        Hold `_lock`."""
        if not self._doomed_blobs:
            return
        oldest = min(self._open, default=None)
        keep: list[tuple[int, str]] = []
        for ts, sha in self._doomed_blobs:
            if oldest is not None and oldest < ts:
                keep.append((ts, sha))
                continue
            self.files.collect(sha)
        self._doomed_blobs[:] = keep  # in place: a twin (`with_services`) shares the list

    def prune_session_requests(self, keep_seconds: float, limit: int = PRUNE_CHUNK) -> int:
        """Delete up to `limit` of the session request records made more than
        `keep_seconds` ago (by this backend's clock), oldest first; return how many."""
        before = self.now_ms() - keep_seconds * 1000
        return self.in_own_transaction(lambda tx: session_requests.prune(tx, before, limit))

    # --- scheduled functions and crons --------------------------------------------------------

    def recover(self) -> int:
        """After a restart: an action job that was running is marked failed (actions run at
        most once) unless another live server process runs it; a mutation job never
        committed, so it is still pending and runs again. Returns how many were marked failed."""
        lo, hi = prefix_range("inProgress")
        running = [
            job
            for _, job in self.engine.scan(SCHEDULED_TABLE, "by_state", lo, hi, False)
            if not self.engine.is_running(str(job.get("runBy", "")))
        ]
        for job in running:
            self._finish_job(
                str(job["_id"]), "failed", "interrupted: the server stopped while it ran"
            )
        return len(running)

    def sync_crons(self) -> None:
        """Make `_cron_jobs` match the app's crons (new ones get their first run time)."""
        wanted = self.app.crons.jobs

        def sync(tx: Transaction) -> None:
            stored = {
                str(d["name"]): d for d in tx.scan(CRONS_TABLE, BY_CREATION_TIME, *prefix_range())
            }
            for name, document in stored.items():
                if name not in wanted or document["schedule"] != wanted[name].describe():
                    tx.delete(CRONS_TABLE, document)
            for name, job in wanted.items():
                if name not in stored or stored[name]["schedule"] != job.describe():
                    fields: dict[str, Value] = {
                        "name": name,
                        "schedule": job.describe(),
                        "nextRun": job.next_after(self.now_ms()),
                    }
                    tx.insert(CRONS_TABLE, fields)

        self.in_own_transaction(sync)

    def enqueue_due_crons(self) -> int:
        """Schedule a run of every cron that is due, advancing its next run in the same
        transaction (so a restart never runs one twice). Returns how many were due."""
        now = self.now_ms()

        def enqueue(tx: Transaction) -> int:
            due = 0
            for cron in list(tx.scan(CRONS_TABLE, BY_CREATION_TIME, *prefix_range())):
                job = self.app.crons.jobs.get(str(cron["name"]))
                if job is None or float(cast(float, cron["nextRun"])) > now:
                    continue
                due += 1
                path, args = self.resolve_for_scheduling(job.function, job.args)
                fields: dict[str, Value] = {
                    "name": path,
                    "args": [args],
                    "scheduledTime": now,
                    "state": {"kind": "pending"},
                }
                tx.insert(SCHEDULED_TABLE, fields)
                tx.replace(CRONS_TABLE, cron, {**user_fields(cron), "nextRun": job.next_after(now)})
            return due

        return self.in_own_transaction(enqueue)

    def next_wake_ms(self) -> float | None:
        """When the next job or cron is due, if any."""
        times = [cast(float, j["scheduledTime"]) for j in self.pending_jobs()[:1]]
        times += [cast(float, c["nextRun"]) for c in self.engine.documents(CRONS_TABLE)]
        return min(times, default=None)

    def tick(self) -> Effect[int]:
        """Enqueue due crons and run due jobs; succeed with how many jobs ran."""
        return effects.suspend(
            lambda: effects.sync(self.enqueue_due_crons).then(self.run_due_jobs())
        )

    def pending_jobs(self, due_by_ms: float | None = None) -> list[Document]:
        """Pending jobs in time order (only those due by `due_by_ms`, if given)."""
        lo, hi = prefix_range("pending")
        if due_by_ms is not None:
            hi = lo + encode_value(due_by_ms) + AFTER_PREFIX
        return [
            document for _, document in self.engine.scan(SCHEDULED_TABLE, "by_state", lo, hi, False)
        ]

    def run_due_jobs(self) -> Effect[int]:
        """Run every job due now, oldest first; succeed with how many ran."""

        def start() -> Effect[int]:
            jobs = self.pending_jobs(self.now_ms())
            # each job's effect is built when its turn comes: building one starts its work
            return effects.for_each(
                jobs, lambda job: effects.suspend(lambda: self._run_job(job))
            ).map(len)

        return effects.suspend(start)

    def _run_job(self, job: Document) -> Effect[None]:
        job_id = str(job["_id"])
        try:
            function = self.app.function(str(job["name"]))
        except FunctionNotFoundError as error:  # the app changed and the function is gone
            message = f"no function {error.path} in the app"
            return effects.sync(lambda: self._finish_job(job_id, "failed", message))
        args = job["args"]
        assert isinstance(args, list) and isinstance(args[0], dict)
        if function.kind == "mutation":
            body: Effect[Any, Any] = self._mutation(
                function, args[0], None, lambda tx: self._claim(tx, job_id, "success")
            )
        else:
            if not self.in_own_transaction(lambda tx: self._claim(tx, job_id, "inProgress")):
                return effects.succeed(None)  # another server process took it
            body = self.action(function, args[0]).flat_map(
                lambda _: effects.sync(lambda: self._finish_job(job_id, "success"))
            )
        return body.catch_all_cause(
            lambda cause: effects.sync(lambda: self._finish_job(job_id, "failed", _message(cause)))
        ).as_(None)

    def _claim(self, tx: Transaction, job_id: str, state: str) -> bool:
        """Move a pending job to `state` (done, in a mutation job's own transaction; or
        running, for an action), unless someone else already took it."""
        job = tx.get(SCHEDULED_TABLE, job_id)
        if job is None or job["state"] != {"kind": "pending"}:
            return False
        self._set_state(tx, job_id, state)
        return True

    def _finish_job(self, job_id: str, state: str, error: str | None = None) -> None:
        self.in_own_transaction(lambda tx: self._set_state(tx, job_id, state, error))

    def _set_state(
        self, tx: Transaction, job_id: str, state: str, error: str | None = None
    ) -> None:
        job = tx.get(SCHEDULED_TABLE, job_id)
        if job is None:
            return
        fields = user_fields(job)
        fields["state"] = {"kind": state} if error is None else {"kind": state, "error": error}
        if state == "inProgress" and self.engine.process_id:
            fields["runBy"] = self.engine.process_id
        if state in ("success", "failed", "canceled"):
            fields["completedTime"] = self.now_ms()
        tx.replace(SCHEDULED_TABLE, job, fields)


def _message(cause: Cause[Any]) -> str:
    failures = cause.failures()
    if failures:
        return str(failures[0])
    return str(cause.squash())
