"""The WebSocket sync protocol, one `SyncSession` per connection.

The session keeps the client's version (query set, identity, ts) and answers each change
with one `Transition` from the version the client holds to the next. Incoming messages
and wake-ups from commits go through one queue, so transitions and responses leave in
order. Mutations of a connection run one after another (in send order); actions run
side by side. Each mutation response is followed by a transition that reaches its ts.

A transition longer than `part_chars` goes out as `TransitionChunk` parts to the clients
that reassemble them (the npm client from 1.28, which connects to `/api/<version>/sync`;
the Rust client behind the PyPI one connects to `/api/sync` and takes them whole).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import struct
import time
from typing import Any, cast

from starlette.websockets import WebSocket, WebSocketDisconnect

from confect.auth_config import AuthenticationError, TokenVerifier
from confect.server.calls import Caller, Functions, Outcome, RequestError
from confect.server.query_cache import QueryKey, query_key
from confect.server.subscriptions import Subscriptions

log = logging.getLogger("confect.server")
PING_SECONDS = 15.0
MAX_MESSAGE_BYTES = 16 << 20
TRANSITION_PART_CHARS = 1 << 20
FIRST_CHUNKING_NPM = (1, 28, 0)


def takes_chunks(client_version: str | None) -> bool:
    """Whether a client connecting to `/api/<client_version>/sync` reassembles
    `TransitionChunk`s (the npm client does from 1.28.0)."""
    if client_version is None:
        return False
    parts = client_version.split("-")[0].split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return False
    return tuple(int(p) for p in parts) >= FIRST_CHUNKING_NPM


def encode_ts(ts: int) -> str:
    """A timestamp as the clients read it: base64 of 8 little-endian bytes."""
    return base64.b64encode(struct.pack("<Q", ts)).decode()


def decode_ts(text: object) -> int | None:
    """The timestamp `encode_ts` wrote, or None if `text` is not one."""
    try:
        raw = base64.b64decode(str(text), validate=True)
    except ValueError:
        return None
    return struct.unpack("<Q", raw)[0] if len(raw) == 8 else None


class ProtocolError(Exception):
    """The client broke the protocol: the connection ends with a FatalError."""


class SyncSession:
    """One client connection."""

    def __init__(
        self,
        websocket: WebSocket,
        functions: Functions,
        subscriptions: Subscriptions,
        verifier: TokenVerifier,
        admin_key: str | None,
        part_chars: int | None = None,
    ) -> None:
        """`part_chars`: split transitions longer than this into `TransitionChunk`s (None:
        the client does not take them)."""
        self._socket = websocket
        self._part_chars = part_chars
        self._transitions_split = 0
        self._functions = functions
        self._subscriptions = subscriptions
        self._verifier = verifier
        self._admin_key = admin_key
        self._caller = Caller()
        self._query_set: int = 0
        self._identity: int = 0
        self._ts: int = 0
        self._queries: dict[int, tuple[QueryKey, Any]] = {}  # id -> (key, wire args)
        self._sent: dict[int, Outcome] = {}  # id -> the outcome last sent
        self._events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._mutations: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last_sent = time.monotonic()

    def _wake(self) -> None:
        self._events.put_nowait(("refresh", None))

    # --- the connection's life -------------------------------------------------------------------

    async def run(self) -> None:
        await self._socket.accept()
        self._spawn(self._read())
        self._spawn(self._run_mutations())
        self._spawn(self._ping())
        try:
            await self._work()
        except ProtocolError as error:
            await self._send({"type": "FatalError", "error": str(error)})
            await self._socket.close(code=1008)
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client went away
        finally:
            for task in self._tasks:
                task.cancel()
            for key, _ in self._queries.values():
                self._subscriptions.unsubscribe(key, self._wake)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self) -> None:
        try:
            while True:
                text = await self._socket.receive_text()
                if len(text) > MAX_MESSAGE_BYTES:
                    await self._events.put(("invalid", "message too large"))
                    return
                try:
                    message = json.loads(text)
                except (ValueError, RecursionError):  # RecursionError: nested too deep to parse
                    await self._events.put(("invalid", "a message was not JSON"))
                    return
                await self._events.put(("message", message))
        except (WebSocketDisconnect, RuntimeError, KeyError):
            await self._events.put(("closed", None))

    async def _ping(self) -> None:
        """Ask for a Ping whenever the connection has been quiet for PING_SECONDS."""
        while True:
            quiet = time.monotonic() - self._last_sent
            if quiet >= PING_SECONDS:
                self._events.put_nowait(("ping", None))
                quiet = 0.0
            await asyncio.sleep(PING_SECONDS - quiet)

    async def _work(self) -> None:
        while True:
            kind, payload = await self._events.get()
            if kind == "ping":
                await self._send({"type": "Ping"})
            elif kind == "closed":
                return
            elif kind == "invalid":
                raise ProtocolError(payload)
            elif kind == "message":
                await self._handle(payload)
            elif kind == "refresh":
                await self._transition()
            elif kind == "response":
                await self._send(payload)
                if payload["type"] == "MutationResponse":
                    await self._transition(always=True)

    async def _send(self, message: dict[str, Any]) -> None:
        await self._send_text(json.dumps(message))

    async def _send_text(self, text: str) -> None:
        self._last_sent = time.monotonic()
        await self._socket.send_text(text)

    # --- client messages -------------------------------------------------------------------------

    async def _handle(self, message: Any) -> None:
        if not isinstance(message, dict):
            raise ProtocolError("a message was not a JSON object")
        kind = message.get("type")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        if kind == "Connect" or kind == "Event":
            return
        if kind == "ModifyQuerySet":
            await self._modify_query_set(message)  # pyright: ignore[reportUnknownArgumentType]
        elif kind == "Authenticate":
            await self._authenticate(message)  # pyright: ignore[reportUnknownArgumentType]
        elif kind == "Mutation":
            self._mutations.put_nowait(message)  # pyright: ignore[reportUnknownArgumentType]
        elif kind == "Action":
            self._spawn(self._action(message))  # pyright: ignore[reportUnknownArgumentType]
        else:
            raise ProtocolError(f"unknown message type {kind!r}")

    async def _modify_query_set(self, message: dict[str, Any]) -> None:
        if message.get("baseVersion") != self._query_set:
            raise ProtocolError(
                f"ModifyQuerySet from version {message.get('baseVersion')}, but the query set is at {self._query_set}"
            )
        removed: list[int] = []
        changes: list[Any] = message.get("modifications") or []
        for item in changes:
            change = cast(dict[str, Any], item) if isinstance(item, dict) else {}
            query_id = change.get("queryId")
            if not isinstance(query_id, int):
                raise ProtocolError("a query set modification has no queryId")
            if change.get("type") == "Add":
                path, args = str(change.get("udfPath", "")), change.get("args", [{}])
                key = query_key(path, args, self._caller)
                self._queries[query_id] = (key, args)
                self._subscriptions.subscribe(key, self._wake)
            elif change.get("type") == "Remove":
                entry = self._queries.pop(query_id, None)
                if entry is not None:
                    self._subscriptions.unsubscribe(entry[0], self._wake)
                self._sent.pop(query_id, None)
                removed.append(query_id)
            else:
                raise ProtocolError(f"unknown query set modification {change.get('type')!r}")
        await self._transition(
            query_set=int(message.get("newVersion", self._query_set)), removed=removed
        )

    async def _authenticate(self, message: dict[str, Any]) -> None:
        base = message.get("baseVersion")
        token_type = message.get("tokenType")
        try:
            if token_type == "User":
                caller = Caller(self._verifier.verify(str(message.get("value", ""))))
            elif token_type == "Admin":
                if self._admin_key is None or message.get("value") != self._admin_key:
                    raise AuthenticationError(message="the admin key is not valid")
                caller = Caller(admin=True)
            elif token_type == "None":
                caller = Caller()
            else:
                raise ProtocolError(f"unknown tokenType {token_type!r}")
        except AuthenticationError as error:
            await self._send(
                {
                    "type": "AuthError",
                    "error": str(error),
                    "baseVersion": base,
                    "authUpdateAttempted": True,
                }
            )
            return
        self._caller = caller
        for query_id, (old_key, args) in list(self._queries.items()):
            self._subscriptions.unsubscribe(old_key, self._wake)
            key = query_key(old_key[0], args, caller)
            self._queries[query_id] = (key, args)
            self._subscriptions.subscribe(key, self._wake)
        self._sent.clear()  # every result is sent again under the new identity
        await self._transition(identity=(base if isinstance(base, int) else self._identity) + 1)

    async def _run_mutations(self) -> None:
        while True:
            message = await self._mutations.get()
            response = await self._request("MutationResponse", message)
            await self._events.put(("response", response))

    async def _action(self, message: dict[str, Any]) -> None:
        response = await self._request("ActionResponse", message)
        await self._events.put(("response", response))

    async def _request(self, kind: str, message: dict[str, Any]) -> dict[str, Any]:
        request_id = message.get("requestId")
        try:
            outcome = await self._functions.call(
                str(message.get("udfPath", "")),
                message.get("args", [{}]),
                self._caller,
                "mutation" if kind == "MutationResponse" else "action",
            )
        except RequestError as error:
            outcome = Outcome(False, error_message=error.message)
        response: dict[str, Any] = {
            "type": kind,
            "requestId": request_id,
            "success": outcome.success,
            "logLines": outcome.log_lines,
        }
        if outcome.success:
            response["result"] = outcome.value
            if kind == "MutationResponse":
                response["ts"] = encode_ts(outcome.ts or self._functions.backend.engine.last_ts())
        else:
            response["result"] = outcome.error_message
            response["errorMessage"] = outcome.error_message
            if outcome.has_error_data:
                response["errorData"] = outcome.error_data
        return response

    # --- transitions -----------------------------------------------------------------------------

    async def _transition(
        self,
        query_set: int | None = None,
        identity: int | None = None,
        removed: list[int] | None = None,
        always: bool = False,
    ) -> None:
        """Bring the client's queries up to date and send one Transition."""
        modifications: list[dict[str, Any]] = [
            {"type": "QueryRemoved", "queryId": q} for q in removed or []
        ]
        engine = self._functions.backend.engine
        for _ in range(100):
            changed = await self._refresh()
            modifications += changed
            if not any(self._subscriptions.is_stale(key) for key, _ in self._queries.values()):
                break  # every result is current as of now: the transition can say so
        start: tuple[int, int, int] = (self._query_set, self._identity, self._ts)
        end: tuple[int, int, int] = (
            self._query_set if query_set is None else query_set,
            self._identity if identity is None else identity,
            max(self._ts, engine.last_ts()),
        )
        if not modifications and end == start and not always:
            return
        transition = {
            "type": "Transition",
            "startVersion": _version(*start),
            "endVersion": _version(*end),
            "modifications": modifications,
        }
        text = json.dumps(transition)
        if self._part_chars is None or len(text) <= self._part_chars:
            await self._send_text(text)
        else:
            await self._send_in_parts(text, self._part_chars)
        self._query_set, self._identity, self._ts = end

    async def _send_in_parts(self, text: str, size: int) -> None:
        """A transition as `TransitionChunk`s, in order (only pings may come between)."""
        self._transitions_split += 1
        parts = [text[i : i + size] for i in range(0, len(text), size)]
        for number, part in enumerate(parts):
            await self._send(
                {
                    "type": "TransitionChunk",
                    "transitionId": str(self._transitions_split),
                    "partNumber": number,
                    "totalParts": len(parts),
                    "chunk": part,
                }
            )

    async def _refresh(self) -> list[dict[str, Any]]:
        modifications: list[dict[str, Any]] = []
        for query_id, (key, args) in list(self._queries.items()):
            try:
                outcome = await self._subscriptions.result(key, args, self._caller)
            except RequestError as error:
                outcome = Outcome(False, error_message=error.message)
            if query_id not in self._queries:
                continue  # removed meanwhile
            if not _same(self._sent.get(query_id), outcome):
                self._sent[query_id] = outcome
                modifications.append(_modification(query_id, outcome))
        return modifications


