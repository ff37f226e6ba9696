"""Convex values in Python: the wire encoding, the total order, and the size limits.

Inside confect a stored value uses plain Python types: `int` is an int64, `float` is a
float64, and the two are never equal. The wire form is Convex's "convex_encoded_json",
produced and read by the `convex` package's `convex.values`.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from collections.abc import Callable
from typing import Any, TypeAlias

import convex.values as cv

from confect.errors import ValueLimitError

Value: TypeAlias = bool | int | float | str | bytes | list["Value"] | dict[str, "Value"] | None

MAX_DOCUMENT_BYTES = 1 << 20
MAX_DEPTH = 16
MAX_FIELDS = 1024
MAX_ARRAY = 8192
MIN_INT64 = -(1 << 63)
MAX_INT64 = (1 << 63) - 1


# --- wire encoding ---------------------------------------------------------------------------------


def to_wire(value: Value) -> Any:
    """The convex_encoded_json form of `value` (int64 as `{"$integer": ...}`)."""
    return cv.convex_to_json(_map_leaves(value, _tag_int))


def from_wire(data: Any) -> Value:
    """The value encoded by `data`; raises ValueError on a malformed encoding.

    A plain JSON integer (what `json.loads` gives for `5`) is a float64, as in Convex.
    """
    return _map_leaves(cv.json_to_convex(_map_leaves(data, _int_to_float)), _untag_int)


def with_int64_markers(value: Value) -> Any:
    """`value` with each int64 as a `convex.ConvexInt64`, as the `convex` client expects
    (it sends a plain `int` as a float64)."""
    return _map_leaves(value, _tag_int)


def _tag_int(value: Any) -> Any:
    return cv.ConvexInt64(value) if type(value) is int else value


def _untag_int(value: Any) -> Any:
    return value.value if isinstance(value, cv.ConvexInt64) else value


def _int_to_float(value: Any) -> Any:
    return float(value) if type(value) is int else value


def to_stored_json(value: Value) -> Any:
    """The wire JSON form of a value confect has validated already (stored documents): one
    pass, no checks. `from_stored_json` reads it back."""
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
        return {key: to_stored_json(item) for key, item in value.items()}
    return value


_pack_q_le = struct.Struct("<q").pack
_pack_d_le = struct.Struct("<d").pack


def from_stored_json(text: str | bytes) -> Value:
    """Decode wire JSON that confect itself wrote (stored documents): one pass, no checks."""
    if isinstance(text, bytes):
        text = text.decode()
    return _stored_decoder.decode(text)


def _special_value(fields: dict[str, Any]) -> Any:
    if len(fields) == 1:
        ((key, data),) = fields.items()
        if key == "$integer":
            return struct.unpack("<q", base64.b64decode(data))[0]
        if key == "$float":
            return struct.unpack("<d", base64.b64decode(data))[0]
        if key == "$bytes":
            return base64.b64decode(data)
    return fields


_stored_decoder = json.JSONDecoder(parse_int=float, object_hook=_special_value)


def _map_leaves(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """`value` with `leaf` applied to everything that is not a list or a dict."""
    if isinstance(value, list):
        return [_map_leaves(item, leaf) for item in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, dict):
        return {key: _map_leaves(item, leaf) for key, item in value.items()}  # pyright: ignore[reportUnknownVariableType]
    return leaf(value)


# --- checks ----------------------------------------------------------------------------------------


def type_name(value: object) -> str:
    """The Convex type name of a Python value, for error messages."""
    for cls, name in _TYPE_NAMES:
        if isinstance(value, cls):
            return name
    return type(value).__name__


_TYPE_NAMES: tuple[tuple[type, str], ...] = (
    (type(None), "null"),
    (bool, "boolean"),  # before int: a bool is an int in Python
    (int, "int64"),
    (float, "float64"),
    (str, "string"),
    (bytes, "bytes"),
    (list, "array"),
    (dict, "object"),
)


def check_limits(value: Value, what: str = "value") -> int:
    """Check depth, field-count, array-length and int64-range limits; return the size in bytes.

    Raises `ValueLimitError` naming the path of the offending part.
    """
    size = _check(value, (what,), 0)
    if size > MAX_DOCUMENT_BYTES:
        raise ValueLimitError(path=what, message=f"is {size} bytes, over the limit of 1 MiB")
    return size


Where = tuple[Any, ...]
"""A place inside a value: `(name,)` for the root, `(parent, key or index)` below it.
Rendered as a path string only when an error needs it."""


def _check(value: Value, where: Where, depth: int) -> int:
    if depth > MAX_DEPTH:
        raise ValueLimitError(path=_path(where), message=f"nests deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        if len(value) > MAX_ARRAY:
            raise ValueLimitError(
                path=_path(where), message=f"has {len(value)} items (max {MAX_ARRAY})"
            )
        size = 2
        for index, item in enumerate(value):
            size += _check(item, (where, index), depth + 1)
        return size
    if isinstance(value, dict):
        if len(value) > MAX_FIELDS:
            raise ValueLimitError(
                path=_path(where), message=f"has {len(value)} fields (max {MAX_FIELDS})"
            )
        size = 2
        for key, item in value.items():
            size += len(key) + _check(item, (where, key), depth + 1)
        return size
    if isinstance(value, str):
        return len(value.encode()) + 2
    if isinstance(value, bytes):
        return len(value) + 2
    if type(value) is int and not MIN_INT64 <= value <= MAX_INT64:
        raise ValueLimitError(path=_path(where), message=f"{value} does not fit in an int64")
    return 8


def _path(where: Where) -> str:
    parts: list[str] = []
    while len(where) == 2:
        where, part = where
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return str(where[0]) + "".join(reversed(parts))


# --- the total order -------------------------------------------------------------------------------
#
# `encode_key` turns a tuple of values into bytes whose byte order is Convex's value order,
# so engines can keep indexes as sorted bytes (memory) or BLOB columns (SQLite, PostgreSQL).
# Each value starts with a type byte; strings and bytes escape 0x00 as 0x00 0xFF and end with
# 0x00, so a prefix sorts first; arrays and objects end with 0x00, below every type byte.

UNDEFINED: Any = object()
"""A missing field: sorts before every value."""

_T_UNDEFINED, _T_NULL, _T_INT, _T_FLOAT, _T_BOOL, _T_STR, _T_BYTES, _T_ARRAY, _T_OBJECT = range(
    1, 10
)
_pack_q = struct.Struct(">Q").pack
_pack_d = struct.Struct(">d").pack
_unpack_q = struct.Struct(">Q").unpack
_SIGN = 1 << 63
_CANONICAL_NAN = _unpack_q(_pack_d(math.nan))[0]


def encode_key(values: tuple[Any, ...]) -> bytes:
    """Order-preserving bytes for a tuple of values (`UNDEFINED` for a missing field)."""
    out = bytearray()
    for value in values:
        _encode_into(out, value)
    return bytes(out)


def prefix_range(*values: Any) -> tuple[bytes, bytes]:
    """The key range [lo, hi) of every key that starts with `values` (all keys for none)."""
    prefix = encode_key(values)
    return prefix, prefix + AFTER_PREFIX


def encode_value(value: Any) -> bytes:
    """Order-preserving bytes for one value."""
    out = bytearray()
    _encode_into(out, value)
    return bytes(out)


def _encode_into(out: bytearray, value: Any) -> None:
    if value is UNDEFINED:
        out.append(_T_UNDEFINED)
    elif value is None:
        out.append(_T_NULL)
    elif value is True or value is False:
        out.append(_T_BOOL)
        out.append(1 if value else 0)
    elif type(value) is int:
        out.append(_T_INT)
        out += _pack_q((value + _SIGN) & 0xFFFFFFFFFFFFFFFF)
    elif type(value) is float:
        out.append(_T_FLOAT)
        bits = _CANONICAL_NAN if value != value else _unpack_q(_pack_d(value))[0]
        out += _pack_q(bits ^ 0xFFFFFFFFFFFFFFFF if bits & _SIGN else bits | _SIGN)
    elif isinstance(value, str):
        out.append(_T_STR)
        out += value.encode().replace(b"\x00", b"\x00\xff")
        out.append(0)
    elif isinstance(value, bytes):
        out.append(_T_BYTES)
        out += value.replace(b"\x00", b"\x00\xff")
        out.append(0)
    elif isinstance(value, list):
        out.append(_T_ARRAY)
        for item in value:  # pyright: ignore[reportUnknownVariableType]
            _encode_into(out, item)
        out.append(0)
    elif isinstance(value, dict):
        out.append(_T_OBJECT)
        for key in sorted(value):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
            out.append(1)
            out += str(key).encode().replace(b"\x00", b"\x00\xff")  # pyright: ignore[reportUnknownArgumentType]
            out.append(0)
            _encode_into(out, value[key])
        out.append(0)
    else:
        raise TypeError(f"{type(value).__name__} is not a Convex value")


def compare(a: Value, b: Value) -> int:
    """-1, 0 or 1 as `a` sorts before, with or after `b` in Convex's order."""
    ka, kb = encode_value(a), encode_value(b)
    return (ka > kb) - (ka < kb)


AFTER_PREFIX = b"\xff"
"""Appended to an encoded prefix: sorts after every key that starts with that prefix."""
