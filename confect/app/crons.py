"""Cron jobs: recurring scheduled functions, defined in the app's `crons` module."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs

from confect.model.errors import SchemaError

_UTC = dt.UTC


@attrs.frozen
class CronSpec:
    """A parsed five-field cron expression (minute hour day-of-month month day-of-week), UTC."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday

    @staticmethod
    def parse(expression: str) -> CronSpec:
        parts = expression.split()
        if len(parts) != 5:
            raise SchemaError(message=f"cron {expression!r}: expected 5 fields, got {len(parts)}")
        ranges = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
        sets = [
            _field(part, lo, hi, expression) for part, (lo, hi) in zip(parts, ranges, strict=True)
        ]
        return CronSpec(*sets)

    def next_after(self, after_ms: float) -> float:
        """The first matching minute strictly after `after_ms` (ms since the epoch)."""
        moment = dt.datetime.fromtimestamp(after_ms / 1000, _UTC).replace(second=0, microsecond=0)
        moment += dt.timedelta(minutes=1)
        for _ in range(366 * 24 * 60 * 5):
            if (
                moment.month in self.months
                and moment.day in self.days
                and (moment.weekday() + 1) % 7 in self.weekdays
                and moment.hour in self.hours
                and moment.minute in self.minutes
            ):
                return moment.timestamp() * 1000
            moment += (
                dt.timedelta(minutes=1)
                if moment.hour in self.hours
                else dt.timedelta(minutes=60 - moment.minute)
            )
        raise SchemaError(message="cron expression never matches")


def _field(part: str, lo: int, hi: int, expression: str) -> frozenset[int]:
    values: set[int] = set()
    for item in part.split(","):
        body, _, step_text = item.partition("/")
        step = int(step_text) if step_text.isdigit() else 1
        if (step_text and not step_text.isdigit()) or step < 1:
            raise SchemaError(message=f"cron {expression!r}: bad step in {item!r}")
        if body == "*":
            start, end = lo, hi
        elif "-" in body:
            a, _, b = body.partition("-")
            start, end = _number(a, expression), _number(b, expression)
        else:
            start = _number(body, expression)
            end = hi if step_text else start
        if not lo <= start <= end <= hi:
            raise SchemaError(message=f"cron {expression!r}: {item!r} is outside {lo}-{hi}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _number(text: str, expression: str) -> int:
    if not text.isdigit():
        raise SchemaError(message=f"cron {expression!r}: {text!r} is not a number")
    return int(text)


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
