"""The function-call endpoints as a plain ASGI application: `POST /api/query`,
`/api/mutation`, `/api/action`, `/api/function`, `/api/run/<module>/<name>` and
`/api/query_at_ts`.

They carry nearly every request a deployment serves, and Starlette's request objects,
routing and middleware cost more than answering a cached query; so these endpoints read
and write the ASGI messages themselves, and every other request goes on to `other`.

Everything under `/api/` may be called from a web page on any origin (CORS), as from a
Convex deployment: callers authenticate with the Authorization header, never cookies.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from confect.app.functions import Kind
from confect.model.values import parse_json
from confect.server.calls import ErrorCode, RequestError
from confect.server.protocol.http import HttpBody, Refusal, call_response, read_call, to_json

if TYPE_CHECKING:
    from confect.server.asgi import Server

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("confect.server")
MAX_BODY_BYTES = 16 << 20
UDF_FAILED = 560
KINDS: dict[str, Kind | None] = {
    "/api/query": "query",
    "/api/query_at_ts": "query",
    "/api/mutation": "mutation",
    "/api/action": "action",
    "/api/function": None,
}
RUN_PREFIX = "/api/run/"
INTERRUPTED = Refusal(ErrorCode.INTERRUPTED, "the server shut down before the call finished")
"""What a call answers when the server's shutdown interrupts it (its grace period is over)."""
_JSON_HEADER = (b"content-type", b"application/json")
_ANY_ORIGIN = (b"access-control-allow-origin", b"*")
_PREFLIGHT = [
    _ANY_ORIGIN,
    (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
    (b"access-control-allow-headers", b"authorization, content-type, convex-client"),
    (b"access-control-max-age", b"86400"),
]


class ClientGone(Exception):
    """The client disconnected before it had sent its whole request."""


class CallEndpoints:
    """Serves the function-call endpoints of `server`; passes anything else to `other`."""

    def __init__(self, server: Server, other: ASGIApp) -> None:
        self._server = server
        self._other = other

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/"):
            return await self._other(scope, receive, send)
        if scope["method"] == "OPTIONS":
            await send({"type": "http.response.start", "status": 204, "headers": _PREFLIGHT})
            return await send({"type": "http.response.body", "body": b""})
        if scope["method"] != "POST" or (path not in KINDS and not path.startswith(RUN_PREFIX)):
            return await self._other(scope, receive, _from_any_origin(send))
        self._server.started()
        try:
            status, content = await self._answer(path, scope, receive)
        except ClientGone:
            return
        except asyncio.CancelledError:  # by the shutdown: an answer, not a traceback per call
            status, content = INTERRUPTED.code.status, INTERRUPTED
        except Exception as error:
            content = refusal(error, f"POST {path}")
            status = content.code.status
        finally:
            self._server.ended()
        await send_json(send, status, to_json(content))

    async def _answer(self, path: str, scope: Scope, receive: Receive) -> tuple[int, HttpBody]:
        headers: dict[bytes, bytes] = dict(scope["headers"])
        authorization = headers.get(b"authorization")
        caller = await self._server.caller(
            None if authorization is None else authorization.decode("latin-1")
        )
        body = json_object(await read_body(receive, headers.get(b"content-length")))
        named = None
        if path.startswith(RUN_PREFIX):
            module, _, name = path.removeprefix(RUN_PREFIX).rpartition("/")
            named = f"{module}:{name}" if module else name
        call = read_call(body, named, at_ts=path == "/api/query_at_ts")
        outcome = await self._server.functions.call(
            call.path, call.args, caller, KINDS.get(path), call.ts
        )
        return (200 if outcome.success else UDF_FAILED), call_response(outcome)


def refusal(error: Exception, request: str) -> Refusal:
    """The body that answers (with its code's status) a request which raised `error`: a
    `RequestError` says what was wrong; anything else is logged and stays on the server."""
    if isinstance(error, RequestError):
        return Refusal(error.code, error.message)
    log.exception("request %s failed", request, exc_info=error)
    return Refusal(ErrorCode.INTERNAL_SERVER_ERROR, "the server failed to handle this request")


async def read_body(
    receive: Receive, declared: bytes | str | None, limit: int = MAX_BODY_BYTES
) -> bytes:
    """The request body from the ASGI messages, refused (413) past `limit` bytes without
    reading it all; `declared` is its Content-Length header, if any."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk: bytes = message.get("body", b"")
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def stream_body(
    receive: Receive, declared: bytes | str | None, limit: int
) -> AsyncIterator[bytes]:
    """The request body from the ASGI messages, chunk by chunk as they come, refused (413)
    past `limit` bytes; `declared` is its Content-Length header, if any."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        more = message.get("more_body", False)
        yield chunk


def _too_large(limit: int) -> RequestError:
    return RequestError(ErrorCode.REQUEST_TOO_LARGE, f"the request body is over {limit} bytes")


def json_object(body: bytes) -> dict[str, Any]:
    """A request body that must be a JSON object (an empty body is `{}`)."""
    try:
        parsed = parse_json(body or b"{}")
    except (ValueError, RecursionError):  # RecursionError: nested too deep to parse
        raise RequestError(ErrorCode.BAD_JSON_BODY, "the request body is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise RequestError(ErrorCode.BAD_JSON_BODY, "the request body must be a JSON object")
    return parsed  # pyright: ignore[reportUnknownVariableType]


async def send_json(send: Send, status: int, content: Any) -> None:
    """A JSON response, encoded as Starlette's JSONResponse encodes it."""
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_JSON_HEADER, _ANY_ORIGIN, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _from_any_origin(send: Send) -> Send:
    """`send`, with the response marked as readable by a page on any origin."""

    async def sending(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), _ANY_ORIGIN]
        await send(message)

    return sending
