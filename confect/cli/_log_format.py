"""How `confect dev` and `confect serve` write their logs (`--log-format`): `text` for
people (rich, each call with its lines under it), or `json` for machines: one JSON object a
line on stdout, a call as its `CallRecord.event()` (Convex's `function_execution` log
stream event), any other record as `{"timestamp", "topic": "log", "logger", "log_level",
"message"}`."""

from __future__ import annotations

import enum
import json
import logging

from confect.runtime.call_log import CALL_ATTRIBUTE, CallRecord


class LogFormat(enum.StrEnum):
    """The format of the server's logs."""

    TEXT = "text"
    JSON = "json"


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
