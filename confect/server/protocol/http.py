"""The HTTP API's bodies, as types: the function call a client posts (`/api/query`,
`/api/mutation`, `/api/action`, `/api/function`, `/api/run/<module>/<name>`,
`/api/query_at_ts`), and what the server answers (a call's outcome, a refusal with its
`code`, the timestamp of `/api/query_ts`, the id of an upload).

A call's body is read by hand rather than by the converter: what a client may get wrong
in it is answered with a message of its own (no function named, a `ts` that is none).
`to_json` writes any answer as the dict the server encodes. The answers are not frozen,
for the reason the server messages are not (`server`): one is built for every call.
"""

from __future__ import annotations

from typing import Any, Literal, cast

import attrs

from confect.runtime.logs import wire_lines
from confect.server.calls import ErrorCode, Outcome, RequestError
from confect.server.protocol import ABSENT, Ts, decode_ts
from confect.server.protocol._wire import converter, error_data


@attrs.frozen
class CallRequest:
    """A function call's body: the function's `path` (`module:name`; from the URL for
    `/api/run/...`), its `args` as sent (an object, or the npm client's one-element array
    of one), and for `/api/query_at_ts` the `ts` to read at. The `format` clients send is
    not read: the server speaks `convex_encoded_json` only."""

    path: str
    args: Any
    ts: Ts | None


def read_call(body: dict[str, Any], path: str | None, at_ts: bool) -> CallRequest:
    """The call a request body holds (`path` if the URL names the function; `at_ts` if
    the body must carry a `ts`); raises `RequestError` saying what is missing."""
    function = body.get("path") if path is None else path
    if not isinstance(function, str) or not function:
        raise RequestError(ErrorCode.BAD_REQUEST, "the request names no function (`path`)")
    ts = decode_ts(body.get("ts")) if at_ts else None
    if at_ts and ts is None:
        raise RequestError(ErrorCode.BAD_REQUEST, "`ts` is not a timestamp from /api/query_ts")
    return CallRequest(function, body.get("args", {}), ts)


@attrs.define
class CallSuccess:
    status: Literal["success"] = attrs.field(default="success", init=False)
    value: Any
    log_lines: list[str]


@attrs.define
class CallFailed:
    """A call that ran and failed (HTTP 560); `error_data` is the `ConvexError`'s data."""

    status: Literal["error"] = attrs.field(default="error", init=False)
    error_message: str
    log_lines: list[str]
    error_data: Any = ABSENT


def call_response(outcome: Outcome) -> CallSuccess | CallFailed:
    """The body that answers a call with its outcome."""
    if outcome.success:
        return CallSuccess(outcome.value, wire_lines(outcome.log_lines))
    return CallFailed(outcome.error_message, wire_lines(outcome.log_lines), error_data(outcome))


@attrs.define
class Refusal:
    """A request refused before anything ran (HTTP 4xx, or 5xx for the server's own)."""

    code: ErrorCode
    message: str


@attrs.define
class QueryTimestamp:
    """`/api/query_ts`: the timestamp a query would read at now."""

    ts: Ts


@attrs.define
class Uploaded:
    """`/api/storage/upload`: the id of the stored file."""

    storage_id: str


HttpBody = CallSuccess | CallFailed | Refusal | QueryTimestamp | Uploaded


def to_json(body: HttpBody) -> dict[str, Any]:
    """`body` as the JSON object the server sends."""
    return cast(dict[str, Any], converter.unstructure(body))


def _code(code: ErrorCode) -> str:
    return code.value


# cattrs passes a str subclass through as it is: the JSON text would be the same, but
# `to_json` gives plain JSON values
converter.register_unstructure_hook(ErrorCode, _code)
