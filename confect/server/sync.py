"""The WebSocket sync protocol, one `SyncSession` per connection.

The session keeps the client's version (query set, identity, ts) and answers each change
with one `Transition` from the version the client holds to the next. Incoming messages
and wake-ups from commits go through one queue, so transitions and responses leave in
order. Mutations of a connection run one after another (in send order); actions run
side by side. Each mutation response is followed by a transition that reaches its ts, and
no transition reaches that ts before the response (the connection holds its refreshes
while one of its mutations is unanswered), as Convex's optimistic updates need.

A transition longer than `part_chars` goes out as `TransitionChunk` parts to the clients
that reassemble them (the npm client from 1.28, which connects to `/api/<version>/sync`;
the Rust client behind the PyPI one connects to `/api/sync` and takes them whole).
"""

from __future__ import annotations

import asyncio
import enum
import time
import uuid
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from confect.app.auth_config import AuthenticationError, TokenVerifier
from confect.model.values import parse_json
from confect.server.calls import Caller, ClientCalls, Outcome, is_admin_key
from confect.server.protocol import U32, Ts
from confect.server.protocol.client import (
    Action,
    Authenticate,
    Connect,
    MessageError,
    ModifyQuerySet,
    Mutation,
    Remove,
    parse_client_message,
)
from confect.server.protocol.server import (
    AuthError,
    FatalError,
    MutationFailed,
    MutationSuccess,
    Ping,
    QueryRemoved,
    ServerMessage,
    StateModification,
    StateVersion,
    Transition,
    TransitionChunk,
    encode,
    state_modification,
)
from confect.server.query_set import QuerySet
from confect.server.session_calls import Finish, SessionCalls, TooManyOperations
from confect.server.subscriptions import Subscriptions

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


class ConnectionEvent(enum.Enum):
    """What a session's loop handles next, in the order they happened (with a payload)."""

    MESSAGE = enum.auto()  # a client frame (its decoded JSON)
    INVALID = enum.auto()  # the client sent what is no message (why not)
    CLOSED = enum.auto()  # the client went away
    PING = enum.auto()  # the connection has been quiet for PING_SECONDS
    REFRESH = enum.auto()  # a commit may have changed some queries' results
    RESPONSE = enum.auto()  # a call finished (its MutationResponse or ActionResponse)


