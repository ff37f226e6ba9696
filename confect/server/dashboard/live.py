"""The dashboard's live channel: a WebSocket at `/_dashboard/api/live` on which the page
first sends `SignIn` (the admin key: a browser's WebSocket cannot send an Authorization
header), then hears the recent calls, `ReadyEvent`, and from then on every call
(`CallEvent`) and every commit (`CommitEvent`, naming the tables it wrote) as they
happen. A wrong key, or none within `SIGN_IN_SECONDS`, closes the socket with code 4001."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from confect.engine.interface import Write
from confect.runtime.call_log import CallRecord
from confect.server.calls import RequestError, is_admin_key
from confect.server.dashboard.messages import (
    CallEvent,
    CallInfo,
    CommitEvent,
    ReadyEvent,
    SignIn,
    read,
    write,
)

if TYPE_CHECKING:
    from confect.server.asgi import Server
    from effects.tracing import Span

BACKLOG = 200  # recent calls sent on sign-in
QUEUE = 10_000  # events held for a slow page; past that, the oldest are dropped
REFUSED = 4001
SIGN_IN_SECONDS = 10.0  # a socket that does not sign in by then is closed: it holds a connection


class LiveChannel:
    """One page's live channel to `server`'s deployment."""

    def __init__(self, websocket: WebSocket, server: Server) -> None:
        self._websocket = websocket
        self._server = server
        self._events: asyncio.Queue[Any] = asyncio.Queue(QUEUE)
        self._loop = asyncio.get_running_loop()

    async def run(self) -> None:
        websocket = self._websocket
        await websocket.accept()
        try:
            signed_in = await self._sign_in()
        except WebSocketDisconnect:
            return
        if not signed_in:
            await websocket.close(REFUSED, "the admin key is not this deployment's")
            return
        backend = self._server.backend
        stop_calls = backend.call_log.listen(self._called)
        commits = backend.subscribe_commits(self._committed)
        try:
            for record in backend.call_log.recent(BACKLOG):
                await self._send(CallEvent(CallInfo.of(record)))
            await self._send(ReadyEvent())
            await self._forward()
        except WebSocketDisconnect:
            pass
        finally:
            stop_calls()
            commits.remove()

    async def _sign_in(self) -> bool:
        try:
            received = await asyncio.wait_for(self._websocket.receive(), SIGN_IN_SECONDS)
        except TimeoutError:
            return False
        if received["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(received.get("code", 1000))
        try:
            message = read(json.loads(received.get("text") or ""), SignIn)  # a binary frame too
        except (ValueError, RequestError):
            return False
        return is_admin_key(message.admin_key, self._server.admin_key)

    async def _forward(self) -> None:
        """Send the events as they come, until the page goes (its socket closes)."""
        closed = self._loop.create_task(self._websocket.receive())
        try:
            while True:
                event = self._loop.create_task(self._events.get())
                await asyncio.wait({closed, event}, return_when=asyncio.FIRST_COMPLETED)
                if closed.done():
                    event.cancel()
                    return
                await self._send(event.result())
        finally:
            closed.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                await closed

    async def _send(self, event: Any) -> None:
        await self._websocket.send_text(json.dumps(write(event), separators=(",", ":")))

    def _offer(self, event: Any) -> None:
        if self._events.full():
            self._events.get_nowait()
        self._events.put_nowait(event)

    def _called(self, record: CallRecord) -> None:
        """A call ran (on any thread); it must not fail because the page's loop closed."""
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._offer, CallEvent(CallInfo.of(record)))

    def _committed(self, ts: int, writes: list[Write], cause: Span | None) -> None:
        """A commit (on the server's loop); its cause's span is not shown."""
        self._offer(CommitEvent(sorted({w.table for w in writes})))
