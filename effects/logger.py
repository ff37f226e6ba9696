"""Logging (Effect's `Effect.log`, `Logger`, `LogLevel`, `annotateLogs`, `withLogSpan`).

`log(...)` and `log_debug(...)` .. `log_fatal(...)` are effects that hand a `LogEntry` to
the `Logger` service in force, if its level is at least the `MinimumLogLevel` in force
(INFO where none is set). The default logger writes to Python's `logging` (logger
"effects"), so handlers, formatters and pytest's `caplog` see every entry; swap it with
`Logger.replace(other)` (a layer) or `.provide_service(Logger, other)`.

An entry carries the annotations (`annotate_logs`) and log spans (`with_log_span`) of the
fiber that logged it, which a forked fiber inherits, and its time from the `Clock` in
force, so a `TestClock` controls both the timestamps and the spans' durations.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast, overload

from effects._internal.core import UNIT, Effect
from effects._internal.primitives import add_services, with_fiber
from effects.cause import Cause
from effects.clock import Clock
from effects.context import Reference
from effects.fiber_ref import FiberRef
from effects.layer import Layer
from effects.tracing import Span, span_of

if TYPE_CHECKING:
    from effects._internal.fiber import FiberRuntime

A = TypeVar("A")
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
E = TypeVar("E")
R = TypeVar("R")


class LogLevel(IntEnum):
    """How severe an entry is (Effect's `LogLevel`). The values are those of Python's
    `logging` levels (TRACE is 5), so a level can be passed where `logging` wants one."""

    ALL = 0
    TRACE = 5
    DEBUG = logging.DEBUG
    INFO = logging.INFO
    WARNING = logging.WARNING
    ERROR = logging.ERROR
    FATAL = logging.CRITICAL
    NONE = 2**31 - 1


class MinimumLogLevel(Reference["MinimumLogLevel", LogLevel], default=LogLevel.INFO):
    """The least level logged (Effect's `currentMinimumLogLevel`): INFO unless set with
    `with_minimum_log_level` or the layer `minimum_log_level`."""


@dataclass(frozen=True, slots=True)
class LogSpan:
    """A region of a fiber's work that entries logged in it report the duration of
    (Effect's `LogSpan`): `start` is the `Clock` time it began at."""

    label: str
    start: float


@dataclass(frozen=True, slots=True)
class LogEntry:
    """What a logger receives (Effect's `Logger.Options`): the logged values, the cause
    logged with them (if any), the fiber, its annotations and log spans (outermost first),
    the `Clock` time, and the tracing span it was logged in (if any)."""

    level: LogLevel
    message: tuple[object, ...]
    fiber_id: int
    timestamp: float
    annotations: Mapping[str, object] = field(default_factory=dict[str, object])
    spans: tuple[LogSpan, ...] = ()
    cause: Cause[Any] | None = None
    span: Span | None = None

    @property
    def text(self) -> str:
        """The message as text: the values joined by spaces, or the cause's report when
        only a cause was logged."""
        if not self.message and self.cause is not None:
            return self.cause.pretty()
        return " ".join(str(value) for value in self.message)

    def span_durations(self) -> dict[str, int]:
        """Each log span's label and the milliseconds from its start to this entry, as
        Effect shows them (`label=12ms`)."""
        return {span.label: round((self.timestamp - span.start) * 1000) for span in self.spans}


class LoggerService(Protocol):
    """What a logger offers: `log(entry)`, called in the fiber that logs."""

    def log(self, entry: LogEntry) -> None: ...


class StdlibLogger:
    """A logger writing to Python's `logging` (the default: logger "effects").

    A record's level is the entry's, its message `entry.text`, its `created` time the
    entry's `Clock` time, and its `exc_info` the first exception in the logged cause.
    `extra` adds `effects_annotations` (a dict), `effects_spans` (label -> ms),
    `effects_fiber_id`, `effects_cause`, `effects_trace_id` and `effects_span_id` (in a
    traced span), and each annotation under its own key when that key is an identifier
    `logging.LogRecord` does not already use.
    """

    __slots__ = ("logger",)

    def __init__(self, name: str = "effects") -> None:
        self.logger = logging.getLogger(name)

    def log(self, entry: LogEntry) -> None:
        logger = self.logger
        level = int(entry.level)
        if not logger.isEnabledFor(level):
            return
        extra: dict[str, object] = {
            key: value for key, value in entry.annotations.items() if _is_safe_extra(key)
        }
        extra["effects_annotations"] = dict(entry.annotations)
        extra["effects_spans"] = entry.span_durations()
        extra["effects_fiber_id"] = entry.fiber_id
        extra["effects_cause"] = entry.cause
        if entry.span is not None:
            extra["effects_trace_id"] = entry.span.trace_id
            extra["effects_span_id"] = entry.span.span_id
        record = logger.makeRecord(
            logger.name,
            level,
            "(effects)",
            0,
            entry.text,
            (),
            _exc_info(entry.cause),
            None,
            extra,
        )
        record.created = entry.timestamp
        record.msecs = (entry.timestamp - int(entry.timestamp)) * 1000
        logger.handle(record)


class TestLogger:
    """A logger that keeps every entry, for tests: `entries`, and `messages()` their text."""

    __slots__ = ("entries",)
    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []

    def log(self, entry: LogEntry) -> None:
        self.entries.append(entry)

    def messages(self) -> list[str]:
        return [entry.text for entry in self.entries]


class Logger(Reference["Logger", LoggerService], default=StdlibLogger()):
    """The logger service key (Effect's `Logger`); where none is provided, entries go to
    Python's `logging` through `StdlibLogger`."""

    @staticmethod
    def replace(logger: LoggerService) -> Layer[Logger]:
        """A layer making `logger` the logger (Effect's `Logger.replace`)."""
        return Layer.succeed(Logger, logger)

    @staticmethod
    def make(log: Callable[[LogEntry], None]) -> LoggerService:
        """A logger from a function of the entry (Effect's `Logger.make`)."""
        return _FunctionLogger(log)


class _FunctionLogger:
    __slots__ = ("_log",)

    def __init__(self, log: Callable[[LogEntry], None]) -> None:
        self._log = log

    def log(self, entry: LogEntry) -> None:
        self._log(entry)


# --- the fiber's annotations and spans --------------------------------------------------------

ANNOTATIONS: FiberRef[Mapping[str, object]] = FiberRef({})
"""The log annotations of the fiber (Effect's `currentLogAnnotations`)."""

LOG_SPANS: FiberRef[tuple[LogSpan, ...]] = FiberRef(())
"""The log spans the fiber is in, outermost first (Effect's `currentLogSpan`)."""


@overload
def annotate_logs(key: str, value: object, /) -> Callable[[Effect[A, E, R]], Effect[A, E, R]]: ...
@overload
def annotate_logs(
    annotations: Mapping[str, object], /
) -> Callable[[Effect[A, E, R]], Effect[A, E, R]]: ...
def annotate_logs(
    key: str | Mapping[str, object], value: object = None, /
) -> Callable[[Effect[Any, Any, Any]], Effect[Any, Any, Any]]:
    """Run an effect with `key=value` (or each of a mapping's items) added to the
    annotations of the entries it logs, and its forked fibers log (Effect's
    `Effect.annotateLogs`): `eff.pipe(annotate_logs("user", user_id))`."""
    added: Mapping[str, object] = {key: value} if isinstance(key, str) else dict(key)
    return ANNOTATIONS.locally_with(lambda old: {**old, **added})


def with_log_span(label: str) -> Callable[[Effect[A, E, R]], Effect[A, E, R]]:
    """Run an effect in a log span: the entries logged in it show `label` and the
    milliseconds since it began (Effect's `Effect.withLogSpan`)."""

    def wrap(effect: Effect[A, E, R]) -> Effect[A, E, R]:
        def go(fiber: FiberRuntime[Any, Any]) -> Effect[A, E, R]:
            span = LogSpan(label, _clock_now(fiber))
            return LOG_SPANS.locally_with(lambda spans: (*spans, span), effect)

        return with_fiber(go)

    return wrap


def with_minimum_log_level(level: LogLevel) -> Callable[[Effect[A, E, R]], Effect[A, E, R]]:
    """Run an effect logging only entries of `level` or above (Effect's
    `Logger.withMinimumLogLevel`)."""
    services = {MinimumLogLevel: level}
    return lambda effect: add_services(effect, services)


def minimum_log_level(level: LogLevel) -> Layer[MinimumLogLevel]:
    """A layer making `level` the minimum level logged (Effect's
    `Logger.minimumLogLevel`)."""
    return Layer.succeed(MinimumLogLevel, level)


# --- logging ------------------------------------------------------------------------------------


def log_with_level(level: LogLevel, *message: object) -> Effect[None]:
    """Log `message` (any values; a `Cause` among them is logged as the entry's cause) at
    `level` (Effect's `Effect.logWithLevel`)."""
    return with_fiber(lambda fiber: _log(fiber, level, message))


def log(*message: object) -> Effect[None]:
    """Log at INFO (Effect's `Effect.log`)."""
    return log_with_level(LogLevel.INFO, *message)


def log_trace(*message: object) -> Effect[None]:
    """Log at TRACE (Effect's `Effect.logTrace`)."""
    return log_with_level(LogLevel.TRACE, *message)


def log_debug(*message: object) -> Effect[None]:
    """Log at DEBUG (Effect's `Effect.logDebug`)."""
    return log_with_level(LogLevel.DEBUG, *message)


def log_info(*message: object) -> Effect[None]:
    """Log at INFO (Effect's `Effect.logInfo`)."""
    return log_with_level(LogLevel.INFO, *message)


def log_warning(*message: object) -> Effect[None]:
    """Log at WARNING (Effect's `Effect.logWarning`)."""
    return log_with_level(LogLevel.WARNING, *message)


def log_error(*message: object) -> Effect[None]:
    """Log at ERROR (Effect's `Effect.logError`)."""
    return log_with_level(LogLevel.ERROR, *message)


def log_fatal(*message: object) -> Effect[None]:
    """Log at FATAL (Effect's `Effect.logFatal`)."""
    return log_with_level(LogLevel.FATAL, *message)


def _log(
    fiber: FiberRuntime[Any, Any], level: LogLevel, message: tuple[object, ...]
) -> Effect[None]:
    context = fiber.context
    if level < context.get(MinimumLogLevel, LogLevel.INFO):
        return UNIT
    cause: Cause[Any] | None = None
    values: list[object] = []
    for value in message:
        if isinstance(value, Cause):
            logged = cast("Cause[Any]", value)
            cause = logged if cause is None else Cause.sequential(cause, logged)
        else:
            values.append(value)
    refs = fiber.fiber_refs
    span = span_of(fiber)
    entry = LogEntry(
        level,
        tuple(values),
        fiber.id,
        _clock_now(fiber),
        ANNOTATIONS.initial if refs is None else refs.get(ANNOTATIONS, ANNOTATIONS.initial),
        LOG_SPANS.initial if refs is None else refs.get(LOG_SPANS, LOG_SPANS.initial),
        cause,
        span,
    )
    logger: LoggerService = context.get(Logger, Logger.default)
    logger.log(entry)
    if span is not None:  # as Effect's tracerLogger: the entry is an event of the span
        span.add_event(entry.text, entry.timestamp, _event_attributes(entry))
    return UNIT


def _event_attributes(entry: LogEntry) -> dict[str, object]:
    attributes: dict[str, object] = {
        **entry.annotations,
        "effect.fiberId": f"#{entry.fiber_id}",
        "effect.logLevel": entry.level.name,
    }
    if entry.cause is not None:
        attributes["effect.cause"] = entry.cause.pretty()
    return attributes


def _clock_now(fiber: FiberRuntime[Any, Any]) -> float:
    return fiber.context.get(Clock, Clock.default).now()


def _exc_info(cause: Cause[Any] | None) -> ExcInfo | None:
    if cause is None:
        return None
    for error in (*cause.defects(), *cause.failures()):
        if isinstance(error, BaseException):
            return (type(error), error, error.__traceback__)
    return None


_RESERVED = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def _is_safe_extra(key: str) -> bool:
    return key.isidentifier() and key not in _RESERVED and not key.startswith("effects_")


if logging.getLevelName(LogLevel.TRACE) == f"Level {int(LogLevel.TRACE)}":
    logging.addLevelName(LogLevel.TRACE, "TRACE")

__all__ = [
    "LogEntry",
    "LogLevel",
    "LogSpan",
    "Logger",
    "LoggerService",
    "MinimumLogLevel",
    "StdlibLogger",
    "TestLogger",
    "annotate_logs",
    "log",
    "log_debug",
    "log_error",
    "log_fatal",
    "log_info",
    "log_trace",
    "log_warning",
    "log_with_level",
    "minimum_log_level",
    "with_log_span",
    "with_minimum_log_level",
]
