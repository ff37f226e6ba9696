"""The text of a log entry in Effect's built-in formats: `string` (Effect's
`stringLogger`, `key=value` pairs with values in double quotes where needed), `logfmt`
(`logfmtLogger`: the same pairs, values quoted as JSON strings, objects as compact JSON),
`structured` (`structuredLogger`: a dict), `json` (`jsonLogger`: that dict as one line of
JSON) and `pretty` (`prettyLogger`: a header line, then the rest indented).

Values are shown as Effect shows them: text as it is; dicts, lists and tuples as JSON
(a value met again inside itself left out, as Effect's `stringifyCircular` does); True,
False and None as `true`, `false`, `null`; anything else as `str(value)` (so a `Redacted`
shows `<redacted>`).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from effects.logger import LogEntry

_TEXT_ONLY = re.compile(r'[^\s"=]*')
_BAD_LABEL = re.compile(r'[\s="]')
_UNESCAPED_QUOTE = re.compile(r'\\([\s\S])|(")')


def iso_timestamp(timestamp: float) -> str:
    """`timestamp` (seconds since the epoch) as JavaScript's `Date.toISOString` writes it:
    UTC to the millisecond, `2024-05-01T12:00:00.000Z`."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").removesuffix("+00:00") + "Z"


def fiber_name(fiber_id: int) -> str:
    """A fiber as Effect names it (`FiberId.threadName`): `#12`."""
    return f"#{fiber_id}"


def format_label(label: str) -> str:
    """A key or span label made safe for `key=value` text: whitespace, `=` and `"` become
    `_` (Effect's `formatLabel`)."""
    return _BAD_LABEL.sub("_", label)


def show(value: object, indent: int | None) -> str:
    """`value` as text (Effect's `Inspectable.toStringUnknown`): text as it is, containers
    as JSON indented by `indent` spaces (0 or None: on one line), scalars as JSON."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (bool, dict, list, tuple)):
        separators = (",", ":") if not indent else (",", ": ")
        return json.dumps(
            _jsonable(cast("object", value), []),
            indent=indent or None,
            separators=separators,
            ensure_ascii=False,
            default=str,
        )
    return str(value)


def _jsonable(value: object, seen: list[object]) -> object:
    """`value` with every container already met replaced by nothing (left out of a dict,
    null in a list), so that JSON can show a structure that contains itself."""
    if isinstance(value, Mapping):
        mapping = cast("Mapping[object, object]", value)
        seen.append(mapping)
        items = mapping.items()
        return {str(key): _jsonable(item, seen) for key, item in items if not _is_seen(item, seen)}
    if isinstance(value, (list, tuple)):
        items = cast("list[object]", value)
        seen.append(items)
        return [None if _is_seen(item, seen) else _jsonable(item, seen) for item in items]
    return value


def _is_seen(value: object, seen: list[object]) -> bool:
    return isinstance(value, (Mapping, list, tuple)) and any(value is other for other in seen)


def _double_quoted(text: str) -> str:
    """`text` in double quotes, a `"` not already escaped escaped (Effect's
    `escapeDoubleQuotes`)."""
    escaped = _UNESCAPED_QUOTE.sub(lambda m: "\\" + (m.group(1) or "") + (m.group(2) or ""), text)
    return f'"{escaped}"'


def _json_quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _pairs(entry: LogEntry, quote: Any, indent: int | None) -> str:
    def pair(label: str, value: str) -> str:
        shown = value if _TEXT_ONLY.fullmatch(value) else quote(value)
        return f"{format_label(label)}={shown}"

    parts = [
        pair("timestamp", iso_timestamp(entry.timestamp)),
        pair("level", entry.level.label),
        pair("fiber", fiber_name(entry.fiber_id)),
    ]
    parts += [pair("message", show(value, indent)) for value in entry.message]
    if entry.cause is not None:
        parts.append(pair("cause", entry.cause.pretty()))
    parts += [f"{format_label(label)}={ms}ms" for label, ms in _span_items(entry)]
    parts += [pair(key, show(value, indent)) for key, value in entry.annotations.items()]
    return " ".join(parts)


def _span_items(entry: LogEntry) -> list[tuple[str, int]]:
    return [(span.label, round((entry.timestamp - span.start) * 1000)) for span in entry.spans]


def string(entry: LogEntry) -> str:
    """The entry as Effect's `stringLogger` writes it: `timestamp=... level=INFO
    fiber=#1 message="two words" db=12ms key=value`, containers as indented JSON."""
    return _pairs(entry, _double_quoted, 2)


