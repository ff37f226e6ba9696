"""Scheduler: run a function later. Jobs are documents of `_scheduled_functions`."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar, overload

import effects
from confect.app.functions import ActionDefinition, MutationDefinition, call_args
from confect.model.documents import user_fields
from confect.model.ids import Id, table_number_of
from confect.model.schema import SCHEDULED_TABLE
from confect.model.values import Value
from confect.runtime.transaction import Transaction
from confect.services.in_transaction import InTransaction
from effects import Effect, Tag


class JobState(enum.StrEnum):
    """Where a job is, as its document's `state.kind` holds it (Convex's names)."""

    PENDING = "pending"
    IN_PROGRESS = "inProgress"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def finished(self) -> bool:
        """Whether the job is over (it gets a `completedTime`)."""
        return self in (JobState.SUCCESS, JobState.FAILED, JobState.CANCELED)

    def field(self, error: str | None = None) -> dict[str, Value]:
        """The job document's `state` field for this state (with `error`, if given)."""
        if error is None:
            return {"kind": self.value}
        return {"kind": self.value, "error": error}


def is_pending(job: Mapping[str, Any]) -> bool:
    """Whether the job document has not started (nor been canceled)."""
    return job["state"] == JobState.PENDING.field()


def job_fields(path: str, args: dict[str, Value], at_ms: float) -> dict[str, Value]:
    """A new job's document: run the function at `path` with `args` at `at_ms`."""
    return {
        "name": path,
        "args": [args],
        "scheduledTime": at_ms,
        "state": JobState.PENDING.field(),
    }


A = TypeVar("A")
E = TypeVar("E")
P = ParamSpec("P")

Schedulable = MutationDefinition[P, A, E] | ActionDefinition[P, A, E]
"""What may be scheduled: a mutation or an action (as in Convex)."""

Resolve = Callable[[Any, Mapping[str, Any]], tuple[str, dict[str, Any]]]
"""(function ref, args) -> (path, encoded args); raises if the function is not in the app."""


class SchedulerService:
    """What `yield from Scheduler` gives: `run_after`, `run_at`, `cancel`."""

    __slots__ = ("_now_ms", "_resolve", "_run")

    def __init__(self, run: InTransaction, resolve: Resolve, now_ms: Callable[[], float]) -> None:
        self._run = run
        self._resolve = resolve
        self._now_ms = now_ms

    @overload
    def run_after(
        self, seconds: float, fn: Schedulable[P, A, E], /, *args: P.args, **kwargs: P.kwargs
    ) -> Effect[Id[Any]]: ...
    @overload
    def run_after(
        self,
        seconds: float,
        fn: Schedulable[..., Any, Any] | str,
        args: Mapping[str, Any] | None,
        /,
    ) -> Effect[Id[Any]]: ...
    def run_after(self, seconds: float, fn: Any, /, *args: Any, **kwargs: Any) -> Effect[Id[Any]]:
        """Run `fn` with these arguments (keywords, or one dict) `seconds` from now; succeed
        with the job's id."""
        arguments = call_args(args, kwargs)
        return effects.suspend(
            lambda: self._schedule(self._now_ms() + max(seconds, 0) * 1000, fn, arguments)
        )

    @overload
    def run_at(
        self,
        when: dt.datetime | float,
        fn: Schedulable[P, A, E],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> Effect[Id[Any]]: ...
    @overload
    def run_at(
        self,
        when: dt.datetime | float,
        fn: Schedulable[..., Any, Any] | str,
        args: Mapping[str, Any] | None,
        /,
    ) -> Effect[Id[Any]]: ...
    def run_at(
        self, when: dt.datetime | float, fn: Any, /, *args: Any, **kwargs: Any
    ) -> Effect[Id[Any]]:
        """Run `fn` with these arguments (keywords, or one dict) at `when` (a datetime, or
        ms since the epoch)."""
        at = when.timestamp() * 1000 if isinstance(when, dt.datetime) else float(when)
        arguments = call_args(args, kwargs)
        return effects.suspend(lambda: self._schedule(at, fn, arguments))

    def cancel(self, job_id: str) -> Effect[None]:
        """Cancel a job that has not started; a started or finished job is left as it is."""

        def run(tx: Transaction) -> None:
            if table_number_of(job_id) != tx.numbers[SCHEDULED_TABLE]:
                return
            job = tx.get(SCHEDULED_TABLE, job_id)
            if job is not None and is_pending(job):
                fields: dict[str, Value] = {**user_fields(job), "state": JobState.CANCELED.field()}
                tx.replace(SCHEDULED_TABLE, job, fields)

        return effects.sync(lambda: self._run(run))

    def _schedule(self, at_ms: float, fn: Any, args: Mapping[str, Any]) -> Effect[Id[Any]]:
        path, encoded = self._resolve(fn, args)

        def run(tx: Transaction) -> Id[Any]:
            tx.count_scheduled()
            return Id(tx.insert(SCHEDULED_TABLE, job_fields(path, encoded, at_ms)))

        return effects.succeed(self._run(run))


class Scheduler(Tag["Scheduler", SchedulerService]):
    """Scheduling functions: in mutations, actions and http actions."""
