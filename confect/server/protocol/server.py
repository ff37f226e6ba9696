"""The sync protocol's server messages, as types written once at the edge: what Convex's
clients read (`src/browser/sync/protocol.ts` in the npm package, `ServerMessage`).

Each message is an attrs class whose `type` (and, for a response, `success`) is a field of
its own that the constructor does not take; `encode` writes a message as the JSON text of
a frame, `parse_server_message` reads one back (strictly, as the client messages are
read). Optional fields keep the wire's distinction: `journal` is always sent (null for an
empty one), `errorData` only when a function threw a `ConvexError` (`ABSENT` otherwise).

Not frozen, unlike the client messages: a Transition is built for every change a
subscriber sees, and a frozen class costs about twice as much to build; nothing mutates
a message once built.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

import attrs

from confect.runtime.logs import wire_lines
from confect.server.protocol import ABSENT, U32, Ts
from confect.server.protocol._wire import converter, error_data

if TYPE_CHECKING:
    from confect.server.calls import Outcome


@attrs.define
class StateVersion:
    """Where a client's state is: its query set, its identity and the timestamp its
    results are current as of."""

    query_set: U32
    identity: U32
    ts: Ts


@attrs.define
class QueryUpdated:
    type: Literal["QueryUpdated"] = attrs.field(default="QueryUpdated", init=False)
    query_id: U32
    value: Any
    log_lines: list[str]
    journal: str | None = None


@attrs.define
class QueryFailed:
    type: Literal["QueryFailed"] = attrs.field(default="QueryFailed", init=False)
    query_id: U32
    error_message: str
    log_lines: list[str]
    journal: str | None = None
    error_data: Any = ABSENT


@attrs.define
class QueryRemoved:
    type: Literal["QueryRemoved"] = attrs.field(default="QueryRemoved", init=False)
    query_id: U32


StateModification = QueryUpdated | QueryFailed | QueryRemoved


@attrs.define
class Transition:
    """The client's queries from `start_version` (the version it holds) to `end_version`."""

    type: Literal["Transition"] = attrs.field(default="Transition", init=False)
    start_version: StateVersion
    end_version: StateVersion
    modifications: list[StateModification]


@attrs.define
class TransitionChunk:
    """One part of a Transition's JSON text too long for one frame."""

    type: Literal["TransitionChunk"] = attrs.field(default="TransitionChunk", init=False)
    transition_id: str
    part_number: U32
    total_parts: U32
    chunk: str


@attrs.define
class MutationSuccess:
    type: Literal["MutationResponse"] = attrs.field(default="MutationResponse", init=False)
    request_id: U32
    success: Literal[True] = attrs.field(default=True, init=False)
    log_lines: list[str]
    result: Any
    ts: Ts


@attrs.define
class MutationFailed:
    """A failed mutation: `result` is its error message, which goes out a second time as
    `errorMessage` (the clients read `result`)."""

    type: Literal["MutationResponse"] = attrs.field(default="MutationResponse", init=False)
    request_id: U32
    success: Literal[False] = attrs.field(default=False, init=False)
    log_lines: list[str]
    result: str
    error_message: str = attrs.field(
        init=False, default=attrs.Factory(lambda self: self.result, takes_self=True)
    )
    error_data: Any = ABSENT


@attrs.define
class ActionSuccess:
    type: Literal["ActionResponse"] = attrs.field(default="ActionResponse", init=False)
    request_id: U32
    success: Literal[True] = attrs.field(default=True, init=False)
    log_lines: list[str]
    result: Any


@attrs.define
class ActionFailed:
    """A failed action: `result` is its error message, also sent as `errorMessage`."""

    type: Literal["ActionResponse"] = attrs.field(default="ActionResponse", init=False)
    request_id: U32
    success: Literal[False] = attrs.field(default=False, init=False)
    log_lines: list[str]
    result: str
    error_message: str = attrs.field(
        init=False, default=attrs.Factory(lambda self: self.result, takes_self=True)
    )
    error_data: Any = ABSENT


