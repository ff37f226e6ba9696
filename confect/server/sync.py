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
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from confect.app.auth_config import AuthenticationError, TokenVerifier
from confect.model.values import parse_json
from confect.runtime.session_requests import SessionRequest
from confect.server.calls import Caller, ClientCalls, Outcome, RequestError, is_admin_key
from confect.server.protocol import (
    Action,
    Authenticate,
    Connect,
    MessageError,
    ModifyQuerySet,
    Mutation,
    Remove,
    encode_ts,
    parse_client_message,
)
from confect.server.query_cache import QueryKey, query_key
from confect.server.subscriptions import Subscriptions

log = logging.getLogger("confect.server")
PING_SECONDS = 15.0
MAX_MESSAGE_BYTES = 16 << 20
TRANSITION_PART_CHARS = 1 << 20
FIRST_CHUNKING_NPM = (1, 28, 0)
MAX_PENDING = 1_000
"""Mutations (and, apart, actions) one connection may have waiting or running, as Convex's."""
MAX_UNREAD = 1_000
"""Client messages read but not yet handled; past it the socket is not read (backpressure)."""
MAX_QUERIES = 10_000
"""Queries one connection may subscribe to at once; an Add past it fails that query only."""
REFRESH_BATCH = 64


def takes_chunks(client_version: str | None) -> bool:
    """Whether a client connecting to `/api/<client_version>/sync` reassembles
    `TransitionChunk`s (the npm client does from 1.28.0)."""
    if client_version is None:
        return False
    parts = client_version.split("-")[0].split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return False
    return tuple(int(p) for p in parts) >= FIRST_CHUNKING_NPM


class ProtocolError(Exception):
    """The client broke the protocol: the connection ends with a FatalError."""


class TooManyOperations(Exception):
    """The client has more calls pending than one connection may (as Convex's
    TooManyConcurrentMutations): the connection closes with code 1013, try again later."""


class SessionAuthError(Exception):
    """The connection's identity was refused (a token that failed to verify, or one that
    expired): the connection ends with an AuthError, as Convex's does, and runs nothing
    more. The client reconnects and authenticates again."""

    def __init__(self, message: str, *, update_attempted: bool) -> None:
        super().__init__(message)
        self.message = message
        self.update_attempted = update_attempted


