"""How `confect dev` and `confect serve` write their logs (`--log-format`): `text` for
people (rich, each call with its lines under it), or `json` for machines: one JSON object a
line on stdout, a call as its `CallRecord.event()` (Convex's `function_execution` log
stream event), any other record as `{"timestamp", "topic": "log", "logger", "log_level",
"message"}`."""

from __future__ import annotations

import enum
import json
import logging

from rich.logging import RichHandler
from rich.text import Text

from confect.runtime.call_log import CALL_ATTRIBUTE, CallRecord


class LogFormat(enum.StrEnum):
    """The format of the server's logs."""

    TEXT = "text"
    JSON = "json"


class TextLines(RichHandler):
    """People's text: a call as `CallRecord.describe()` writes it (its time to the
    millisecond first, its log lines under it), in whole lines that the terminal wraps, a
    failed one in red; any other record in rich's columns (time, level, message). In those
    columns a call would be squeezed into what the time and level leave of the width,
    beside a second time."""

    def emit(self, record: logging.LogRecord) -> None:
        call = getattr(record, CALL_ATTRIBUTE, None)
        if not isinstance(call, CallRecord):
            return super().emit(record)
        style = "" if call.success else "red"
        self.console.print(Text(str(call), style=style), soft_wrap=True, highlight=False)


class JsonLines(logging.Formatter):
    """Formats each record as one line of JSON (see the module's docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        call = getattr(record, CALL_ATTRIBUTE, None)
        if isinstance(call, CallRecord):
            return json.dumps(call.event(), ensure_ascii=False)
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        event = {
            "timestamp": round(record.created * 1000),
            "topic": "log",
            "logger": record.name,
            "log_level": record.levelname,
            "message": message,
        }
        return json.dumps(event, ensure_ascii=False)
