"""A deployment's background work: scheduled functions and crons, run when due; the jobs of
server processes that stopped; old session request records.

Jobs are documents of `_scheduled_functions` (see `confect.services.scheduler`), crons of
`_cron_jobs`. A mutation job moves to `success` in its own transaction, so it runs exactly
once: if the server stops first, it never committed and is still pending. An action job is
claimed first (`inProgress`, naming the process that runs it), as actions run at most once:
one whose process stopped while it ran is marked failed (`recover`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import effects
from confect.engine.interface import BY_CREATION_TIME, Document
from confect.model.documents import user_fields
from confect.model.errors import FunctionNotFoundError
from confect.model.schema import CRONS_TABLE, SCHEDULED_TABLE
from confect.model.values import AFTER_PREFIX, Value, encode_value, prefix_range
from confect.runtime import session_requests
from confect.runtime.call_log import recorded
from confect.runtime.transaction import Transaction
from confect.services.scheduler import JobState, is_pending, job_fields
from effects import Cause, Effect

if TYPE_CHECKING:
    from confect.runtime.execution import Executor

PRUNE_CHUNK = 1000  # session request records deleted per transaction


class Jobs:
    """Runs the jobs and crons of one deployment, through `executor` (with its services)."""

    __slots__ = ("_executor",)

    def __init__(self, executor: Executor) -> None:
        self._executor = executor

    # --- recovery and crons --------------------------------------------------------------------

    def recover(self) -> int:
        """After a restart: an action job that was running is marked failed (actions run at
        most once) unless another live server process runs it; a mutation job never
        committed, so it is still pending and runs again. Returns how many were marked failed."""
        engine = self._executor.deployment.engine
        lo, hi = prefix_range(JobState.IN_PROGRESS.value)
        running = [
            job
            for _, job in engine.scan(SCHEDULED_TABLE, "by_state", lo, hi, False)
            if not engine.is_running(str(job.get("runBy", "")))
        ]
        for job in running:
            self._finish(
                str(job["_id"]), JobState.FAILED, "interrupted: the server stopped while it ran"
            )
        return len(running)

    def sync_crons(self) -> None:
        """Make `_cron_jobs` match the app's crons (new ones get their first run time)."""
        deployment = self._executor.deployment
        wanted = deployment.app.crons.jobs

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
                        "nextRun": job.next_after(deployment.now_ms()),
                    }
                    tx.insert(CRONS_TABLE, fields)

        self._executor.in_own_transaction(sync)

    def enqueue_due_crons(self) -> int:
        """Schedule a run of every cron that is due, advancing its next run in the same
        transaction (so a restart never runs one twice). Returns how many were due."""
        executor = self._executor
        now = executor.deployment.now_ms()

        def enqueue(tx: Transaction) -> int:
            due = 0
            for cron in list(tx.scan(CRONS_TABLE, BY_CREATION_TIME, *prefix_range())):
                job = executor.deployment.app.crons.jobs.get(str(cron["name"]))
                if job is None or float(cast(float, cron["nextRun"])) > now:
                    continue
                due += 1
                path, args = executor.resolve_for_scheduling(job.function, job.args)
                tx.insert(SCHEDULED_TABLE, job_fields(path, args, now))
                tx.replace(CRONS_TABLE, cron, {**user_fields(cron), "nextRun": job.next_after(now)})
            return due

        return executor.in_own_transaction(enqueue)

    # --- running jobs --------------------------------------------------------------------------

    def next_wake_ms(self) -> float | None:
        """When the next job or cron is due, if any."""
        engine = self._executor.deployment.engine
        times = [cast(float, j["scheduledTime"]) for j in self.pending_jobs()[:1]]
        times += [cast(float, c["nextRun"]) for c in engine.documents(CRONS_TABLE)]
        return min(times, default=None)

    def tick(self) -> Effect[int]:
        """Enqueue due crons and run due jobs; succeed with how many jobs ran."""
        return effects.suspend(
            lambda: effects.sync(self.enqueue_due_crons).then(self.run_due_jobs())
        )

    def pending_jobs(self, due_by_ms: float | None = None) -> list[Document]:
        """Pending jobs in time order (only those due by `due_by_ms`, if given)."""
        engine = self._executor.deployment.engine
        lo, hi = prefix_range(JobState.PENDING.value)
        if due_by_ms is not None:
            hi = lo + encode_value(due_by_ms) + AFTER_PREFIX
        return [document for _, document in engine.scan(SCHEDULED_TABLE, "by_state", lo, hi, False)]

    def run_due_jobs(self) -> Effect[int]:
        """Run every job due now, oldest first; succeed with how many ran."""

        def start() -> Effect[int]:
            jobs = self.pending_jobs(self._executor.deployment.now_ms())
            # each job's effect is built when its turn comes: building one starts its work
            ran = effects.for_each(jobs, lambda job: effects.suspend(lambda: self.run(job)))
            return ran.map(len)

        return effects.suspend(start)

    def run(self, job: Document) -> Effect[None]:
        """Run a pending job, unless another server process has taken it meanwhile; it ends
        `success` or `failed` (with the error's message)."""
        job_id = str(job["_id"])
        executor = self._executor
        try:
            function = executor.deployment.app.function(str(job["name"]))
        except FunctionNotFoundError as error:  # the app changed and the function is gone
            message = f"no function {error.path} in the app"
            return effects.sync(lambda: self._finish(job_id, JobState.FAILED, message))
        args = job["args"]
        assert isinstance(args, list) and isinstance(args[0], dict)
        if function.kind == "mutation":
            claimed = [False]  # by the last run of its transaction

            def claim(tx: Transaction) -> bool:
                claimed[0] = self._claim(tx, job_id, JobState.SUCCESS)
                return claimed[0]

            call = executor.mutation(function, args[0], claim=claim)
            body: Effect[Any, Any] = self._recorded(function.kind, job, call, lambda: claimed[0])
        else:
            if not executor.in_own_transaction(
                lambda tx: self._claim(tx, job_id, JobState.IN_PROGRESS)
            ):
                return effects.succeed(None)  # another server process took it
            body = self._recorded(function.kind, job, executor.action(function, args[0]))
            body = body.flat_map(
                lambda _: effects.sync(lambda: self._finish(job_id, JobState.SUCCESS))
            )
        return body.catch_all_cause(
            lambda cause: effects.sync(
                lambda: self._finish(job_id, JobState.FAILED, _message(cause))
            )
        ).as_(None)

    def _recorded(
        self,
        kind: str,
        job: Document,
        call: Effect[Any, Any],
        ran: Callable[[], bool] = lambda: True,
    ) -> Effect[Any, Any]:
        calls = self._executor.deployment.call_log
        return recorded(calls, kind, str(job["name"]), "scheduled", call, ran)

    def _claim(self, tx: Transaction, job_id: str, state: JobState) -> bool:
        """Move a pending job to `state` (done, in a mutation job's own transaction; or
        running, for an action), unless someone else already took it."""
        job = tx.get(SCHEDULED_TABLE, job_id)
        if job is None or not is_pending(job):
            return False
        self._set_state(tx, job_id, state)
        return True

    def _finish(self, job_id: str, state: JobState, error: str | None = None) -> None:
        self._executor.in_own_transaction(lambda tx: self._set_state(tx, job_id, state, error))

    def _set_state(
        self, tx: Transaction, job_id: str, state: JobState, error: str | None = None
    ) -> None:
        job = tx.get(SCHEDULED_TABLE, job_id)
        if job is None:
            return
        deployment = self._executor.deployment
        fields = user_fields(job)
        fields["state"] = state.field(error)
        if state is JobState.IN_PROGRESS and deployment.engine.process_id:
            fields["runBy"] = deployment.engine.process_id
        if state.finished:
            fields["completedTime"] = deployment.now_ms()
        tx.replace(SCHEDULED_TABLE, job, fields)

    # --- session requests ----------------------------------------------------------------------

    def prune_session_requests(self, keep_seconds: float, limit: int = PRUNE_CHUNK) -> int:
        """Delete up to `limit` of the session request records made more than
        `keep_seconds` ago (by the deployment's clock), oldest first; return how many."""
        before = self._executor.deployment.now_ms() - keep_seconds * 1000
        return self._executor.in_own_transaction(
            lambda tx: session_requests.prune(tx, before, limit)
        )


def _message(cause: Cause[Any]) -> str:
    failures = cause.failures()
    if failures:
        return str(failures[0])
    return str(cause.squash())
