"""A deployment of an app: its engine, files and clock, what every call shares, and the
parts that run calls (`execution`) and jobs (`jobs`).

`Deployment.open(app, engine, ...)` opens one: it adopts the schema in the engine, builds
the app's layer (on a `ManagedRuntime`, see `app_services`), recovers the jobs of a server
that stopped and syncs the crons; `close()` (or `await aclose()`) releases what the layer
acquired. `reload(app)` swaps in a new version of the app, its services built afresh. `Backend(app, engine, ...)` does the same `open`, under
the name tests and scripts have long used.

A server uses a deployment through the methods under "for a server" (commits, read sets,
other processes), never its engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import attrs

import effects
from confect.app.registry import App
from confect.engine.interface import Commit, Engine, ReadRange, Write, index_key
from confect.engine.memory import MemoryEngine
from confect.model.errors import WriteConflict
from confect.model.validators import bind
from confect.runtime import environment
from confect.runtime.app_services import AppServices
from confect.runtime.blobs import BlobCollector
from confect.runtime.call_log import CallLog
from confect.runtime.execution import MAX_COMMIT_ATTEMPTS, Executor
from confect.runtime.group_commit import GroupCommitter
from confect.runtime.jobs import Jobs
from confect.runtime.transaction import Transaction
from confect.runtime.user_code import Inline, UserCode, in_worker_thread
from confect.services.file_store import StorageFiles
from effects import Effect, Layer
from effects.tracing import Span

DEFAULT_BASE_URL = "http://127.0.0.1:3210"

_log = logging.getLogger("confect")

CommitListener = Callable[[int, list[Write], Span | None], None]
"""Told of each commit: its ts, its writes and the span of the call that made it (None: not
traced, not made by a call, or another process's)."""


@attrs.frozen
class Subscription:
    """A registration (a commit listener, a watch) that lasts until `remove()`."""

    remove: Callable[[], None]


class Deployment:
    """One deployment of an app: what its calls share (engine, files, clock, transactions,
    commit listeners) and the parts that run them, `executor` (calls) and `jobs` (scheduled
    functions, crons). Open one with `Deployment.open`, as the server, the command line and
    `ConfectTest` do, or with `Backend`, the same open by the name tests and scripts use."""

    def __init__(
        self,
        app: App,
        engine: Engine,
        numbers: dict[str, int],
        files: StorageFiles,
        *,
        now: Callable[[], float],
        app_services: AppServices,
        services: Mapping[Any, Any],
        group_commit: bool,
        system_environment: Mapping[str, str],
    ) -> None:
        """The parts of a deployment, put together (no I/O: `open` does what needs it)."""
        self.app = app
        # what every call sees besides the deployment's environment variables
        self.system_environment = dict(system_environment)
        self.schema = app.schema
        self.engine = engine
        self.numbers = numbers
        self.now = now
        self.files = files
        self.app_services = app_services  # what the app's layer built, until `close`
        self._laid_over = dict(services)  # what every call gets over them (mocks)
        self._built: list[AppServices] = []  # the layers `build` built, until `close`
        self.commit_listeners: list[CommitListener] = []
        # where handlers run (a server's worker threads, set as it starts); commit listeners
        # run on `listener_loop` when it is set, whichever thread committed
        self.user_code: UserCode = Inline()
        self.listener_loop: asyncio.AbstractEventLoop | None = None
        self._blobs = BlobCollector(files)
        # with group_commit, mutations must run on an asyncio loop (the server's)
        self._committer = GroupCommitter(engine) if group_commit else None
        self.executor = Executor(self, {**app_services.services, **services})
        self.jobs = Jobs(self.executor)
        self.call_log = CallLog()  # the recent calls, for `confect dev` and a dashboard
        self._bind_validators()
        # the executor's and the jobs' methods as the deployment's own (what tests and
        # scripts call), bound once: a call through them costs no frame more
        executor, jobs = self.executor, self.jobs
        self.resolve = executor.resolve
        self.resolve_for_scheduling = executor.resolve_for_scheduling
        self.query, self.mutation, self.action = executor.query, executor.mutation, executor.action
        self.http_action, self.call = executor.http_action, executor.call
        self.transact, self.in_own_transaction = executor.transact, executor.in_own_transaction
        self.recover, self.sync_crons = jobs.recover, jobs.sync_crons
        self.enqueue_due_crons, self.next_wake_ms = jobs.enqueue_due_crons, jobs.next_wake_ms
        self.tick, self.run_due_jobs = jobs.tick, jobs.run_due_jobs
        self.pending_jobs = jobs.pending_jobs
        self.prune_session_requests = jobs.prune_session_requests

    @classmethod
    def open(
        cls,
        app: App,
        engine: Engine | None = None,
        *,
        now: Callable[[], float] = time.time,
        base_url: str = DEFAULT_BASE_URL,
        site_url: str | None = None,
        services: Mapping[Any, Any] | None = None,
        group_commit: bool = False,
    ) -> Deployment:
        """Open a deployment of `app` on `engine` (a fresh in-memory one if None): adopt the
        schema (`SchemaError` if the data does not fit it), build the app's layer, mark
        failed the action jobs a stopped server was running, and sync the crons.

        `now`: the clock (seconds). `base_url`: where file URLs point (and the deployment's
        CONVEX_CLOUD_URL); `site_url`: where its HTTP routes are (CONVEX_SITE_URL; by default
        under `base_url`/http). `services`: laid over
        every call's (mocks). `group_commit`: concurrent mutations share commits; they must
        then run on an asyncio loop (a server's)."""
        engine = engine or MemoryEngine()
        numbers = engine.configure(app.schema)
        files = StorageFiles(engine, base_url, lambda: now() * 1000)
        deployment = cls(
            app,
            engine,
            numbers,
            files,
            now=now,
            app_services=AppServices.build_now(app.layer),
            services=services or {},
            group_commit=group_commit,
            system_environment=environment.system_variables(
                base_url, site_url or f"{base_url}/http"
            ),
        )
        deployment.jobs.recover()
        deployment.jobs.sync_crons()
        return deployment

    def build(self, layer: Layer[Any, Any, Any]) -> dict[Any, Any]:
        """The services `layer` builds, its resources held until `close`."""
        built = AppServices.build_now(layer)
        self._built.append(built)
        return built.services

    def close(self) -> None:
        """Release what the app's layer (and `build`) acquired, last acquired first."""
        for services in self._releasing():
            services.dispose()

    async def aclose(self) -> None:
        """`close`, on the running event loop (a server's, as it shuts down)."""
        for services in self._releasing():
            await services.dispose()

    def _releasing(self) -> list[AppServices]:
        releasing = [*reversed(self._built), self.app_services]
        self._built = []
        return releasing

    def _bind_validators(self) -> None:
        documents = {name: table.validator for name, table in self.schema.tables.items()}
        for table in documents.values():
            bind(table, self.numbers, documents)
        for function in self.app.functions.values():
            bind(function.args, self.numbers, documents)
            bind(function.returns, self.numbers, documents)

    def reload(self, app: App, services: AppServices | None = None) -> AppServices:
        """Switch to a new version of the app (same data): schema, functions, crons, and
        the services of its layer, `services` if given (built with `AppServices.build`),
        else built here. Calls from now on get them; the previous version's are returned,
        to be disposed once the calls that began with them have ended.

        Raises (and keeps the old version) if the layer fails to build, or `SchemaError`
        if the data does not fit the schema."""
        fresh = services or AppServices.build_now(app.layer)
        try:
            numbers = self.engine.configure(app.schema)
        except BaseException:
            if services is None:
                fresh.dispose()
            raise
        self.app, self.schema, self.numbers = app, app.schema, numbers
        previous, self.app_services = self.app_services, fresh
        self.executor.services = {**fresh.services, **self._laid_over}
        self._bind_validators()
        self.jobs.sync_crons()
        return previous

    def renumber_tables(self, numbers: dict[str, int]) -> None:
        """Adopt another deployment's table numbers (its ids name them); only when empty."""
        self.numbers = {**self.numbers, **numbers}
        self.engine.set_table_numbers(self.numbers)
        self._bind_validators()

    def now_ms(self) -> float:
        """The clock, in ms since the epoch."""
        return self.now() * 1000

    # --- environment variables ---------------------------------------------------------------

    def environment_variables(self) -> dict[str, str]:
        """The deployment's environment variables (not the system ones), by name, as of
        one commit: read again while a commit races the read (as a query is), with no
        commit of its own (which on PostgreSQL would take the deployment's commit lock)."""
        attempts = MAX_COMMIT_ATTEMPTS
        while True:
            tx = self.new_transaction()
            try:
                variables = environment.read_all(tx)
            finally:
                self.finish(tx)
            attempts -= 1
            if attempts == 0 or self.engine.is_valid(tx.engine_ts, tx.reads):
                return variables

    def update_environment_variables(self, changes: Iterable[environment.EnvVarChange]) -> None:
        """Set and unset environment variables, all in one commit (see
        `environment.update`); raises `EnvironmentVariableError` and changes nothing if a
        change breaks a rule. The queries that read a changed variable run again."""
        changes = list(changes)
        self.in_own_transaction(lambda tx: environment.update(tx, changes))

    # --- transactions --------------------------------------------------------------------------

    def new_transaction(self, at_ts: int | None = None) -> Transaction:
        """A transaction begun now (reading as of commit `at_ts`, if given); `finish` it when
        done (deleted files wait for it)."""
        tx = Transaction(self.engine, self.numbers, self.now() * 1000, at_ts)  # now_ms, inlined
        self._blobs.began(tx.begin_ts)
        return tx

    def finish(self, tx: Transaction) -> None:
        """The transaction will read no more: files deleted since it began may go."""
        self._blobs.finished(tx.begin_ts)

    def commit(
        self, begin_ts: int, reads: list[ReadRange], writes: list[Write]
    ) -> Effect[int, WriteConflict]:
        """Commit a transaction (fails `WriteConflict`); with group commit, on the event
        loop, in the next batch. Tell `committed` when it succeeds."""
        if self._committer is not None and not in_worker_thread():  # the committer's loop
            return self._committer.commit(begin_ts, reads, writes)
        return effects.sync(lambda: self.engine.commit(begin_ts, reads, writes))

    def committed(self, ts: int, writes: list[Write], cause: Span | None) -> None:
        """Commit `ts` of this process made `writes` (in the call whose span is `cause`, if
        traced): collect blobs, tell the listeners."""
        if not writes:
            return
        self._blobs.committed(ts, writes)
        loop = self.listener_loop
        if loop is not None and in_worker_thread():
            loop.call_soon_threadsafe(self._tell_listeners, ts, writes, cause)
        else:
            self._tell_listeners(ts, writes, cause)

    def _tell_listeners(self, ts: int, writes: list[Write], cause: Span | None) -> None:
        # The commit has happened: a listener that fails must neither fail the call that
        # made it nor keep the commit from the others (subscriptions among them).
        for listener in list(self.commit_listeners):
            try:
                listener(ts, writes, cause)
            except Exception:
                _log.exception("a commit listener failed on commit %d", ts)

    # --- for a server --------------------------------------------------------------------------

    def subscribe_commits(self, listener: CommitListener) -> Subscription:
        """Have `listener` told of every commit (this process's, and those of other processes
        it hears, see `hear_other_processes`) until the subscription is removed."""
        self.commit_listeners.append(listener)
        return Subscription(lambda: self.commit_listeners.remove(listener))

    def hear_other_processes(
        self, loop: asyncio.AbstractEventLoop, on_missed: Callable[[], None]
    ) -> Subscription:
        """Tell the commit listeners, on `loop`, of the commits of the other processes that
        share the engine (postgres); `on_missed()` when some were missed, so that anything
        may have changed. Until the subscription is removed."""

        def heard(commits: list[Commit]) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody to tell
                loop.call_soon_threadsafe(self._others_committed, commits, on_missed)

        return Subscription(self.engine.watch(heard))

    def _others_committed(self, commits: list[Commit], on_missed: Callable[[], None]) -> None:
        if not commits:
            on_missed()
        for commit in commits:
            self._tell_listeners(commit.ts, list(commit.writes), None)

    @property
    def shared_between_processes(self) -> bool:
        """Whether other server processes may share the engine (and run its jobs)."""
        return bool(self.engine.process_id)

    def last_ts(self) -> int:
        """The ts of the latest commit this process knows of."""
        return self.engine.last_ts()

    def invalidated_since(self, reads: Sequence[ReadRange], ts: int) -> bool:
        """Whether a commit after `ts` wrote into `reads` (or those commits are no longer
        known, so one may have)."""
        return not self.engine.is_valid(ts, reads)

    def index_keys(self, write: Write, index: str) -> list[bytes]:
        """The keys in `index` of the document `write` changed, before and after: a read of
        that index saw the change if a key is in its range."""
        fields = self.engine.catalog.fields[write.table].get(index, ())
        return [index_key(d, index, fields) for d in (write.old, write.new) if d is not None]


Backend = Deployment.open
"""`Deployment.open` by the name tests and scripts have long used: `Backend(app, engine)`
opens a deployment. The server, the command line and `ConfectTest` call `Deployment.open`."""
