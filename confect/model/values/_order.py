"""Convex's total order of values, as bytes: `encode_key` turns a tuple of values into bytes
whose byte order is Convex's value order, so engines can keep indexes as sorted bytes
(memory) or BLOB columns (SQLite, PostgreSQL).

Each value starts with a type byte; strings and bytes escape 0x00 as 0x00 0xFF and end with
0x00, so a prefix sorts first; arrays and objects end with 0x00, below every type byte.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from confect.model.values._checks import Value
from confect.model.values._missing import MISSING

UNDEFINED: Any = MISSING
"""A missing field in a key (`MISSING` itself): sorts before every value."""

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