class CloseCode(enum.IntEnum):
    """How a session closes its WebSocket (RFC 6455 close codes)."""

    NORMAL = 1000  # after an AuthError: the client reconnects and authenticates again
    POLICY_VIOLATION = 1008  # after a FatalError: the client broke the protocol
    TRY_AGAIN_LATER = 1013  # too many calls pending


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
        finish: Finish,
    ) -> None:
        """`part_chars`: split transitions longer than this into `TransitionChunk`s (None:
        the client does not take them). `finish` runs a mutation to its end even if the
        connection closes meanwhile (`Server.finish`)."""
        self._socket = websocket
        self._part_chars = part_chars
        self._transitions_split = 0
        self._functions = functions
        self._verifier = verifier
        self._admin_key = admin_key
        self._caller = Caller()
        self._calls = SessionCalls(functions, finish, self._responded, MAX_PENDING)
        self._version = StateVersion(query_set=U32(0), identity=U32(0), ts=Ts(0))
        self._queries = QuerySet(subscriptions, self._refresh_soon)
        self._refresh_queued = False
        self._events: asyncio.Queue[tuple[ConnectionEvent, Any]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._unread = 0
        self._room = asyncio.Event()  # set while fewer than MAX_UNREAD messages wait
        self._room.set()
        self._last_sent = time.monotonic()

    def _refresh_soon(self) -> None:
        """One of this connection's queries may have a new result: refresh them (one
        queued refresh serves every wake until it runs)."""
        if not self._refresh_queued:
            self._refresh_queued = True
            self._events.put_nowait((ConnectionEvent.REFRESH, None))

    async def _responded(self, response: ServerMessage) -> None:
        await self._events.put((ConnectionEvent.RESPONSE, response))

    # --- the connection's life -------------------------------------------------------------------

    async def run(self) -> None:
        await self._socket.accept()
        self._spawn(self._read())
        self._spawn(self._ping())
        try:
            await self._work()
        except ProtocolError as error:
            await self._send(FatalError(error=str(error)))
            await self._socket.close(code=CloseCode.POLICY_VIOLATION)
        except SessionAuthError as error:
            refused = AuthError(
                error=error.message,
                base_version=self._version.identity,
                auth_update_attempted=error.update_attempted,
            )
            await self._send(refused)
            await self._socket.close(code=CloseCode.NORMAL)
        except TooManyOperations as error:
            await self._socket.close(code=CloseCode.TRY_AGAIN_LATER, reason=str(error)[:123])
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client went away
        finally:
            for task in self._tasks:
                task.cancel()
            self._calls.close()
            self._queries.close()

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
                    await self._invalid("the sync protocol's messages are text")
                    return
                if len(text) > MAX_MESSAGE_BYTES:
                    await self._invalid("message too large")
                    return
                try:
                    message = parse_json(text)
                except (ValueError, RecursionError):  # RecursionError: nested too deep to parse
                    await self._invalid("a message was not JSON")
                    return
                self._unread += 1
                if self._unread >= MAX_UNREAD:
                    self._room.clear()
                await self._events.put((ConnectionEvent.MESSAGE, message))
                await self._room.wait()
        except (WebSocketDisconnect, RuntimeError):
            pass
        await self._events.put((ConnectionEvent.CLOSED, None))

    async def _invalid(self, why: str) -> None:
        await self._events.put((ConnectionEvent.INVALID, why))

    async def _ping(self) -> None:
        """Ask for a Ping whenever the connection has been quiet for PING_SECONDS."""
        while True:
            quiet = time.monotonic() - self._last_sent
            if quiet >= PING_SECONDS:
                self._events.put_nowait((ConnectionEvent.PING, None))
                quiet = 0.0
            await asyncio.sleep(PING_SECONDS - quiet)

    async def _work(self) -> None:
        while True:
            event, payload = await self._events.get()
            if event is ConnectionEvent.PING:
                await self._send(Ping())
            elif event is ConnectionEvent.CLOSED:
                return
            elif event is ConnectionEvent.INVALID:
                raise ProtocolError(payload)
            elif event is ConnectionEvent.MESSAGE:
                self._unread -= 1
                self._room.set()
                await self._handle(payload)
            elif event is ConnectionEvent.REFRESH:
                self._refresh_queued = False
                if not self._calls.unanswered_mutations:  # else the response's transition
                    await self._transition()
            elif event is ConnectionEvent.RESPONSE:
                await self._send(payload)
                if isinstance(payload, MutationSuccess | MutationFailed):
                    self._calls.unanswered_mutations -= 1
                    await self._transition(always=True)

    async def _send(self, message: ServerMessage) -> None:
        await self._send_text(encode(message))

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
            self._calls.session_id = _session_id(message.session_id)
        elif isinstance(message, ModifyQuerySet):
            await self._modify_query_set(message)
        elif isinstance(message, Authenticate):
            await self._authenticate(message)
        elif isinstance(message, Mutation | Action):
            self._calls.submit(message, self._current_caller())

    async def _modify_query_set(self, message: ModifyQuerySet) -> None:
        if message.base_version != self._version.query_set:
            raise ProtocolError(
                f"ModifyQuerySet from version {message.base_version}, but the query set is at {self._version.query_set}"
            )
        removed: list[StateModification] = []
        refused: list[StateModification] = []
        for change in message.modifications:
            self._queries.remove(change.query_id)
            if isinstance(change, Remove):
                removed.append(QueryRemoved(query_id=change.query_id))
            elif len(self._queries) >= MAX_QUERIES:
                refused.append(state_modification(change.query_id, TOO_MANY_QUERIES))
            else:
                args: Any = [{}] if change.args is None else change.args
                self._queries.add(
                    change.query_id, change.udf_path, args, self._caller, change.journal
                )
        await self._transition([*removed, *refused], query_set=message.new_version)

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
        self._queries.call_as(caller)
        await self._transition(identity=U32(message.base_version + 1))

    def _current_caller(self) -> Caller:
        """Who calls now; a user whose token has expired since is refused (SessionAuthError)."""
        if self._caller.expired(time.time()):
            raise SessionAuthError("the token expired", update_attempted=False)
        return self._caller

    # --- transitions -----------------------------------------------------------------------------

    async def _transition(
        self,
        modifications: list[StateModification] | None = None,
        query_set: U32 | None = None,
        identity: U32 | None = None,
        always: bool = False,
    ) -> None:
        """Bring the client's queries up to date and send one Transition (which begins
        with `modifications`)."""
        caller = self._current_caller()  # an expired identity gets no fresh results
        modifications = (modifications or []) + await self._queries.changes(caller)
        start = self._version
        end = StateVersion(
            query_set=start.query_set if query_set is None else query_set,
            identity=start.identity if identity is None else identity,
            ts=Ts(max(start.ts, self._functions.deployment.last_ts())),
        )
        if not modifications and end == start and not always:
            return
        text = encode(Transition(start_version=start, end_version=end, modifications=modifications))
        if self._part_chars is None or len(text) <= self._part_chars:
            await self._send_text(text)
        else:
            await self._send_in_parts(text, self._part_chars)
        self._version = end

    async def _send_in_parts(self, text: str, size: int) -> None:
        """A transition as `TransitionChunk`s, in order (only pings may come between)."""
        self._transitions_split += 1
        parts = [text[i : i + size] for i in range(0, len(text), size)]
        for number, part in enumerate(parts):
            chunk = TransitionChunk(
                transition_id=str(self._transitions_split),
                part_number=U32(number),
                total_parts=U32(len(parts)),
                chunk=part,
            )
            await self._send(chunk)


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
