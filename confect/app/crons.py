"""Cron jobs: recurring scheduled functions, defined in the app's `crons` module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs
from croniter import CroniterError, croniter

from confect.model.errors import SchemaError

_UTC = dt.UTC
_FIELDS = 5  # minute hour day-of-month month day-of-week, as Convex's cron strings


@attrs.frozen
class CronSpec:
    """A five-field cron expression (minute hour day-of-month month day-of-week), read as
    cron reads it, in UTC: names of months and days, ranges and steps, and a day that
    matches when either the day of the month or the day of the week does if both are
    restricted. `croniter` evaluates it; Convex's backend evaluates its cron strings the
    same way (in UTC)."""

    expression: str

    @staticmethod
    def parse(expression: str) -> CronSpec:
        """The spec of `expression`; `SchemaError` if it is not one, or never matches."""
        fields = len(expression.split())
        if fields != _FIELDS:
            raise SchemaError(message=f"cron {expression!r}: expected 5 fields, got {fields}")
        spec = CronSpec(expression)
        try:
            spec.next_after(0)
        except CroniterError as error:  # a bad field, or a date that never comes (Feb 30)
            raise SchemaError(
                message=f"cron {expression!r} is not a valid cron expression: {error}"
            ) from None
        return spec

    def next_after(self, after_ms: float) -> float:
        """The first matching minute strictly after `after_ms` (ms since the epoch)."""
        after = dt.datetime.fromtimestamp(after_ms / 1000, _UTC)
        return float(croniter(self.expression, after).get_next(float)) * 1000


@attrs.frozen
class CronJob:
    """One registered job: `name`, its function, args, and when it runs."""

    name: str
    function: Any
    args: Mapping[str, Any]
    interval_ms: float | None = None
    spec: CronSpec | None = None

    def describe(self) -> str:
        """The schedule in words that change when the definition does."""
        when = f"every {self.interval_ms} ms" if self.interval_ms is not None else repr(self.spec)
        return f"{when} {getattr(self.function, 'path', self.function)} {sorted(self.args.items())}"

    def next_after(self, after_ms: float) -> float:
        """When the job runs next, after `after_ms`."""
        if self.interval_ms is not None:
            return after_ms + self.interval_ms
        assert self.spec is not None
        return self.spec.next_after(after_ms)


class Crons:
    """`crons = Crons()`, then `crons.interval(...)`, `crons.cron(...)`, `crons.daily(...)`, ..."""

    def __init__(self) -> None:
        self.jobs: dict[str, CronJob] = {}

    def interval(
        self,
        name: str,
        fn: Any,
        args: Mapping[str, Any] | None = None,
        *,
        seconds: float = 0,
        minutes: float = 0,
        hours: float = 0,
    ) -> None:
        """Run every so often (the first run one interval after the deployment starts)."""
        total = seconds + minutes * 60 + hours * 3600
        if total <= 0:
            raise SchemaError(message=f"cron {name!r}: the interval must be positive")
        self._add(CronJob(name, fn, dict(args or {}), interval_ms=total * 1000))

    def cron(
        self, name: str, expression: str, fn: Any, args: Mapping[str, Any] | None = None
    ) -> None:
        """Run on a cron schedule (`"*/5 * * * *"`), in UTC."""
        self._add(CronJob(name, fn, dict(args or {}), spec=CronSpec.parse(expression)))

    def hourly(
        self, name: str, fn: Any, args: Mapping[str, Any] | None = None, *, minute_utc: int = 0
    ) -> None:
        self.cron(name, f"{minute_utc} * * * *", fn, args)

    def daily(
        self,
        name: str,
        fn: Any,
        args: Mapping[str, Any] | None = None,
        *,
        hour_utc: int = 0,
        minute_utc: int = 0,
    ) -> None:
        self.cron(name, f"{minute_utc} {hour_utc} * * *", fn, args)

    def weekly(
        self,
        name: str,
        fn: Any,
        args: Mapping[str, Any] | None = None,
        *,
        day_of_week: int = 0,
        hour_utc: int = 0,
        minute_utc: int = 0,
    ) -> None:
        """`day_of_week`: 0 is Sunday."""
        self.cron(name, f"{minute_utc} {hour_utc} * * {day_of_week}", fn, args)

    def monthly(
        self,
        name: str,
        fn: Any,
        args: Mapping[str, Any] | None = None,
        *,
        day: int = 1,
        hour_utc: int = 0,
        minute_utc: int = 0,
    ) -> None:
        self.cron(name, f"{minute_utc} {hour_utc} {day} * *", fn, args)

    def _add(self, job: CronJob) -> None:
        if job.name in self.jobs:
            raise SchemaError(message=f"two cron jobs are named {job.name!r}")
        self.jobs[job.name] = job