@attrs.define
class AuthError:
    """The connection's identity was refused; `auth_update_attempted` says whether in
    answer to an Authenticate (or because a token expired meanwhile)."""

    type: Literal["AuthError"] = attrs.field(default="AuthError", init=False)
    error: str
    base_version: U32
    auth_update_attempted: bool


@attrs.define
class FatalError:
    type: Literal["FatalError"] = attrs.field(default="FatalError", init=False)
    error: str


@attrs.define
class Ping:
    type: Literal["Ping"] = attrs.field(default="Ping", init=False)


ServerMessage = (
    Transition
    | TransitionChunk
    | MutationSuccess
    | MutationFailed
    | ActionSuccess
    | ActionFailed
    | AuthError
    | FatalError
    | Ping
)


def encode(message: ServerMessage) -> str:
    """The JSON text of the frame that carries `message`."""
    return json.dumps(converter.unstructure(message))


def parse_server_message(frame: Any) -> ServerMessage:
    """The message a decoded JSON frame holds, read as strictly as a client's messages
    are (what a client of this server reads); raises if it holds none."""
    return cast(ServerMessage, converter.structure(frame, ServerMessage))  # pyright: ignore[reportArgumentType]


def state_modification(query_id: U32, outcome: Outcome) -> QueryUpdated | QueryFailed:
    """What a query's new outcome changes for the client."""
    if outcome.success:
        return QueryUpdated(
            query_id=query_id,
            value=outcome.value,
            log_lines=wire_lines(outcome.log_lines),
            journal=outcome.journal,
        )
    return QueryFailed(
        query_id=query_id,
        error_message=outcome.error_message,
        log_lines=wire_lines(outcome.log_lines),
        error_data=error_data(outcome),
    )


def mutation_response(
    request_id: U32, outcome: Outcome, ts: int
) -> MutationSuccess | MutationFailed:
    """The answer to a mutation; `ts` is its commit's (sent on success only)."""
    if outcome.success:
        return MutationSuccess(
            request_id=request_id,
            log_lines=wire_lines(outcome.log_lines),
            result=outcome.value,
            ts=Ts(ts),
        )
    return MutationFailed(
        request_id=request_id,
        log_lines=wire_lines(outcome.log_lines),
        result=outcome.error_message,
        error_data=error_data(outcome),
    )


def action_response(request_id: U32, outcome: Outcome) -> ActionSuccess | ActionFailed:
    """The answer to an action."""
    if outcome.success:
        return ActionSuccess(
            request_id=request_id, log_lines=wire_lines(outcome.log_lines), result=outcome.value
        )
    return ActionFailed(
        request_id=request_id,
        log_lines=wire_lines(outcome.log_lines),
        result=outcome.error_message,
        error_data=error_data(outcome),
    )


# --- the converter's hooks for the unions --------------------------------------------------------
# A union is read by its tags. A transition's modifications are written by each class's own
# writer, looked up by class: cattrs' dispatch for a list of a union takes twice as long, and
# a transition may carry thousands.


def _tags(cls: type[Any]) -> tuple[object, object]:
    """What tells a message class on the wire: its `type`, and its `success` if any."""
    fields = attrs.fields_dict(cls)
    success = fields.get("success")
    return fields["type"].default, None if success is None else success.default


def _read_tagged(union: Any) -> None:
    by_tags = {_tags(cls): cls for cls in get_args(union)}

    def read(frame: Any, _: Any) -> Any:
        fields = cast(dict[str, Any], frame)
        return converter.structure(fields, by_tags[fields["type"], fields.get("success")])

    converter.register_structure_hook(union, read)


def _write_modifications(modifications: list[StateModification]) -> list[dict[str, Any]]:
    return [_writers[m.__class__](m) for m in modifications]


_writers = {cls: converter.get_unstructure_hook(cls) for cls in get_args(StateModification)}
_read_tagged(StateModification)
_read_tagged(ServerMessage)
converter.register_unstructure_hook_func(
    lambda kind: kind == list[StateModification], _write_modifications
)
