"""Logging (Effect's `Effect.log`, `Logger`, `LogLevel`, `annotateLogs`, `withLogSpan`).

`log(...)` and `log_debug(...)` .. `log_fatal(...)` are effects that hand a `LogEntry` to
each logger in force (`CurrentLoggers`), if its level is at least the `MinimumLogLevel`
in force (INFO where none is set). The default logger writes to Python's `logging`
(logger "effects"), so handlers, formatters and pytest's `caplog` see every entry; the
layers `Logger.add(other)`, `Logger.remove(...)` and `Logger.replace(old, new)` change the
loggers in force, and `Logger.json`, `Logger.logfmt`, `Logger.structured`,
`Logger.pretty` print Effect's formats instead of the default (see `effects.log_format`).

An entry carries the annotations (`annotate_logs`) and log spans (`with_log_span`) of the
fiber that logged it, which a forked fiber inherits, and its time from the `Clock` in
force, so a `TestClock` controls both the timestamps and the spans' durations.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Never, Protocol, TextIO, TypeVar, cast, overload

from effects import log_format
from effects._internal.constructors import suspend
from effects._internal.core import UNIT, Effect
from effects._internal.primitives import add_services, with_fiber
from effects.cause import Cause
from effects.clock import Clock, sleep
from effects.concurrency import fork_in
from effects.context import Reference
from effects.fiber_ref import FiberRef
from effects.layer import Layer
from effects.scope import Scope, ScopeService
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

    @property
    def label(self) -> str:
        """The level's name as Effect writes it in logs: `WARN` for WARNING, `OFF` for
        NONE, else the name."""
        return _LABELS.get(self, self.name)


_LABELS = {LogLevel.WARNING: "WARN", LogLevel.NONE: "OFF"}


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
    """What a logger offers: `log(entry)`, called in the fiber that logs. What it returns
    is the logger's output (Effect's `Logger<Message, Output>`): the formats return their
    text, which `Logger.with_console_log` prints; a logger in force has its output
    ignored."""

    def log(self, entry: LogEntry, /) -> object: ...


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
    """A logger that keeps every entry, for tests: `entries`, and `messages()` their text.
    Put it in force with `Logger.replace(Logger.default_logger, test_logger)` (instead of
    the default) or `Logger.add(test_logger)` (besides it)."""

    __slots__ = ("entries",)
    __test__ = False  # not a pytest test class

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []

    def log(self, entry: LogEntry) -> None:
        self.entries.append(entry)

    def messages(self) -> list[str]:
        return [entry.text for entry in self.entries]


DEFAULT_LOGGER = StdlibLogger()
"""The logger in force where none was added or replaced (Effect's `defaultLogger`, which
writes to the console; this one writes to Python's `logging`)."""


class CurrentLoggers(
    Reference["CurrentLoggers", tuple[LoggerService, ...]], default=(DEFAULT_LOGGER,)
):
    """The loggers in force, each given every entry (Effect's `currentLoggers`): the
    default logger unless changed with the layers `Logger.add`, `Logger.remove`,
    `Logger.replace` (or the layers of the formats, `Logger.json` ...)."""


Out = TypeVar("Out", covariant=True)
Out2 = TypeVar("Out2")


class FunctionLogger(Generic[Out]):
    """A logger whose `log(entry)` is a function of the entry (see `Logger.make`)."""

    __slots__ = ("_log",)

    def __init__(self, log: Callable[[LogEntry], Out]) -> None:
        self._log = log

    def log(self, entry: LogEntry, /) -> Out:
        return self._log(entry)


class Logger:
    """Loggers and the layers that choose them (Effect's `Logger` module).

    Several loggers can be in force at once (`CurrentLoggers`): `add(logger)` adds one,
    `remove(logger)` takes one away, `replace(old, new)` swaps one for another. Each is a
    layer that changes the loggers in force where it is built (what `effect.provide(layer)`
    runs in), so to change them twice provide one layer after the other, or chain them
    with `provide_merge`: two of them in one `Layer.merge` each start from the same
    loggers, and only the later one's change is kept.

    The formats, `string_logger`, `logfmt_logger`, `json_logger`, `structured_logger`,
    return their text (or dict) and print nothing; `with_console_log(logger)` prints what
    a logger returns; the layers `Logger.logfmt`, `Logger.json`, `Logger.structured`,
    `Logger.pretty` replace the default logger with one printing that format to
    `sys.stdout` (as Effect's print with `console.log`).
    """

    default_logger: LoggerService = DEFAULT_LOGGER

    @staticmethod
    def make(log: Callable[[LogEntry], Out2]) -> FunctionLogger[Out2]:
        """A logger from a function of the entry (Effect's `Logger.make`)."""
        return FunctionLogger(log)

    @staticmethod
    def add(logger: LoggerService) -> Layer[Never]:
        """A layer adding `logger` to the loggers in force (Effect's `Logger.add`)."""
        return _change_loggers(lambda loggers: _with_logger(loggers, logger))

    @staticmethod
    def add_scoped(logger: Effect[LoggerService, E, R]) -> Layer[Never, E, Any]:
        """A layer adding the logger `logger` makes, in the layer's `Scope` (Effect's
        `Logger.addScoped`): `Logger.add_scoped(Logger.batched(...))` flushes its last
        batch when the layer's user ends."""

        def added(made: LoggerService) -> Effect[tuple[LoggerService, ...]]:
            return CurrentLoggers.map(lambda loggers: _with_logger(loggers, made))  # pyright: ignore[reportReturnType] - CurrentLoggers is a Reference: it needs no provider

        return Layer.scoped(CurrentLoggers, logger.flat_map(added))  # pyright: ignore[reportReturnType] - Layer[Never]: it only changes a Reference

    @staticmethod
    def batched(
        logger: FunctionLogger[Out2],
        window: float,
        flush: Callable[[list[Out2]], Effect[None, Never, R]],
    ) -> Effect[FunctionLogger[None], Never, R | Scope]:
        """A logger keeping what `logger` returns, and every `window` seconds (on the
        `Clock`) handing what it kept to `flush`, in a fiber of the current `Scope`;
        closing the scope flushes the rest (Effect's `Logger.batched`)."""

        def make(scope: ScopeService) -> Effect[FunctionLogger[None], Never, R]:
            kept: list[Out2] = []

            def drain() -> Effect[None, Never, R]:
                if not kept:
                    return UNIT
                batch = kept.copy()
                kept.clear()
                return flush(batch)

            every_window = sleep(window).then(suspend(drain)).forever()
            return (
                fork_in(every_window, scope)
                .then(scope.add_finalizer(lambda _: suspend(drain)))
                .as_(FunctionLogger(lambda entry: kept.append(logger.log(entry))))
            )

        return Scope.flat_map(make)

    @staticmethod
    def remove(logger: LoggerService) -> Layer[Never]:
        """A layer taking `logger` out of the loggers in force (Effect's `Logger.remove`):
        `Logger.remove(Logger.default_logger)` silences the default."""
        return _change_loggers(lambda loggers: tuple(one for one in loggers if one != logger))

    @staticmethod
    def replace(old: LoggerService, new: LoggerService) -> Layer[Never]:
        """A layer putting `new` in `old`'s place among the loggers in force (Effect's
        `Logger.replace`; `new` is added even when `old` was not there):
        `Logger.replace(Logger.default_logger, TestLogger())`."""

        def swap(loggers: tuple[LoggerService, ...]) -> tuple[LoggerService, ...]:
            kept = tuple(one for one in loggers if one != old and one != new)
            return (*kept, new)

        return _change_loggers(swap)

    @staticmethod
    def with_console_log(logger: LoggerService) -> FunctionLogger[None]:
        """A logger printing what `logger` returns to `sys.stdout` (Effect's
        `Logger.withConsoleLog`). The stream is looked up at each entry, so a handler's
        entries in a confect call become the call's log lines."""
        return FunctionLogger(lambda entry: _print(logger.log(entry), sys.stdout))

    @staticmethod
    def with_console_error(logger: LoggerService) -> FunctionLogger[None]:
        """A logger printing what `logger` returns to `sys.stderr` (Effect's
        `Logger.withConsoleError`)."""
        return FunctionLogger(lambda entry: _print(logger.log(entry), sys.stderr))

    @staticmethod
    def pretty_logger(*, colors: bool | None = None, stderr: bool = False) -> FunctionLogger[None]:
        """A logger printing entries for people (Effect's `Logger.prettyLogger`): a header
        line `[12:00:00.000] INFO (#1): message`, the rest indented under it; in colour when
        `colors` (by default: when the stream is a terminal); to stderr if `stderr`."""

        def log(entry: LogEntry) -> None:
            stream = sys.stderr if stderr else sys.stdout
            shown = colors if colors is not None else _is_terminal(stream)
            _print(log_format.pretty(entry, colors=shown), stream)

        return FunctionLogger(log)

    none: FunctionLogger[None] = FunctionLogger(lambda entry: None)
    """A logger that does nothing (Effect's `Logger.none`)."""

    string_logger: FunctionLogger[str] = FunctionLogger(log_format.string)
    """Returns Effect's `key=value` text of an entry (Effect's `Logger.stringLogger`)."""

    logfmt_logger: FunctionLogger[str] = FunctionLogger(log_format.logfmt)
    """Returns the entry in logfmt (Effect's `Logger.logfmtLogger`)."""

    structured_logger: FunctionLogger[dict[str, object]] = FunctionLogger(log_format.structured)
    """Returns the entry as a dict (Effect's `Logger.structuredLogger`)."""

    json_logger: FunctionLogger[str] = FunctionLogger(log_format.json_line)
    """Returns the entry as one line of JSON (Effect's `Logger.jsonLogger`)."""

    logfmt: Layer[Never]
    """A layer printing logfmt instead of the default logger (Effect's `Logger.logFmt`)."""
    json: Layer[Never]
    """A layer printing JSON lines instead of the default logger (Effect's `Logger.json`)."""
    structured: Layer[Never]
    """A layer printing the structured dict instead of the default logger (Effect's
    `Logger.structured`)."""
    pretty: Layer[Never]
    """A layer printing `pretty_logger()`'s lines instead of the default logger (Effect's
    `Logger.pretty`)."""


def _change_loggers(
    change: Callable[[tuple[LoggerService, ...]], tuple[LoggerService, ...]],
) -> Layer[Never]:
    return Layer.effect(CurrentLoggers, CurrentLoggers.map(change))  # pyright: ignore[reportReturnType] - CurrentLoggers is a Reference: it needs no provider


def _with_logger(
    loggers: tuple[LoggerService, ...], logger: LoggerService
) -> tuple[LoggerService, ...]:
    return loggers if logger in loggers else (*loggers, logger)


def _print(output: object, stream: TextIO) -> None:
    print(output, file=stream)


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


Logger.logfmt = Logger.replace(DEFAULT_LOGGER, Logger.with_console_log(Logger.logfmt_logger))
Logger.json = Logger.replace(DEFAULT_LOGGER, Logger.with_console_log(Logger.json_logger))
Logger.structured = Logger.replace(
    DEFAULT_LOGGER, Logger.with_console_log(Logger.structured_logger)
)
Logger.pretty = Logger.replace(DEFAULT_LOGGER, Logger.pretty_logger())


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
    loggers: tuple[LoggerService, ...] = context.get(CurrentLoggers, CurrentLoggers.default)
    span = span_of(fiber)
    if span is None and _dropped_by_stdlib(loggers, level):
        return UNIT  # the common case of a line nobody prints: build no entry for it
    cause: Cause[Any] | None = None
    values: list[object] = []
    for value in message:
        if isinstance(value, Cause):
            logged = cast("Cause[Any]", value)
            cause = logged if cause is None else Cause.sequential(cause, logged)
        else:
            values.append(value)
    refs = fiber.fiber_refs
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
    for logger in loggers:
        logger.log(entry)
    if span is not None:  # as Effect's tracerLogger: the entry is an event of the span
        span.add_event(entry.text, entry.timestamp, _event_attributes(entry))
    return UNIT


def _dropped_by_stdlib(loggers: tuple[LoggerService, ...], level: LogLevel) -> bool:
    """Whether the only logger in force is a stdlib one that drops `level`."""
    if len(loggers) != 1:
        return False
    only = loggers[0]
    return type(only) is StdlibLogger and not only.logger.isEnabledFor(int(level))


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
    "CurrentLoggers",
    "FunctionLogger",
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
