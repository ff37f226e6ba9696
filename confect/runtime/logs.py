"""A call's log lines: what its handler printed and logged while it ran, as Convex sends
them to clients (`logLines`: `[LOG] 'text'`, `[ERROR] ...`).

While a call runs (`collecting`), its `LogCollector` is the current one (a context
variable, so a handler on a worker thread, which runs in a copy of its caller's context,
collects into its own call's lines, and no other call's). Python `logging` records (so
also `effects.log*`, which logs through the "effects" logger), `print` and what is written
to `sys.stdout` or `sys.stderr` become lines with their level; all are hooked once, and
outside a call they go where they went before.

`print(a, b)` is one line of its values each shown as Convex's console shows each argument
of `console.log("a", 1)` (object-inspect: text quoted, `[LOG] 'a' 1`; here other values by
their `repr`), joined by spaces (`crates/common/src/log_lines.rs` to_pretty_string).
Text written to the streams, or printed with another `sep`/`end`, is line-buffered and
quoted as one string.

Convex collects `console.debug` whatever else logs; likewise a record a call makes below
its logger's level (`logging.debug` where the level is INFO) still becomes the call's
`[DEBUG]` line, and goes to no handler: the process prints no more than before. Confect
also runs handlers with effects' minimum log level at DEBUG (see `CALL_MINIMUM_LOG_LEVEL`).

Convex's limits (`crates/isolate/src/environment/helpers/mod.rs` MAX_LOG_LINES,
`crates/common/src/log_lines.rs` MAX_LOG_LINE_LENGTH): 256 lines a call, the last of them
the overflow's `[ERROR]`; a line over 32768 bytes is cut and says so.
"""

from __future__ import annotations

import builtins
import contextvars
import enum
import logging
import sys
import time
from typing import Any, TextIO

import attrs

import effects.logger

MAX_LOG_LINES = 256
MAX_LOG_LINE_LENGTH = 32768  # bytes of UTF-8
TRUNCATED_SUFFIX = " (truncated due to length)"
OVERFLOW_MESSAGE = f"Log overflow (maximum {MAX_LOG_LINES}). Remaining log lines omitted."
CALL_MINIMUM_LOG_LEVEL = effects.logger.LogLevel.DEBUG
"""effects' minimum log level in a handler: `effects.log_debug` is a line, as Convex's
`console.debug` is (an app's own `with_minimum_log_level` still applies inside)."""


class LogLevel(enum.StrEnum):
    """A log line's level, as Convex names it on the wire."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    LOG = "LOG"
    WARN = "WARN"
    ERROR = "ERROR"

    @staticmethod
    def of_record(levelno: int) -> LogLevel:
        """The level of a Python `logging` record of level `levelno`."""
        if levelno >= logging.ERROR:
            return LogLevel.ERROR
        if levelno >= logging.WARNING:
            return LogLevel.WARN
        if levelno >= logging.INFO:
            return LogLevel.INFO
        return LogLevel.DEBUG


@attrs.frozen
class LogLine:
    """One line a call logged: its level, its text (as written, cut to
    MAX_LOG_LINE_LENGTH if `truncated`) and when (seconds since the epoch); for a `print`
    of values, `shown` holds each value as Convex shows a console argument."""

    level: LogLevel
    text: str
    timestamp: float
    truncated: bool = False
    shown: tuple[str, ...] = ()

    @staticmethod
    def of(level: LogLevel, text: str, timestamp: float | None = None) -> LogLine:
        """A line of `text`, cut to Convex's limit if longer."""
        when = time.time() if timestamp is None else timestamp
        if len(text) * 4 <= MAX_LOG_LINE_LENGTH:  # no character takes more than 4 bytes
            return LogLine(level, text, when)
        data = text.encode()
        if len(data) <= MAX_LOG_LINE_LENGTH:
            return LogLine(level, text, when)
        cut = data[:MAX_LOG_LINE_LENGTH].decode(errors="ignore")
        return LogLine(level, cut, when, truncated=True)

    @staticmethod
    def printed(level: LogLevel, values: tuple[object, ...]) -> LogLine:
        """The line of `print(*values)`: each value shown as Convex's console shows an
        argument (text quoted, anything else its `repr`); past Convex's length, the whole
        line cut as one text."""
        shown = tuple(_quoted(value) if isinstance(value, str) else repr(value) for value in values)
        line = LogLine.of(level, " ".join(shown))
        if line.truncated:
            return line
        text = " ".join(value if isinstance(value, str) else repr(value) for value in values)
        return LogLine(level, text, line.timestamp, shown=shown)

    def wire(self) -> str:
        """The line as Convex sends it: the level, then the text quoted as its console
        quotes a string argument (`[LOG] 'hello'`), or a print's values as shown."""
        return f"[{self.level}] {self.message()}"

    def message(self) -> str:
        """The line after its level: the text quoted (`'hello'`), or a print's values as
        shown, as Convex joins a console call's arguments."""
        if self.shown:
            return " ".join(self.shown)
        suffix = TRUNCATED_SUFFIX if self.truncated else ""
        return f"{_quoted(self.text)}{suffix}"


