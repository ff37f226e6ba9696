"""The sync protocol's client messages, as types, read strictly at the edge.

Each message a client may send is an attrs class; `parse_client_message` turns a decoded
JSON frame into one (cattrs, a tagged union on `type`), checking every field as Convex's
backend does (`crates/convex/sync_types/src/types/json.rs`): ids and versions are u32,
strings are strings, optional fields may be missing or null, and nothing is coerced (the
string "0" is not the number 0, `true` is not 1). A message that does not parse is a
`MessageError`, which ends the connection with a FatalError, as Convex's "Received
Invalid JSON on websocket" does.
"""

from __future__ import annotations

import re
from typing import Any, Literal, cast

import attrs
import cattrs
from cattrs.strategies import configure_tagged_union

from confect.server.protocol import I64, U32, Ts
from confect.server.protocol._wire import camel, converter


class MessageError(Exception):
    """A client frame that is not a sync-protocol message; says what is wrong where."""


@attrs.frozen
class Connect:
    session_id: str
    connection_count: U32
    last_close_reason: str | None = None
    max_observed_timestamp: Ts | None = None
    client_ts: I64 | None = None


@attrs.frozen
class Add:
    query_id: U32
    udf_path: str
    args: Any = None
    journal: str | None = None
    component_path: str | None = None


@attrs.frozen
class Remove:
    query_id: U32


@attrs.frozen
class ModifyQuerySet:
    base_version: U32
    new_version: U32
    modifications: list[Add | Remove]


@attrs.frozen
class _Call:
    """A request to run a function: a Mutation or an Action (they have the same fields)."""

    request_id: U32
    udf_path: str
    args: Any = None
    component_path: str | None = None


@attrs.frozen
class Mutation(_Call):
    pass


@attrs.frozen
class Action(_Call):
    pass


@attrs.frozen
class Authenticate:
    base_version: U32
    token_type: Literal["Admin", "User", "None"]
    value: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.token_type != "None" and self.value is None:
            raise ValueError(f"tokenType {self.token_type!r} needs a value")


@attrs.frozen
class Event:
    event_type: str
    event: Any = None


ClientMessage = Connect | ModifyQuerySet | Mutation | Action | Authenticate | Event


def parse_client_message(frame: Any) -> ClientMessage:
    """The message a decoded JSON frame holds; raises `MessageError` saying why not."""
    if not isinstance(frame, dict):
        raise MessageError("a message must be a JSON object")
    fields = cast(dict[str, Any], frame)
    try:
        message = cast(ClientMessage, converter.structure(fields, ClientMessage))  # pyright: ignore[reportArgumentType, reportUnknownArgumentType]
    except Exception as error:
        raise MessageError(_describe(error, fields)) from None
    return message


def _describe(error: Exception, frame: dict[str, Any]) -> str:
    kind = frame.get("type")
    if isinstance(error, cattrs.BaseValidationError):
        found = cattrs.transform_error(error, path=str(kind), format_exception=_problem)
        problems = _WIRE_NAME.sub(lambda m: "." + camel(m.group(1)), "; ".join(found))
    elif kind not in _TAGS:
        problems = "unknown message type"
    else:
        problems = str(error)
    return f"Received an invalid {kind!r:.40} message: {problems}"[:1000]


def _problem(error: BaseException, _: Any) -> str:
    if isinstance(error, KeyError):
        return "required field missing"
    return str(error) or type(error).__name__


_WIRE_NAME = re.compile(r"\.([a-z0-9]+(?:_[a-z0-9]+)+)")
_TAGS = {"Connect", "ModifyQuerySet", "Mutation", "Action", "Authenticate", "Event"}


def _tag_of(cls: Any) -> str:
    return cls.__name__


configure_tagged_union(Add | Remove, converter, tag_name="type", tag_generator=_tag_of)
configure_tagged_union(ClientMessage, converter, tag_name="type", tag_generator=_tag_of)
