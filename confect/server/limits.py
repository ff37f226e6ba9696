"""Limits on what one client can hold of the server: the time it may take to send a
request, and the connections it may keep open.

A slowloris client opens thousands of connections and sends each request a byte at a
time; every one of them holds a file descriptor until there are none left for anyone.
uvicorn bounds only the idle time between two requests of a keep-alive connection, so the
protocols here add to its own: a request's headers must arrive within `header_timeout`
seconds (counted from the connection's opening, or the first byte of a later request on
it) and within `max_header_bytes`; its body must keep coming at `body_min_rate` bytes a second after a
first `body_timeout` seconds; and connections, WebSockets included, are capped per client
address and in total. A connection over a cap is answered 503 and closed at once; one too
slow is answered 408 and closed.
"""

from __future__ import annotations

import asyncio
import enum
import resource
from collections.abc import Callable
from typing import ClassVar, cast

import attrs
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

FILES_KEPT_FOR_THE_SERVER = 100
"""Open files the default total cap leaves to the server itself (databases, blobs, ...)."""


def connection_allowance() -> int:
    """The default total cap: the process's open-file limit, less what the server keeps
    for itself (0, no cap, when the limit is unlimited)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 0
    return max(1, soft - FILES_KEPT_FOR_THE_SERVER)


@attrs.frozen
class ConnectionLimits:
    """What one client may take. Timeouts in seconds, `body_min_rate` in bytes per
    second; a cap of 0 is no cap. `per_address` counts the TCP peer's address: behind a
    proxy or load balancer every client has the proxy's, so raise it or set it to 0 there."""

    header_timeout: float = attrs.field(default=10.0, validator=attrs.validators.gt(0))
    body_timeout: float = attrs.field(default=10.0, validator=attrs.validators.gt(0))
    body_min_rate: float = attrs.field(default=1024.0, validator=attrs.validators.gt(0))
    max_header_bytes: int = attrs.field(default=64 << 10, validator=attrs.validators.gt(0))
    per_address: int = attrs.field(default=500, validator=attrs.validators.ge(0))
    total: int = attrs.field(factory=connection_allowance, validator=attrs.validators.ge(0))


def protocols(
    limits: ConnectionLimits,
) -> tuple[type[HttpToolsProtocol], type[WebSocketsSansIOProtocol]]:
    """The HTTP and WebSocket protocol classes for uvicorn (`Config(http=..., ws=...)`)
    that keep to `limits`, counting their connections together."""
    held = _Held(limits)

    class Http(_LimitedHttp):
        _held = held

    class WebSocket(_LimitedWebSocket):
        _held = held

    return Http, WebSocket


class _Held:
    """The connections open, per client address and in all."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self._total = 0
        self._per_address: dict[str, int] = {}

    def take(self, client: tuple[str, int] | None) -> bool:
        """Count a new connection from `client`, unless that is over a cap."""
        limits = self.limits
        if limits.total and self._total >= limits.total:
            return False
        if client is not None:
            held = self._per_address.get(client[0], 0)
            if limits.per_address and held >= limits.per_address:
                return False
            self._per_address[client[0]] = held + 1
        self._total += 1
        return True

    def release(self, client: tuple[str, int] | None) -> None:
        self._total -= 1
        if client is not None:
            held = self._per_address.pop(client[0]) - 1
            if held:
                self._per_address[client[0]] = held


class _Reading(enum.Enum):
    HEADERS = enum.auto()  # a request's headers (or, on a new connection, its first byte)
    BODY = enum.auto()
    NOTHING = enum.auto()  # between requests (uvicorn's keep-alive timeout), or a WebSocket's


def _answer(status: bytes, reason: bytes) -> bytes:
    return b"".join(
        [
            b"HTTP/1.1 " + status + b"\r\n",
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(reason),
            b"connection: close\r\n\r\n",
            reason,
        ]
    )


_TOO_MANY = _answer(b"503 Service Unavailable", b"too many connections")
_TOO_SLOW = _answer(b"408 Request Timeout", b"the request took too long to arrive")
_HEADERS_TOO_LARGE = _answer(b"431 Request Header Fields Too Large", b"the headers are too large")


class _LimitedHttp(HttpToolsProtocol):
    """uvicorn's HTTP protocol (httptools), keeping to `_held.limits`."""

    _held: ClassVar[_Held]
    _counted: bool
    _reading: _Reading
    _timer: asyncio.TimerHandle | None
    _header_bytes: int
    _body_since: float
    _body_bytes: int

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)
        self._timer = None
        self._reading = _Reading.HEADERS
        self._header_bytes = 0
        self._counted = self._held.take(self.client)
        if not self._counted:
            self._close_with(_TOO_MANY)
            return
        self._arm(self._held.limits.header_timeout, self._too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._disarm()
        if self._counted:
            self._held.release(self.client)

    def data_received(self, data: bytes) -> None:
        if self._reading is _Reading.HEADERS:
            self._header_bytes += len(data)
        super().data_received(data)
        if self.transport.is_closing() or self._reading is _Reading.NOTHING:
            return
        limits = self._held.limits
        if self._reading is _Reading.HEADERS and self._header_bytes > limits.max_header_bytes:
            self._close_with(_HEADERS_TOO_LARGE)
        elif self._timer is None and self._reading is _Reading.HEADERS:
            self._arm(limits.header_timeout, self._too_slow)
        elif self._timer is None:
            self._arm(limits.body_timeout, self._body_check)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading = _Reading.HEADERS

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._disarm()
        self._reading = _Reading.BODY
        self._header_bytes = 0
        self._body_since = self.loop.time()
        self._body_bytes = 0

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._body_bytes += len(body)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm()
        self._reading = _Reading.NOTHING

    def handle_websocket_upgrade(self) -> None:
        # the WebSocket protocol takes the connection over, and releases it when it ends
        self._disarm()
        self._reading = _Reading.NOTHING
        super().handle_websocket_upgrade()

    def _arm(self, delay: float, callback: Callable[[], None]) -> None:
        self._timer = self.loop.call_later(delay, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _body_check(self) -> None:
        """The body must have come at `body_min_rate` since `body_timeout` after its start
        (a window that starts again while the server itself is not reading it)."""
        self._timer = None
        limits = self._held.limits
        now = self.loop.time()
        if self.flow.read_paused:
            self._body_since, self._body_bytes = now, 0
            self._arm(limits.body_timeout, self._body_check)
            return
        due = self._body_since + limits.body_timeout + self._body_bytes / limits.body_min_rate
        if now < due:
            self._arm(due - now, self._body_check)
        else:
            self._too_slow()

    def _too_slow(self) -> None:
        self._timer = None
        self._close_with(_TOO_SLOW)

    def _close_with(self, answer: bytes) -> None:
        """Answer (unless a response is under way) and close the connection."""
        cycle = cast("RequestResponseCycle | None", self.cycle)
        if cycle is None or not cycle.response_started or cycle.response_complete:
            self.transport.write(answer)
        self.transport.close()


class _LimitedWebSocket(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, releasing the connection its HTTP request counted."""

    _held: ClassVar[_Held]

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._held.release(self.client)
