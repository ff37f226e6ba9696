"""A raw sync-protocol client (websockets' synchronous one) that sends anything, and the
judgement of what the server did with it.

What a server may do with a frame, as Convex does (convex-backend
`crates/local_backend/src/subs/mod.rs`, `crates/convex/sync_types/src/types/json.rs`):
a message it cannot parse (not JSON, not an object, an unknown type, a field of the wrong
type or missing) ends the connection with a `FatalError`; a call it can parse but not run
(arguments that are no Convex values, a function that does not exist) is answered as
failed, and the connection goes on. Nothing may end a connection silently, and nothing
may leave a later request unanswered.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import uuid
from typing import Any

import attrs
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from .checks import strict_json

WAIT_SECONDS = 10.0
"""How long to wait for the next message before calling the server stuck (a bound on a
wait, never a measure of speed)."""
MAX_MESSAGES = 200
FIRST_REQUEST_ID = 3_000_000_000
"""Where this client's own request ids start: away from the small ids that tests send."""


@attrs.define
class Answer:
    """What came back after some frames: the messages (pings left out), and whether the
    server then closed the connection (with which code)."""

    messages: list[dict[str, Any]] = attrs.field(factory=list)
    closed: bool = False
    close_code: int | None = None
    request_id: int | None = None  # of the last call made with `SyncClient.call`

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [message for message in self.messages if message.get("type") == kind]

    def response(self, request_id: int) -> dict[str, Any] | None:
        """The MutationResponse or ActionResponse to `request_id`, if one came."""
        for message in self.messages:
            if (
                message.get("type") in ("MutationResponse", "ActionResponse")
                and message.get("requestId") == request_id
            ):
                return message
        return None

    def answered(self) -> Any:
        """The result of the last call made with `SyncClient.call`; fails unless it
        succeeded."""
        assert self.request_id is not None
        response = self.response(self.request_id)
        assert response is not None, f"the call went unanswered: {self}"
        assert response["success"] is True, response
        return response["result"]

    def fatal(self) -> dict[str, Any] | None:
        """The FatalError, if the server sent one as its last message and then closed."""
        if self.closed and self.messages and self.messages[-1].get("type") == "FatalError":
            return self.messages[-1]
        return None


class SyncClient:
    """One connection to `/api/sync` (or `path`), with a `Connect` sent first unless
    `connect_first` is False."""

    def __init__(self, address: str, path: str = "/api/sync", connect_first: bool = True) -> None:
        self.url = f"ws://{address}{path}"
        self.connect_first = connect_first
        self.session_id = str(uuid.uuid4())
        self._request_ids = itertools.count(FIRST_REQUEST_ID)
        self._open = contextlib.ExitStack()

    def __enter__(self) -> SyncClient:
        self.socket: ClientConnection = self._open.enter_context(
            connect(
                self.url,
                open_timeout=WAIT_SECONDS,
                close_timeout=WAIT_SECONDS,
                max_size=None,
                compression=None,
            )
        )
        if self.connect_first:
            self.send(
                {
                    "type": "Connect",
                    "sessionId": self.session_id,
                    "connectionCount": 0,
                    "lastCloseReason": "InitialConnect",
                    "clientTs": 0,
                }
            )
        return self

    def __exit__(self, *_: object) -> None:
        self._open.close()

    def next_request_id(self) -> int:
        return next(self._request_ids)

    def send(self, frame: dict[str, Any] | str | bytes, *, text: bool | None = None) -> None:
        """Send a message, JSON text as given (lone surrogates go out as bytes, which only
        a text frame of invalid UTF-8 can carry), or bytes (a binary frame unless `text`)."""
        if isinstance(frame, dict):
            frame = json.dumps(frame)
        if isinstance(frame, str):
            frame, text = frame.encode("utf-8", "surrogatepass"), True
        with contextlib.suppress(ConnectionClosed):  # closed first: what it said is answer
            self.socket.send(frame, text=text)

    def read_until(self, done: Any, answer: Answer | None = None) -> Answer:
        """Messages until `done(answer)` holds or the server closes the connection; fails
        if the server says nothing for WAIT_SECONDS (it is stuck) or says too much."""
        answer = answer or Answer()
        while not done(answer):
            assert len(answer.messages) < MAX_MESSAGES, f"no end to the messages: {answer}"
            try:
                frame = self.socket.recv(timeout=WAIT_SECONDS)
            except TimeoutError:
                raise AssertionError(
                    f"the server sent nothing for {WAIT_SECONDS} s; it was answering: {answer}"
                ) from None
            except ConnectionClosed as closed:
                answer.closed = True
                answer.close_code = None if closed.rcvd is None else closed.rcvd.code
                return answer
            assert isinstance(frame, str), f"a binary frame from the server: {frame!r}"
            message = strict_json(frame)
            assert isinstance(message, dict) and isinstance(message.get("type"), str), message
            if message["type"] != "Ping":
                answer.messages.append(message)
        return answer

    def call(self, kind: str, path: str, args: Any, answer: Answer | None = None) -> Answer:
        """Send a `kind` ("Mutation" or "Action") of `path` with `args` (JSON text, or a
        value for json.dumps); read until its response (or the connection closes). Its
        request id is the answer's `request_id`."""
        request_id = self.next_request_id()
        args_text = args if isinstance(args, str) else json.dumps(args)
        self.send(
            f'{{"type":"{kind}","requestId":{request_id},"udfPath":"{path}","args":{args_text}}}'
        )
        answer = self.read_until(lambda a: a.response(request_id) is not None, answer)
        answer.request_id = request_id
        return answer

    def probe(self, answer: Answer | None = None) -> Answer:
        """A well-formed mutation, read until its response (see `answered`)."""
        return self.call("Mutation", "wire:echo_mutation", [{"value": "probe"}], answer)


def assert_fatal(answer: Answer) -> None:
    """The server ended the connection with a FatalError that says what was wrong."""
    fatal = answer.fatal()
    assert fatal is not None, f"expected a FatalError, then the close: {answer}"
    assert isinstance(fatal.get("error"), str) and fatal["error"], fatal


def assert_answers_a_new_connection(address: str) -> None:
    """The server answers a well-formed mutation on a new connection."""
    with SyncClient(address) as client:
        assert client.probe().answered() == "probe"
