"""The two JSON forms of a Convex value, and Convex's JSON parser.

The wire form is Convex's "convex_encoded_json" (`to_wire` writes it with the `convex`
package's `convex.values`; `from_wire` reads it, checking everything a client could get
wrong). Stored documents use the same JSON, except that a field name starting with `$` is
escaped, so no stored object can be mistaken for an encoded int64, float or bytes value.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import struct
from collections.abc import Callable
from typing import Any, cast

import convex.values as cv

from confect.model.errors import InvalidValueError
from confect.model.values._checks import (
    KNOWN_FIELD_NAMES,
    MAX_ARRAY,
    MAX_FIELDS,
    MAX_NESTING,
    Value,
    Where,
    check_container,
    check_field_names,
    path_of,
)

# --- wire encoding ---------------------------------------------------------------------------------


def to_wire(value: Value) -> Any:
    """The convex_encoded_json form of `value` (int64 as `{"$integer": ...}`)."""
    return cv.convex_to_json(_map_leaves(value, _tag_int))


def from_wire(data: Any, what: str = "value") -> Value:
    """The value that `data` (parsed convex_encoded_json) encodes.

    Anything else raises `InvalidValueError` naming the path of the first bad part (`what`
    names the root): a malformed `$integer`, `$float` or `$bytes`, a field name Convex
    refuses, a string that is not Unicode, nesting deeper than `MAX_NESTING` (refused before
    recursing further), an array or object over Convex's length limits. A plain JSON number
    (what `json.loads` gives for `5`) is a float64, as in Convex.
    """
    return _from_wire(data, (what,), 0)


def _from_wire(data: Any, where: Where, nesting: int) -> Value:
    if isinstance(data, str):
        if not data.isascii():
            _check_unicode(data, where)
        return data
    if isinstance(data, (bool, float)) or data is None:
        return data
    if isinstance(data, int):
        try:
            return float(data)
        except OverflowError:
            raise InvalidValueError(
                path=path_of(where), message="is out of a float64's range"
            ) from None
    if isinstance(data, list):
        items = cast(list[Any], data)
        check_container(where, nesting, len(items), MAX_NESTING, MAX_ARRAY, "items")
        return [_from_wire(item, (where, index), nesting + 1) for index, item in enumerate(items)]
    if isinstance(data, dict):
        fields = cast(dict[Any, Any], data)
        if len(fields) == 1:
            ((key, inner),) = fields.items()
            decode = _WIRE_SPECIAL.get(key)
            if decode is not None:
                return decode(inner, where)
        check_container(where, nesting, len(fields), MAX_NESTING, MAX_FIELDS, "fields")
        check_field_names(fields, where)
        return {key: _from_wire(item, (where, key), nesting + 1) for key, item in fields.items()}
    raise InvalidValueError(
        path=path_of(where), message=f"is a {type(data).__name__}, not a JSON value"
    )


def _check_unicode(text: str, where: Where) -> None:
    try:
        text.encode()
    except UnicodeEncodeError:
        raise InvalidValueError(
            path=path_of(where), message="is not valid Unicode (it has a lone surrogate)"
        ) from None


def _wire_base64(data: Any, where: Where, tag: str, size: int | None = None) -> bytes:
    if not isinstance(data, str):
        raise InvalidValueError(
            path=path_of(where), message=f"has {tag} {data!r}, not a base64 string"
        )
    try:
        raw = binascii.a2b_base64(data, strict_mode=True)
    except ValueError as error:
        raise InvalidValueError(
            path=path_of(where), message=f"has {tag} {data[:40]!r}, which is not base64: {error}"
        ) from None
    if size is not None and len(raw) != size:
        raise InvalidValueError(
            path=path_of(where), message=f"has {tag} of {len(raw)} bytes; it must be exactly {size}"
        )
    return raw


def _wire_int64(data: Any, where: Where) -> int:
    return _unpack_q_le(_wire_base64(data, where, "$integer", 8))[0]


def _wire_float64(data: Any, where: Where) -> float:
    value: float = _unpack_d_le(_wire_base64(data, where, "$float", 8))[0]
    if math.isfinite(value) and value != 0:
        raise InvalidValueError(
            path=path_of(where), message=f"has $float {value!r}, which is sent as a plain number"
        )
    return value


def _wire_bytes(data: Any, where: Where) -> bytes:
    return _wire_base64(data, where, "$bytes")


_WIRE_SPECIAL: dict[str, Callable[[Any, Where], Value]] = {
    "$integer": _wire_int64,
    "$float": _wire_float64,
    "$bytes": _wire_bytes,
}


def with_int64_markers(value: Value) -> Any:
    """`value` with each int64 as a `convex.ConvexInt64`, as the `convex` client expects
    (it sends a plain `int` as a float64)."""
    return _map_leaves(value, _tag_int)


def _tag_int(value: Any) -> Any:
    return cv.ConvexInt64(value) if type(value) is int else value


def _map_leaves(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """`value` with `leaf` applied to everything that is not a list or a dict."""
    if isinstance(value, list):
        return [_map_leaves(item, leaf) for item in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, dict):
        return {key: _map_leaves(item, leaf) for key, item in value.items()}  # pyright: ignore[reportUnknownVariableType]
    return leaf(value)


# --- stored encoding -------------------------------------------------------------------------------
#
# The wire JSON, with one change that makes it unambiguous: a field name that starts with `$`
# gets one more `$` in front. Convex refuses such names and so does every way into confect,
# but whatever a document holds, no object in it is ever stored as `{"$integer": ...}`.


def to_stored_json(value: Value) -> Any:
    """The stored JSON form of a value (a document), in one pass and without checks: a
    field name that starts with `$` is escaped, whatever the value holds. `from_stored_json`
    reads it back."""
    if type(value) is int:
        return {"$integer": base64.b64encode(_pack_q_le(value)).decode()}
    if type(value) is float:
        if (
            value != value
            or value in (math.inf, -math.inf)
            or (value == 0 and math.copysign(1, value) < 0)
        ):
            return {"$float": base64.b64encode(_pack_d_le(value)).decode()}
        return value
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, list):
        return [to_stored_json(item) for item in value]
    if isinstance(value, dict):
        if KNOWN_FIELD_NAMES.issuperset(value):  # names checked already: none starts with `$`
            return {key: to_stored_json(item) for key, item in value.items()}
        return {
            ("$" + key if key[:1] == "$" else key): to_stored_json(item)
            for key, item in value.items()
        }
    return value


_pack_q_le = struct.Struct("<q").pack
_pack_d_le = struct.Struct("<d").pack
_unpack_q_le = struct.Struct("<q").unpack
_unpack_d_le = struct.Struct("<d").unpack


def from_stored_json(text: str | bytes) -> Value:
    """Decode what `to_stored_json` wrote. Raises `ValueError` for text that is not a
    stored value: malformed JSON or UTF-8, a `$integer`, `$float` or `$bytes` that does not
    hold one, or a field name starting with one `$` (which nothing stores: names entering
    are refused, and escaped when stored); `RecursionError` for JSON nested deeper than
    Python can parse."""
    if isinstance(text, bytes):
        text = text.decode()
    if '"$' in text:  # maybe a special value or an escaped name (or a string like "$5")
        return _escaped_decoder.decode(text)
    return _stored_decoder.decode(text)


def _stored_base64(data: Any, size: int | None = None) -> bytes:
    if not isinstance(data, str):
        raise ValueError(f"{data!r} is not a base64 string")
    raw = binascii.a2b_base64(data, strict_mode=True)
    if size is not None and len(raw) != size:
        raise ValueError(f"{data!r} is {len(raw)} bytes, not {size}")
    return raw


_STORED_SPECIAL: dict[str, Callable[[Any], Any]] = {
    "$integer": lambda data: _unpack_q_le(_stored_base64(data, 8))[0],
    "$float": lambda data: _unpack_d_le(_stored_base64(data, 8))[0],
    "$bytes": _stored_base64,
}


def _stored_object(fields: dict[str, Any]) -> Any:
    if len(fields) == 1:
        ((key, data),) = fields.items()
        decode = _STORED_SPECIAL.get(key)
        if decode is not None:
            return decode(data)
    return fields


def _escaped_object(fields: dict[str, Any]) -> Any:
    special = _stored_object(fields)
    if special is not fields or not any(key[:1] == "$" for key in fields):
        return special
    for key in fields:
        if key[:1] == "$" and key[:2] != "$$":
            raise ValueError(f"the field name {key!r} starts with '$'")
    return {(key[1:] if key[:2] == "$$" else key): item for key, item in fields.items()}


_stored_decoder = json.JSONDecoder(parse_int=float, object_hook=_stored_object)
_escaped_decoder = json.JSONDecoder(parse_int=float, object_hook=_escaped_object)


def parse_json(text: str | bytes) -> Any:
    """JSON text as Convex's parser (serde_json) reads it: `NaN` and `Infinity` are not
    JSON (a client sends them as `$float`). Raises `ValueError` (`RecursionError` for text
    nested deeper than Python can parse)."""
    return json.loads(text, parse_constant=_not_json)


def _not_json(token: str) -> Any:
    raise ValueError(f"{token} is not JSON")
