"""The record of a deployment's calls: each query, mutation, action, http action and
scheduled job (crons run as scheduled jobs) that ran, with its outcome and log lines.

A `CallLog` keeps the most recent calls in memory (for a dashboard) and writes each to the
"confect.calls" logger at INFO, which `confect dev` (and `confect serve --log-calls`)
prints: one line for the call, its log lines indented under it.
"""

from __future__ import annotations

import collections
import logging
import os
import sysconfig
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import attrs

import effects
from confect.runtime import logs
from confect.runtime.logs import LogLine
from effects import Cause, Effect, Exit
from effects.exit import Failure

A = TypeVar("A")
E = TypeVar("E")

Origin = Literal["client", "http", "scheduled"]
"""Who made a call: a client (sync or HTTP API), an HTTP route, the scheduler (a job or a
cron's run)."""

log = logging.getLogger("confect.calls")

KEEP_CALLS = 1000
CALL_ATTRIBUTE = "confect_call"
"""The attribute of a "confect.calls" log record that holds its `CallRecord`."""


@attrs.define
class CallRecord:
    """One call that ran: when it began (seconds since the epoch), its function's kind and
    path, how long it took, whether it succeeded (else its error's message and, for a
    defect, the line of the app's code that raised it) and its log lines.

    Not frozen: one is made for every call (a cache hit too), and a frozen class costs
    about four times as much to build; nothing changes a record once made."""

    started: float
    kind: str
    path: str
    duration_ms: float
    success: bool
    origin: Origin = "client"
    error: str = ""
    where: str = ""
    log_lines: Sequence[LogLine] = ()
    cached: bool = False

    def event(self) -> dict[str, object]:
        """The call as one JSON object for machines (`--log-format json`), named as
        Convex's log streams name a `function_execution` event (times in ms since the
        epoch), with `origin`, `where` (for a defect, the app's code line) and its
        `log_lines` as Convex's `console` events (`message`: the wire text after the level)."""
        return {
            "timestamp": round(self.started * 1000),
            "topic": "function_execution",
            "function": {"type": self.kind, "path": self.path, "cached": self.cached},
            "origin": self.origin,
            "execution_time_ms": round(self.duration_ms, 3),
            "status": "success" if self.success else "failure",
            "error_message": self.error or None,
            "where": self.where or None,
            "log_lines": [
                {
                    "timestamp": round(line.timestamp * 1000),
                    "log_level": str(line.level),
                    "message": line.message(),
                    "is_truncated": line.truncated,
                }
                for line in self.log_lines
            ],
        }

    def __str__(self) -> str:
        return "\n".join(self.describe())

    def describe(self) -> list[str]:
        """The call as `confect dev` prints it: a line for the call, then its log lines."""
        outcome = "ok (cached)" if self.cached else "ok" if self.success else "failed"
        origin = " (scheduled)" if self.origin == "scheduled" else ""
        head = f"{_clock(self.started)} {self.kind}{origin} {self.path} {outcome}"
        if not self.cached:
            head += f" {self.duration_ms:.1f} ms"
        if not self.success:
            head += f": {self.error}"
        lines = [head]
        if self.where:
            lines.append(f"    at {self.where}")
        lines += [f"  {_clock(line.timestamp)} {line.wire()}" for line in self.log_lines]
        return lines


def _clock(timestamp: float) -> str:
    """`timestamp` as a local time of day to the millisecond."""
    seconds = time.strftime("%H:%M:%S", time.localtime(timestamp))
    return f"{seconds}.{int(timestamp * 1000) % 1000:03d}"


class CallLog:
    """The most recent `keep` calls of a deployment, oldest first; each also written to
    the "confect.calls" logger (when it is enabled for INFO) and told to the listeners
    (the dashboard's live channels)."""

    __slots__ = ("_listeners", "_records")

    def __init__(self, keep: int = KEEP_CALLS) -> None:
        self._records: collections.deque[CallRecord] = collections.deque(maxlen=keep)
        self._listeners: list[Callable[[CallRecord], None]] = []

    def add(self, record: CallRecord) -> None:
        """Keep `record` (forgetting the oldest past the limit), log it, tell the
        listeners (on the thread that ran the call)."""
        self._records.append(record)
        for listener in self._listeners:
            listener(record)
        if log.isEnabledFor(logging.INFO):  # rendered by the handler: text, or `event()`
            log.info("%s", record, extra={CALL_ATTRIBUTE: record})

    def listen(self, listener: Callable[[CallRecord], None]) -> Callable[[], None]:
        """Have `listener` told of each call added from now; returns how to stop."""
        # a new list each time: `add`, on any thread, iterates the one it read
        self._listeners = [*self._listeners, listener]

        def stop() -> None:
            self._listeners = [other for other in self._listeners if other is not listener]

        return stop

    def recent(self, limit: int | None = None) -> list[CallRecord]:
        """The kept calls, oldest first (only the last `limit`, if given)."""
        records = list(self._records)
        if limit is None:
            return records
        return records[-limit:] if limit > 0 else []


def failure(cause: Cause[Any]) -> tuple[str, str]:
    """A failed call's error message, and for a defect where it was raised in the app's
    code (see `app_frame`; "" for a typed failure or an interruption)."""
    failures = cause.failures()
    if failures:
        error = failures[0]
        return f"Uncaught {type(error).__name__}: {error}", ""
    defects = cause.defects()
    if not defects:
        return "The function was interrupted", ""
    defect = defects[0]
    return f"Uncaught {type(defect).__name__}: {defect}", app_frame(defect)


_NOT_APP = tuple(
    str(Path(directory)) + os.sep
    for directory in (
        Path(__file__).parent.parent,  # confect
        Path(effects.__file__).parent,
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
    )
)


def app_frame(error: BaseException) -> str:
    """Where `error` was raised in the app's own code: the innermost frame of its traceback
    outside confect, effects and installed libraries, as `file:line in function: code`
    ("" if there is none)."""
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        if not frame.filename.startswith(_NOT_APP):
            name = _relative(frame.filename)
            code = f": {frame.line}" if frame.line else ""
            return f"{name}:{frame.lineno} in {frame.name}{code}"
    return ""


def _relative(filename: str) -> str:
    try:
        return str(Path(filename).relative_to(Path.cwd()))
    except ValueError:
        return filename


def recorded(
    calls: CallLog,
    kind: str,
    path: str,
    origin: Origin,
    effect: Effect[A, E],
    ran: Callable[[], bool] = lambda: True,
) -> Effect[A, E]:
    """`effect` (a call of the function at `path`), its log lines collected and the call
    added to `calls` when it ends (unless `ran()` then says it was called off)."""

    def start() -> Effect[A, E]:
        started, clock = time.time(), time.perf_counter()
        collector, previous = logs.begin()

        def done(exit_: Exit[A, E]) -> None:
            lines = logs.end(collector, previous)
            if not ran():
                return
            took = (time.perf_counter() - clock) * 1000
            error, where = failure(exit_.cause) if isinstance(exit_, Failure) else ("", "")
            calls.add(CallRecord(started, kind, path, took, not error, origin, error, where, lines))

        return effect.on_exit(lambda exit_: effects.sync(lambda: done(exit_)))

    return effects.suspend(start)