def logfmt(entry: LogEntry) -> str:
    """The entry in logfmt, as Effect's `logfmtLogger` writes it: as `string`, but values
    quoted as JSON strings and containers as JSON on one line."""
    return _pairs(entry, _json_quoted, 0)


def structured(entry: LogEntry) -> dict[str, object]:
    """The entry as a dict, as Effect's `structuredLogger` makes it: `message` (the value,
    or a list of them when there are several), `logLevel`, `timestamp` (ISO), `cause` (its
    report, or None), `annotations`, `spans` (label -> ms) and `fiberId`."""
    messages = [_structured_value(value) for value in entry.message]
    return {
        "message": messages[0] if len(messages) == 1 else messages,
        "logLevel": entry.level.label,
        "timestamp": iso_timestamp(entry.timestamp),
        "cause": None if entry.cause is None else entry.cause.pretty(),
        "annotations": {key: _structured_value(value) for key, value in entry.annotations.items()},
        "spans": dict(_span_items(entry)),
        "fiberId": fiber_name(entry.fiber_id),
    }


def _structured_value(value: object) -> object:
    if value is None or isinstance(value, (str, int, float, Mapping, list, tuple)):
        return _jsonable(cast("object", value), [])
    return str(value)


def json_line(entry: LogEntry) -> str:
    """The entry as one line of JSON, as Effect's `jsonLogger` writes it: `structured`'s
    dict, without `cause` when there is none."""
    fields = structured(entry)
    if fields["cause"] is None:
        del fields["cause"]
    return json.dumps(fields, separators=(",", ":"), ensure_ascii=False, default=str)


_LEVEL_COLORS = {
    "TRACE": ("90",),
    "DEBUG": ("34",),
    "INFO": ("32",),
    "WARN": ("33",),
    "ERROR": ("31",),
    "FATAL": ("101", "30"),
}


def pretty(entry: LogEntry, *, colors: bool) -> str:
    """The entry as Effect's `prettyLogger` prints it (in a terminal): a header
    `[12:00:00.000] INFO (#1) db=12ms: message`, then the cause, the other values and the
    annotations (`key: value`), each indented by two spaces; in ANSI colours if `colors`."""

    def color(text: str, *codes: str) -> str:
        if not colors or not codes:
            return text
        return "".join(f"\x1b[{code}m" for code in codes) + text + "\x1b[0m"

    label = entry.level.label
    head = f"{color(f'[{_clock(entry.timestamp)}]', '37')} {color(label, *_LEVEL_COLORS.get(label, ()))}"
    head += f" ({fiber_name(entry.fiber_id)})"
    head += "".join(f" {format_label(span)}={ms}ms" for span, ms in _span_items(entry))
    head += ":"
    rest = list(entry.message)
    first = rest[0] if rest else None
    if isinstance(first, str):
        head += " " + color(first, "1", "36")
        del rest[0]
    body: list[str] = []
    if entry.cause is not None:
        body.append(entry.cause.pretty())
    body += [value if isinstance(value, str) else repr(value) for value in rest]
    body += [
        f"{color(f'{key}:', '1', '37')} {value if isinstance(value, str) else repr(value)}"
        for key, value in entry.annotations.items()
    ]
    indented = ["  " + line for text in body for line in text.split("\n")]
    return "\n".join([head, *indented])


def _clock(timestamp: float) -> str:
    """The local time of day to the millisecond (Effect's default date format)."""
    return (
        time.strftime("%H:%M:%S", time.localtime(timestamp))
        + f".{int(timestamp * 1000) % 1000:03d}"
    )
