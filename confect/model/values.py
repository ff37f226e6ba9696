"""Convex values in Python: the wire encoding, the stored encoding, the checks every value
entering the system passes, and the total order.

Inside confect a stored value uses plain Python types: `int` is an int64, `float` is a
float64, and the two are never equal. The wire form is Convex's "convex_encoded_json"
(`to_wire` writes it with the `convex` package's `convex.values`; `from_wire` reads it,
checking everything a client could get wrong). Stored documents use the same JSON, except
that a field name starting with `$` is escaped, so no stored object can be mistaken for an
encoded int64, float or bytes value.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import struct
from collections.abc import Callable
from typing import Any, TypeAlias, cast

import convex.values as cv

from confect.model.errors import InvalidValueError, ValueLimitError

Value: TypeAlias = bool | int | float | str | bytes | list["Value"] | dict[str, "Value"] | None

MAX_DOCUMENT_BYTES = 1 << 20
MAX_DOCUMENT_NESTING = 16
"""How deep a document may nest, counted as Convex counts: the document is level 1, and
each object or array inside adds one."""
MAX_NESTING = 64
"""How deep any value (arguments, return values) may nest, counted the same way."""
MAX_FIELDS = 1024
MAX_ARRAY = 8192
MAX_FIELD_NAME = 1024
MIN_INT64 = -(1 << 63)
MAX_INT64 = (1 << 63) - 1

Where = tuple[Any, ...]
"""A place inside a value: `(name,)` for the root, `(parent, key or index)` below it.
Rendered as a path string only when an error needs it."""


def _path(where: Where) -> str:
    parts: list[str] = []
    while len(where) == 2:
        where, part = where
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return str(where[0]) + "".join(reversed(parts))


# --- field names -----------------------------------------------------------------------------------


def _field_name_problem(name: object) -> str | None:
    """Why `name` cannot be a field name, or None if it can. Convex's rule
    (`check_valid_field_name`): at most 1024 characters, each non-control ASCII, and no
    leading `$` (the wire encoding's own objects, `{"$integer": ...}`, start with one)."""
    if not isinstance(name, str):
        return "is not a string"
    if name[:1] == "$":
        return "starts with '$', which is reserved"
    if not (name.isascii() and name.isprintable()):
        return "has a character that is not non-control ASCII"
    if len(name) > MAX_FIELD_NAME:
        return f"is longer than {MAX_FIELD_NAME} characters"
    return None


def _check_field_names(fields: dict[Any, Any], where: Where) -> None:
    """Raise `InvalidValueError` for the first of `fields`' names that is not a field name."""
    if _FIELD_NAMES.issuperset(fields):
        return
    for name in fields:
        if name not in _FIELD_NAMES:
            if _field_name_problem(name) is not None:
                raise _bad_field_name(where, name)
            if len(_FIELD_NAMES) < MAX_FIELD_NAMES_KNOWN:
                _FIELD_NAMES.add(name)


_FIELD_NAMES: set[str] = set()
"""Field names found valid already. Values repeat their names, and one C-level superset
test of an object's names costs a fraction of checking each name of each object."""
MAX_FIELD_NAMES_KNOWN = 4096


def _bad_field_name(where: Where, name: object) -> InvalidValueError:
    return InvalidValueError(
        path=_path(where), message=f"has the field name {name!r}: it {_field_name_problem(name)}"
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
                path=_path(where), message="is out of a float64's range"
            ) from None
    if isinstance(data, list):
        items = cast(list[Any], data)
        _check_container(where, nesting, len(items), MAX_NESTING, MAX_ARRAY, "items")
        return [_from_wire(item, (where, index), nesting + 1) for index, item in enumerate(items)]
    if isinstance(data, dict):
        fields = cast(dict[Any, Any], data)
        if len(fields) == 1:
            ((key, inner),) = fields.items()
            decode = _WIRE_SPECIAL.get(key)
            if decode is not None:
                return decode(inner, where)
        _check_container(where, nesting, len(fields), MAX_NESTING, MAX_FIELDS, "fields")
        _check_field_names(fields, where)
        return {key: _from_wire(item, (where, key), nesting + 1) for key, item in fields.items()}
    raise InvalidValueError(
        path=_path(where), message=f"is a {type(data).__name__}, not a JSON value"
    )


def _check_unicode(text: str, where: Where) -> None:
    try:
        text.encode()
    except UnicodeEncodeError:
        raise InvalidValueError(
            path=_path(where), message="is not valid Unicode (it has a lone surrogate)"
        ) from None


def _wire_base64(data: Any, where: Where, tag: str, size: int | None = None) -> bytes:
    if not isinstance(data, str):
        raise InvalidValueError(
            path=_path(where), message=f"has {tag} {data!r}, not a base64 string"
        )
    try:
        raw = binascii.a2b_base64(data, strict_mode=True)
    except ValueError as error:
        raise InvalidValueError(
            path=_path(where), message=f"has {tag} {data[:40]!r}, which is not base64: {error}"
        ) from None
    if size is not None and len(raw) != size:
        raise InvalidValueError(
            path=_path(where), message=f"has {tag} of {len(raw)} bytes; it must be exactly {size}"
        )
    return raw


def _wire_int64(data: Any, where: Where) -> int:
    return _unpack_q_le(_wire_base64(data, where, "$integer", 8))[0]


def _wire_float64(data: Any, where: Where) -> float:
    value: float = _unpack_d_le(_wire_base64(data, where, "$float", 8))[0]
    if math.isfinite(value) and value != 0:
        raise InvalidValueError(
            path=_path(where), message=f"has $float {value!r}, which is sent as a plain number"
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
        if _FIELD_NAMES.issuperset(value):  # names checked already: none starts with `$`
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


def check_value(value: Value, what: str = "value") -> int:
    """Check what Convex checks of every value (function arguments, return values): field
    names, nesting (at most `MAX_NESTING`), object and array lengths, the int64 range.
    Returns the value's size in bytes, counted as Convex counts it.

    Raises `InvalidValueError` (`ValueLimitError` for a limit) naming the path of the
    offending part.
    """
    return _check(value, (what,), 0, MAX_NESTING)


def check_limits(value: Value, what: str = "document") -> int:
    """Check a document: what `check_value` checks, with nesting at most
    `MAX_DOCUMENT_NESTING` and a size of at most 1 MiB. Returns the size in bytes."""
    size = _check(value, (what,), 0, MAX_DOCUMENT_NESTING)
    if size > MAX_DOCUMENT_BYTES:
        raise ValueLimitError(path=what, message=f"is {size} bytes, over the limit of 1 MiB")
    return size


def value_size(value: Value) -> int:
    """The size of a checked value in bytes, as Convex counts it (`Size::size`): 1 for null
    and booleans, 9 for numbers, 2 plus the UTF-8 length for strings and bytes, 2 plus the
    items for arrays, 2 plus each field's name, a separator and value for objects."""
    if isinstance(value, str):
        return (len(value) if value.isascii() else len(value.encode())) + 2
    if isinstance(value, dict):
        size = 2
        for key, item in value.items():
            size += len(key) + 1 + value_size(item)
        return size
    if isinstance(value, list):
        size = 2
        for item in value:
            size += value_size(item)
        return size
    if isinstance(value, bytes):
        return len(value) + 2
    return 1 if value is None or value is True or value is False else 9


def _check_container(
    where: Where, nesting: int, length: int, max_nesting: int, max_length: int, unit: str
) -> None:
    """`nesting` counts the objects and arrays around this one."""
    if nesting >= max_nesting:
        raise ValueLimitError(
            path=_path(where),
            message=f"is nested {nesting + 1} levels deep, over the limit of {max_nesting}",
        )
    if length > max_length:
        raise ValueLimitError(path=_path(where), message=f"has {length} {unit} (max {max_length})")


def _check(value: Value, where: Where, nesting: int, max_nesting: int) -> int:
    if isinstance(value, str):
        return (len(value) if value.isascii() else len(value.encode())) + 2
    if isinstance(value, dict):
        _check_container(where, nesting, len(value), max_nesting, MAX_FIELDS, "fields")
        _check_field_names(value, where)
        size = 2
        for key, item in value.items():
            size += len(key) + 1 + _check(item, (where, key), nesting + 1, max_nesting)
        return size
    if isinstance(value, list):
        _check_container(where, nesting, len(value), max_nesting, MAX_ARRAY, "items")
        size = 2
        for index, item in enumerate(value):
            size += _check(item, (where, index), nesting + 1, max_nesting)
        return size
    if isinstance(value, bytes):
        return len(value) + 2
    if value is None or value is True or value is False:
        return 1
    if type(value) is int:
        if not MIN_INT64 <= value <= MAX_INT64:
            raise ValueLimitError(path=_path(where), message=f"{value} does not fit in an int64")
        return 9
    if type(value) is float:
        return 9
    raise InvalidValueError(
        path=_path(where), message=f"is a {type(value).__name__}, not a Convex value"
    )


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
