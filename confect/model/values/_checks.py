"""What a Convex value is in Python, and what Convex allows of one: the type, the limits,
the checks every value entering the system passes, and the size Convex counts.

Inside confect a stored value uses plain Python types: `int` is an int64, `float` is a
float64, and the two are never equal.
"""

from __future__ import annotations

from typing import Any, TypeAlias

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


def path_of(where: Where) -> str:
    """`where` as a path string: `args.tags[3]`."""
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


def check_field_names(fields: dict[Any, Any], where: Where) -> None:
    """Raise `InvalidValueError` for the first of `fields`' names that is not a field name."""
    if KNOWN_FIELD_NAMES.issuperset(fields):
        return
    for name in fields:
        if name not in KNOWN_FIELD_NAMES:
            if _field_name_problem(name) is not None:
                raise _bad_field_name(where, name)
            if len(KNOWN_FIELD_NAMES) < _MAX_KNOWN_FIELD_NAMES:
                KNOWN_FIELD_NAMES.add(name)


KNOWN_FIELD_NAMES: set[str] = set()
"""Field names found valid already. Values repeat their names, and one C-level superset
test of an object's names costs a fraction of checking each name of each object."""
_MAX_KNOWN_FIELD_NAMES = 4096


def _bad_field_name(where: Where, name: object) -> InvalidValueError:
    return InvalidValueError(
        path=path_of(where), message=f"has the field name {name!r}: it {_field_name_problem(name)}"
    )


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


def check_container(
    where: Where, nesting: int, length: int, max_nesting: int, max_length: int, unit: str
) -> None:
    """Refuse an object or array (at `where`, of `length` fields or items) nested deeper than
    `max_nesting` or longer than `max_length`; `nesting` counts the objects and arrays
    around this one."""
    if nesting >= max_nesting:
        raise ValueLimitError(
            path=path_of(where),
            message=f"is nested {nesting + 1} levels deep, over the limit of {max_nesting}",
        )
    if length > max_length:
        raise ValueLimitError(
            path=path_of(where), message=f"has {length} {unit} (max {max_length})"
        )


def _check(value: Value, where: Where, nesting: int, max_nesting: int) -> int:
    if isinstance(value, str):
        return (len(value) if value.isascii() else len(value.encode())) + 2
    if isinstance(value, dict):
        check_container(where, nesting, len(value), max_nesting, MAX_FIELDS, "fields")
        check_field_names(value, where)
        size = 2
        for key, item in value.items():
            size += len(key) + 1 + _check(item, (where, key), nesting + 1, max_nesting)
        return size
    if isinstance(value, list):
        check_container(where, nesting, len(value), max_nesting, MAX_ARRAY, "items")
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
            raise ValueLimitError(path=path_of(where), message=f"{value} does not fit in an int64")
        return 9
    if type(value) is float:
        return 9
    raise InvalidValueError(
        path=path_of(where), message=f"is a {type(value).__name__}, not a Convex value"
    )
