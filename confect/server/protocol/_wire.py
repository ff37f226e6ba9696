"""The one cattrs converter that reads and writes every message type of the wire.

The converter is strict when it reads (nothing is coerced: the string "0" is not the
number 0, `true` is not 1; unknown fields are ignored, as serde ignores them) and fast when
it writes: the values a message carries are wire JSON already, so they are passed through
rather than walked, and each class's writer is a single dict display (`write_fields`).
Field names are snake_case here and camelCase on the wire.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, cast, get_origin

import attrs
import cattrs
from cattrs.fns import identity
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from confect.server.protocol import ABSENT, I64, MAX_U32, U32, Ts, decode_ts, encode_ts

if TYPE_CHECKING:
    from confect.server.calls import Outcome


def error_data(outcome: Outcome) -> Any:
    """A failed outcome's `errorData`: the data of the `ConvexError` it threw, ABSENT if none."""
    return outcome.error_data if outcome.has_error_data else ABSENT


def camel(name: str) -> str:
    """A snake_case field name as the wire spells it."""
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


def _is_list(kind: Any) -> bool:
    return get_origin(kind) is list


def _passed_through(kind: Any) -> bool:
    """Types whose values are written as they are: JSON values, tags, log lines, journals."""
    return kind is Any or get_origin(kind) is Literal or kind in (list[str], str | None)


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=False)  # as serde: unknown fields ignored
    converter.register_structure_hook(str, _strict_str)
    converter.register_structure_hook(U32, _u32)
    converter.register_structure_hook(I64, _i64)
    converter.register_structure_hook(Ts, _ts)
    converter.register_structure_hook(Any, _any)
    converter.register_unstructure_hook(Ts, encode_ts)
    converter.register_unstructure_hook_func(_passed_through, identity)

    def strict_list(value: Any, kind: Any) -> list[Any]:
        if type(value) is not list:
            raise TypeError(f"expected an array, got {type(value).__name__}")
        (item,) = kind.__args__
        entries = cast(list[Any], value)
        return [converter.structure(entry, item) for entry in entries]

    def read_fields(cls: Any) -> Any:
        renames = {a.name: override(rename=camel(a.name)) for a in attrs.fields(cls)}
        return make_dict_structure_fn(cls, converter, **renames)  # pyright: ignore[reportArgumentType]

    def write_fields(cls: Any) -> Any:
        # a tag (an `init=False` field) is written; a field at its ABSENT default is not
        renames = {
            a.name: override(rename=camel(a.name), omit_if_default=a.default is ABSENT)
            for a in attrs.fields(cls)
        }
        return make_dict_unstructure_fn(cls, converter, _cattrs_include_init_false=True, **renames)  # pyright: ignore[reportArgumentType]

    converter.register_structure_hook_func(_is_list, strict_list)
    converter.register_structure_hook_factory(attrs.has, read_fields)
    converter.register_unstructure_hook_factory(attrs.has, write_fields)
    return converter


converter = _make_converter()
"""Reads and writes every message type of the wire."""