def _quoted(text: str) -> str:
    """`text` as Convex's console shows a string (object-inspect): in single quotes, with
    quotes, backslashes and control characters escaped."""
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    if not escaped.isprintable():
        escaped = "".join(_CONTROL.get(c, c) for c in escaped)
    return f"'{escaped}'"


_CONTROL = {chr(i): f"\\x{i:02X}" for i in range(0x20)} | {
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def wire_lines(lines: list[LogLine]) -> list[str]:
    """`lines` as the wire's `logLines`."""
    return [line.wire() for line in lines] if lines else []


class LogCollector:
    """The log lines of one call, as it makes them (up to MAX_LOG_LINES). Once `close`d
    (the call has ended), it takes no more: what a handler's thread that outlived its call
    (timed out) prints goes to the process's own stream."""

    __slots__ = ("_partial", "closed", "lines")

    def __init__(self) -> None:
        self.lines: list[LogLine] = []
        self.closed = False
        self._partial: dict[LogLevel, str] | None = None  # a stream's unfinished line

    def add(self, level: LogLevel, text: str) -> None:
        """Add a line (or, past the limit, Convex's overflow line once, then nothing)."""
        if not self.closed and len(self.lines) < MAX_LOG_LINES:
            self.add_line(LogLine.of(level, text))

    def add_line(self, line: LogLine) -> None:
        """Add a line made already (within the limit, as `add`)."""
        count = len(self.lines)
        if self.closed or count >= MAX_LOG_LINES:
            return
        if count == MAX_LOG_LINES - 1:
            self.lines.append(LogLine.of(LogLevel.ERROR, OVERFLOW_MESSAGE))
        else:
            self.lines.append(line)

    def pending(self, level: LogLevel) -> bool:
        """Whether a stream of `level` has an unfinished line."""
        return bool(self._partial and level in self._partial)

    def write(self, level: LogLevel, text: str) -> None:
        """Text written to a stream: each finished line becomes a line of `level`."""
        partial = self._partial
        if partial is None:
            partial = self._partial = {}
        *finished, rest = (partial.pop(level, "") + text).split("\n")
        for line in finished:
            self.add(level, line)
        if rest:
            partial[level] = rest

    def mark(self) -> int:
        """Where the lines end now (see `rewind`)."""
        return len(self.lines)

    def rewind(self, mark: int) -> None:
        """Drop the lines made since `mark`: a transaction that runs again from its start
        logs afresh (as in Convex, only its last run's lines are the call's)."""
        del self.lines[mark:]
        self._partial = None

    def close(self) -> list[LogLine]:
        """End the call: what a stream left unfinished becomes a line; return the lines."""
        if self._partial:
            for level, rest in list(self._partial.items()):
                self.add(level, rest)
            self._partial = None
        self.closed = True
        return self.lines


_current: contextvars.ContextVar[LogCollector | None] = contextvars.ContextVar(
    "confect_log_collector", default=None
)


def begin() -> tuple[LogCollector, LogCollector | None]:
    """Start collecting a call's lines here: its collector, and the one it stands in for
    (give both to `end`). An effect may begin and end in different contexts (a fiber
    resumed from a worker thread): no token ties the two."""
    _install()
    collector = LogCollector()
    previous = _current.get()
    _current.set(collector)
    return collector, previous


def end(collector: LogCollector, previous: LogCollector | None) -> list[LogLine]:
    """Stop collecting (see `begin`); the call's lines."""
    _current.set(previous)
    return collector.close()


class collecting:
    """Collect a call's log lines while the block runs: `with collecting() as collector`."""

    __slots__ = ("_collector", "_previous")

    def __enter__(self) -> LogCollector:
        self._collector, self._previous = begin()
        return self._collector

    def __exit__(self, *_: object) -> None:
        end(self._collector, self._previous)


def mark() -> int:
    """Where the current call's lines end now (0 outside a call), for `rewind`."""
    collector = _current.get()
    return 0 if collector is None else collector.mark()


def rewind(mark: int) -> None:
    """Drop the current call's lines made since `mark` (see `LogCollector.rewind`)."""
    collector = _current.get()
    if collector is not None:
        collector.rewind(mark)


def outside_calls(record: logging.LogRecord) -> bool:
    """A logging filter: True for a record made outside any call (a call's own records are
    its log lines, shown with it)."""
    collector = _current.get()
    return collector is None or collector.closed


class _RecordCollector(logging.Handler):
    """Adds the records made while a call runs to its lines; confect's own are not the
    call's (its handler's) lines."""

    def emit(self, record: logging.LogRecord) -> None:
        collector = _current.get()
        if collector is not None and not collector.closed:
            _collect(collector, record)


def _collect(collector: LogCollector, record: logging.LogRecord) -> None:
    if record.name.startswith("confect."):
        return
    text = record.getMessage()
    if record.exc_info:
        text = f"{text}\n{_formatter.formatException(record.exc_info)}"
    collector.add(LogLevel.of_record(record.levelno), text)


def _call_collector() -> LogCollector | None:
    collector = _current.get()
    return None if collector is None or collector.closed else collector


_is_enabled_for = logging.Logger.isEnabledFor
_handle = logging.Logger.handle
_print = builtins.print


def _is_enabled_for_calls(self: logging.Logger, level: int) -> bool:
    """`Logger.isEnabledFor`, but in a call also for DEBUG and up below the logger's level
    (unless the logger or `logging.disable` turned that level off): such a record is the
    call's line only (see `_handle_in_calls`)."""
    if _is_enabled_for(self, level):
        return True
    return (
        level >= logging.DEBUG
        and not self.disabled
        and self.manager.disable < level
        and not self.name.startswith("confect.")
        and _call_collector() is not None
    )


def _handle_in_calls(self: logging.Logger, record: logging.LogRecord) -> None:
    """`Logger.handle`; a record below the logger's level (made only because a call was
    collecting) goes to the call's lines and to no handler."""
    collector = _call_collector()
    if collector is not None and record.levelno < self.getEffectiveLevel():
        if self.filter(record):
            _collect(collector, record)
        return
    _handle(self, record)


def _print_in_calls(
    *values: object,
    sep: str | None = " ",
    end: str | None = "\n",
    file: Any = None,
    flush: bool = False,
) -> None:
    """`print`; in a call, `print(a, b)` to stdout or stderr is one line of its values (see
    the module's docstring)."""
    collector = _call_collector()
    stream = sys.stdout if file is None else file
    plain = sep in (" ", None) and end in ("\n", None)
    if collector is not None and plain and isinstance(stream, _CallStream):
        level = stream.level
        if not collector.pending(level):
            collector.add_line(LogLine.printed(level, values))
            return
    _print(*values, sep=sep, end=end, file=file, flush=flush)


class _CallStream:
    """Stands for `sys.stdout` or `sys.stderr`: what a call writes becomes its lines;
    anything else goes to the stream it replaced."""

    def __init__(self, stream: TextIO, level: LogLevel) -> None:
        self._stream = stream
        self.level = level

    def write(self, text: str) -> int:
        collector = _current.get()
        if collector is None or collector.closed:
            return self._stream.write(text)
        collector.write(self.level, text)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


_formatter = logging.Formatter()
_handler = _RecordCollector()


def _install() -> None:
    """Hook logging, `print` and the standard streams, unless they are hooked already
    (someone may have replaced them since: a test runner's capture,
    `logging.basicConfig(force=True)`)."""
    if type(sys.stdout) is not _CallStream and sys.stdout is not None:
        sys.stdout = _CallStream(sys.stdout, LogLevel.LOG)
    if type(sys.stderr) is not _CallStream and sys.stderr is not None:
        sys.stderr = _CallStream(sys.stderr, LogLevel.ERROR)
    root = logging.getLogger()
    if _handler not in root.handlers:
        root.addHandler(_handler)
    if builtins.print is _print:
        builtins.print = _print_in_calls
    if logging.Logger.isEnabledFor is _is_enabled_for:
        logging.Logger.isEnabledFor = _is_enabled_for_calls
        logging.Logger.handle = _handle_in_calls
