"""The dashboard's scheduled functions (newest first, by state) and crons (with their next
run); canceling a pending job, as `Scheduler.cancel` does, in a mutation's commit (so the
scheduler hears of it)."""

from __future__ import annotations

from typing import Any, cast

import effects
from confect.app.crons import CronJob
from confect.model.ids import table_number_of
from confect.model.schema import CRONS_TABLE, SCHEDULED_TABLE
from confect.model.values import to_wire
from confect.runtime.deployment import Deployment
from confect.server.calls import ErrorCode, RequestError
from confect.server.dashboard.data import documents
from confect.server.dashboard.messages import (
    CancelRequest,
    CronInfo,
    CronsResponse,
    DocumentsRequest,
    Done,
    JobInfo,
    JobsPage,
    JobsRequest,
)
from confect.services.scheduler import JobState, Scheduler, is_pending


def jobs(deployment: Deployment, request: JobsRequest) -> JobsPage:
    """A page of scheduled functions, newest first (in one state, if asked)."""
    if request.state is None:
        query = DocumentsRequest(SCHEDULED_TABLE, cursor=request.cursor, limit=request.limit)
    else:
        states = [state.value for state in JobState]
        if request.state not in states:
            raise RequestError(ErrorCode.BAD_REQUEST, f"state must be one of {states}")
        query = DocumentsRequest(
            SCHEDULED_TABLE,
            "by_state",
            eq=[request.state],
            cursor=request.cursor,
            limit=request.limit,
        )
    page = documents(deployment, query)
    return JobsPage([_job(job) for job in page.documents], page.cursor)


def _job(job: dict[str, Any]) -> JobInfo:
    state = cast(dict[str, Any], job["state"])
    args = cast(list[Any], job["args"])
    return JobInfo(
        id=str(job["_id"]),
        name=str(job["name"]),
        args=args[0] if args else {},
        scheduled_time=float(job["scheduledTime"]),
        completed_time=job.get("completedTime"),
        state=str(state["kind"]),
        error=state.get("error"),
    )


async def cancel(deployment: Deployment, request: CancelRequest) -> Done:
    """Cancel a pending job; a `RequestError` if there is no such job or it has started."""
    job = None
    if table_number_of(request.id) == deployment.numbers[SCHEDULED_TABLE]:
        job = deployment.engine.get(SCHEDULED_TABLE, request.id)
    if job is None:
        raise RequestError(ErrorCode.NOT_FOUND, f"no scheduled function {request.id!r}")
    if not is_pending(job):
        state = cast(dict[str, Any], job["state"])["kind"]
        raise RequestError(ErrorCode.BAD_REQUEST, f"the job is {state}, not pending")
    await effects.run(
        deployment.transact(lambda: Scheduler.flat_map(lambda s: s.cancel(request.id)))
    )
    return Done(1)


def crons(deployment: Deployment) -> CronsResponse:
    """The app's crons, with their next run (ms since the epoch)."""
    stored = {str(c["name"]): c for c in deployment.engine.documents(CRONS_TABLE)}
    listed: list[CronInfo] = []
    for name, job in sorted(deployment.app.crons.jobs.items()):
        path, args = deployment.resolve_for_scheduling(job.function, job.args)
        document = stored.get(name)
        next_run = float(cast(float, document["nextRun"])) if document else 0.0
        listed.append(CronInfo(name, _schedule(job), path, to_wire(args), next_run))
    return CronsResponse(listed)


def _schedule(job: CronJob) -> str:
    """When `job` runs, as a person reads it: `every 300 s`, or its cron string as written."""
    if job.interval_ms is not None:
        return f"every {job.interval_ms / 1000:g} s"
    assert job.spec is not None
    return f"cron {job.spec.expression} (UTC)"