class SyncSession:
    """One client connection."""

    def __init__(
        self,
        websocket: WebSocket,
        functions: ClientCalls,
        subscriptions: Subscriptions,
        verifier: TokenVerifier,
        admin_key: str | None,
        part_chars: int | None = None,
        *,
        finish: Callable[[Coroutine[Any, Any, dict[str, Any]]], Awaitable[dict[str, Any]]],
    ) -> None:
        """`part_chars`: split transitions longer than this into `TransitionChunk`s (None:
        the client does not take them). `finish` runs a mutation to its end even if the
        connection closes meanwhile (`Server.finish`)."""
        self._socket = websocket
        self._finish = finish
        self._part_chars = part_chars
        self._transitions_split = 0
        self._functions = functions
        self._subscriptions = subscriptions
        self._verifier = verifier
        self._admin_key = admin_key
        self._caller = Caller()
        self._session_id: str | None = None  # from Connect: names the session's requests
        self._query_set: int = 0
        self._identity: int = 0
        self._ts: int = 0
        self._queries: dict[int, tuple[QueryKey, Any]] = {}  # id -> (key, wire args)
        self._ids: dict[QueryKey, set[int]] = {}  # the ids subscribed to each key
        self._dirty: set[QueryKey] = set()  # keys whose results may have changed
        self._refresh_queued = False
        self._sent: dict[int, Outcome] = {}  # id -> the outcome last sent
        self._events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        # each with the caller it was sent as: a later Authenticate does not change it
        self._mutations: asyncio.Queue[tuple[Mutation, Caller]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pending = {"Mutation": 0, "Action": 0}
        self._unread = 0
        self._room = asyncio.Event()  # set while fewer than MAX_UNREAD messages wait
        self._room.set()
        self._last_sent = time.monotonic()

    def _wake(self, key: QueryKey) -> None:
        """One of this connection's queries may have a new result: refresh it (one queued
        refresh serves every wake until it runs)."""
        self._dirty.add(key)
        if not self._refresh_queued:
            self._refresh_queued = True
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
        except SessionAuthError as error:
            await self._send(
                {
                    "type": "AuthError",
                    "error": error.message,
                    "baseVersion": self._identity,
                    "authUpdateAttempted": error.update_attempted,
                }
            )
            await self._socket.close(code=1000)
        except TooManyOperations as error:
            await self._socket.close(code=1013, reason=str(error)[:123])
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client went away
        finally:
            for task in self._tasks:
                task.cancel()
            for key in self._ids:
                self._subscriptions.unsubscribe(key, self._wake)

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self) -> None:
        try:
            while True:
                received = await self._socket.receive()
                if received["type"] == "websocket.disconnect":
                    break
                text = received.get("text")
                if text is None:
                    await self._events.put(("invalid", "the sync protocol's messages are text"))
                    return
                if len(text) > MAX_MESSAGE_BYTES:
                    await self._events.put(("invalid", "message too large"))
                    return
                try:
                    message = parse_json(text)
                except (ValueError, RecursionError):  # RecursionError: nested too deep to parse
                    await self._events.put(("invalid", "a message was not JSON"))
                    return
                self._unread += 1
                if self._unread >= MAX_UNREAD:
                    self._room.clear()
                await self._events.put(("message", message))
                await self._room.wait()
        except (WebSocketDisconnect, RuntimeError):
            pass
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
                self._unread -= 1
                self._room.set()
                await self._handle(payload)
            elif kind == "refresh":
                self._refresh_queued = False
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

    async def _handle(self, frame: Any) -> None:
        try:
            message = parse_client_message(frame)
        except MessageError as error:
            raise ProtocolError(str(error)) from None
        if isinstance(message, Connect):
            self._session_id = _session_id(message.session_id)
        elif isinstance(message, ModifyQuerySet):
            await self._modify_query_set(message)
        elif isinstance(message, Authenticate):
            await self._authenticate(message)
        elif isinstance(message, Mutation):
            self._count_pending("Mutation")
            self._mutations.put_nowait((message, self._current_caller()))
        elif isinstance(message, Action):
            self._count_pending("Action")
            self._spawn(self._action(message, self._current_caller()))

    async def _modify_query_set(self, message: ModifyQuerySet) -> None:
        if message.base_version != self._query_set:
            raise ProtocolError(
                f"ModifyQuerySet from version {message.base_version}, but the query set is at {self._query_set}"
            )
        removed: list[int] = []
        refused: list[dict[str, Any]] = []
        for change in message.modifications:
            self._remove(change.query_id)
            if isinstance(change, Remove):
                removed.append(change.query_id)
            elif len(self._queries) >= MAX_QUERIES:
                refused.append(_modification(change.query_id, TOO_MANY_QUERIES))
            else:
                args: Any = [{}] if change.args is None else change.args
                self._add(change.query_id, query_key(change.udf_path, args, self._caller), args)
        await self._transition(query_set=message.new_version, removed=removed, refused=refused)

    def _add(self, query_id: int, key: QueryKey, args: Any) -> None:
        self._queries[query_id] = (key, args)
        ids = self._ids.get(key)
        if ids is None:
            ids = self._ids[key] = set()
            self._subscriptions.subscribe(key, self._wake)
        ids.add(query_id)
        self._dirty.add(key)

    def _remove(self, query_id: int) -> None:
        self._sent.pop(query_id, None)
        entry = self._queries.pop(query_id, None)
        if entry is None:
            return
        key = entry[0]
        ids = self._ids[key]
        ids.discard(query_id)
        if not ids:
            del self._ids[key]
            self._dirty.discard(key)
            self._subscriptions.unsubscribe(key, self._wake)

    async def _authenticate(self, message: Authenticate) -> None:
        try:
            if message.token_type == "User":
                caller = Caller(await self._verifier.verify(message.value or ""))
            elif message.token_type == "Admin":
                if not is_admin_key(message.value, self._admin_key):
                    raise AuthenticationError(message="the admin key is not valid")
                caller = Caller(admin=True)
            else:
                caller = Caller()
        except AuthenticationError as error:
            raise SessionAuthError(str(error), update_attempted=True) from None
        self._caller = caller
        for key in self._ids:
            self._subscriptions.unsubscribe(key, self._wake)
        queries, self._queries, self._ids, self._dirty = self._queries, {}, {}, set()
        for query_id, (old_key, args) in queries.items():
            self._add(query_id, query_key(old_key[0], args, caller), args)
        self._sent.clear()  # every result is sent again under the new identity
        await self._transition(identity=message.base_version + 1)

    def _count_pending(self, kind: str) -> None:
        if self._pending[kind] >= MAX_PENDING:
            raise TooManyOperations(
                f"Too many concurrent {kind.lower()}s: only up to {MAX_PENDING} may be pending "
                "on one connection"
            )
        self._pending[kind] += 1

    def _current_caller(self) -> Caller:
        """Who calls now; a user whose token has expired since is refused (SessionAuthError)."""
        if self._caller.expired(time.time()):
            raise SessionAuthError("the token expired", update_attempted=False)
        return self._caller

    async def _run_mutations(self) -> None:
        while True:
            message, caller = await self._mutations.get()
            # one that has begun commits even if the client goes meanwhile, as over HTTP
            response = await self._finish(self._request("MutationResponse", message, caller))
            self._pending["Mutation"] -= 1
            await self._events.put(("response", response))

    async def _action(self, message: Action, caller: Caller) -> None:
        response = await self._request("ActionResponse", message, caller)
        self._pending["Action"] -= 1
        await self._events.put(("response", response))

    async def _request(
        self, kind: str, message: Mutation | Action, caller: Caller
    ) -> dict[str, Any]:
        request_id = message.request_id
        mutation = kind == "MutationResponse"
        session = self._session_id
        once = SessionRequest(session, request_id) if mutation and session else None
        try:
            outcome = await self._functions.call(
                message.udf_path,
                [{}] if message.args is None else message.args,
                caller,
                "mutation" if mutation else "action",
                request=once,
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
            if mutation:
                response["ts"] = encode_ts(outcome.ts or self._functions.deployment.last_ts())
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
        refused: list[dict[str, Any]] | None = None,
        always: bool = False,
    ) -> None:
        """Bring the client's queries up to date and send one Transition."""
        caller = self._current_caller()  # an expired identity gets no fresh results
        modifications: list[dict[str, Any]] = [
            {"type": "QueryRemoved", "queryId": q} for q in removed or []
        ]
        modifications += refused or []
        deployment = self._functions.deployment
        for _ in range(100):
            if not self._dirty:
                break  # every result is current as of now: the transition can say so
            modifications += await self._refresh(caller)
        start: tuple[int, int, int] = (self._query_set, self._identity, self._ts)
        end: tuple[int, int, int] = (
            self._query_set if query_set is None else query_set,
            self._identity if identity is None else identity,
            max(self._ts, deployment.last_ts()),
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

    async def _refresh(self, caller: Caller) -> list[dict[str, Any]]:
        """Fresh results of the queries whose keys are dirty; what changed for the client.
        REFRESH_BATCH queries run at a time (side by side, on the workers), and the event
        loop has a turn between batches, so a connection with many queries never holds
        up the others."""
        modifications: list[dict[str, Any]] = []
        dirty, self._dirty = list(self._dirty), set()
        for start in range(0, len(dirty), REFRESH_BATCH):
            if start:
                await asyncio.sleep(0)  # the other connections' turn
            batch = [key for key in dirty[start : start + REFRESH_BATCH] if self._ids.get(key)]
            if len(batch) == 1:  # the common case: no tasks to gather
                outcomes = [await self._result(batch[0], caller)]
            else:
                outcomes = await asyncio.gather(*(self._result(key, caller) for key in batch))
            for key, outcome in zip(batch, outcomes, strict=True):
                for query_id in sorted(self._ids.get(key, ())):  # removed meanwhile: none
                    if not _same(self._sent.get(query_id), outcome):
                        self._sent[query_id] = outcome
                        modifications.append(_modification(query_id, outcome))
        return modifications

    async def _result(self, key: QueryKey, caller: Caller) -> Outcome:
        args = self._queries[next(iter(self._ids[key]))][1]
        try:
            return await self._subscriptions.result(key, args, caller)
        except RequestError as error:
            return Outcome(False, error_message=error.message)


TOO_MANY_QUERIES = Outcome(
    False,
    error_message=f"Too many queries on this connection: at most {MAX_QUERIES} may be "
    "subscribed at once; remove some before adding more",
)


def _session_id(text: str) -> str:
    """A Connect message's `sessionId` (a UUID, as Convex's clients make it), in the
    canonical form."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise ProtocolError(f"Connect: sessionId must be a UUID, not {text!r:.60}") from None


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
