"""The sync protocol's client messages, as types, read strictly at the edge; and its
timestamps (base64 of 8 little-endian bytes), which the HTTP API shares.

Each message a client may send is an attrs class; `parse_client_message` turns a decoded
JSON frame into one (cattrs, a tagged union on `type`), checking every field as Convex's
backend does (`crates/convex/sync_types/src/types/json.rs`): ids and versions are u32,
strings are strings, optional fields may be missing or null, and nothing is coerced (the
string "0" is not the number 0, `true` is not 1). A message that does not parse is a
`MessageError`, which ends the connection with a FatalError, as Convex's "Received
Invalid JSON on websocket" does.
"""

from __future__ import annotations

import base64
import re
import struct
from typing import Any, Literal, NewType, cast

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override
from cattrs.strategies import configure_tagged_union

U32 = NewType("U32", int)
"""A u32 on the wire: query ids, request ids, query-set and identity versions, counts."""
I64 = NewType("I64", int)
Ts = NewType("Ts", int)
"""A timestamp: base64 of 8 little-endian bytes on the wire, an int here."""

MAX_U32 = 2**32 - 1


def encode_ts(ts: int) -> str:
    """A timestamp as the clients read it: base64 of 8 little-endian bytes."""
    return base64.b64encode(struct.pack("<Q", ts)).decode()


def decode_ts(text: object) -> int | None:
    """The timestamp `encode_ts` wrote, or None if `text` is not one (Convex's timestamps
    are below 2**63, as its `Timestamp` type requires)."""
    try:
        raw = base64.b64decode(str(text), validate=True)
    except ValueError:
        return None
    if len(raw) != 8:
        return None
    ts: int = struct.unpack("<Q", raw)[0]
    return ts if ts < 1 << 63 else None


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
        message = cast(ClientMessage, _converter.structure(fields, ClientMessage))  # pyright: ignore[reportArgumentType, reportUnknownArgumentType]
    except Exception as error:
        raise MessageError(_describe(error, fields)) from None
    return message


def _describe(error: Exception, frame: dict[str, Any]) -> str:
    kind = frame.get("type")
    if isinstance(error, cattrs.BaseValidationError):
        found = cattrs.transform_error(error, path=str(kind), format_exception=_problem)
        problems = _WIRE_NAME.sub(lambda m: "." + _camel(m.group(1)), "; ".join(found))
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


# --- the converter -------------------------------------------------------------------------------


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _strict_str(value: Any, _: Any) -> str:
    if type(value) is not str:
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _u32(value: Any, _: Any) -> int:
    if type(value) is not int or not 0 <= value <= MAX_U32:
        raise ValueError(f"expected an integer from 0 to {MAX_U32}, got {value!r:.40}")
    return value


def _i64(value: Any, _: Any) -> int:
    if type(value) is not int or not -(2**63) <= value < 2**63:
        raise ValueError(f"expected a 64-bit integer, got {value!r:.40}")
    return value


def _ts(value: Any, _: Any) -> int:
    ts = decode_ts(_strict_str(value, None))
    if ts is None:
        raise ValueError(f"expected a timestamp (base64 of 8 bytes), got {value!r:.40}")
    return ts


def _any(value: Any, _: Any) -> Any:
    return value


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=False)  # as serde: unknown fields ignored
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(U32, _u32)
    converter.register_structure_hook(I64, _i64)
    converter.register_structure_hook(Ts, _ts)
    converter.register_structure_hook(Any, _any)

    def strict_list(value: Any, kind: Any) -> list[Any]:
        if type(value) is not list:
            raise TypeError(f"expected an array, got {type(value).__name__}")
        (item,) = kind.__args__
        entries = cast(list[Any], value)
        return [converter.structure(entry, item) for entry in entries]

    def camel_case_fields(cls: Any) -> Any:
        renames = {a.name: override(rename=_camel(a.name)) for a in attrs.fields(cls)}
        return make_dict_structure_fn(cls, converter, **renames)  # pyright: ignore[reportArgumentType]

    def tag_of(cls: Any) -> str:
        return cls.__name__

    converter.register_structure_hook_func(
        lambda kind: getattr(kind, "__origin__", None) is list, strict_list
    )
    converter.register_structure_hook_factory(attrs.has, camel_case_fields)
    configure_tagged_union(Add | Remove, converter, tag_name="type", tag_generator=tag_of)
    configure_tagged_union(ClientMessage, converter, tag_name="type", tag_generator=tag_of)
    return converter


_converter = _make_converter()