def _version(query_set: int, identity: int, ts: int) -> dict[str, Any]:
    return {"querySet": query_set, "identity": identity, "ts": encode_ts(ts)}


def _same(sent: Outcome | None, outcome: Outcome) -> bool:
    """Whether the client already has this result (shared outcomes are often the very
    same object, which makes the comparison instant)."""
    if sent is None:
        return False
    if sent is outcome:
        return True
    before = (sent.success, sent.value, sent.error_message, sent.error_data, sent.log_lines)
    after = (
        outcome.success,
        outcome.value,
        outcome.error_message,
        outcome.error_data,
        outcome.log_lines,
    )
    # `==` takes True for 1.0 and 1.0 for 1: equal values are confirmed as JSON, types and all
    return before == after and json.dumps(before) == json.dumps(after)


def _modification(query_id: int, outcome: Outcome) -> dict[str, Any]:
    if outcome.success:
        return {
            "type": "QueryUpdated",
            "queryId": query_id,
            "value": outcome.value,
            "logLines": outcome.log_lines,
            "journal": None,
        }
    failed: dict[str, Any] = {
        "type": "QueryFailed",
        "queryId": query_id,
        "errorMessage": outcome.error_message,
        "logLines": outcome.log_lines,
        "journal": None,
    }
    if outcome.has_error_data:
        failed["errorData"] = outcome.error_data
    return failed
