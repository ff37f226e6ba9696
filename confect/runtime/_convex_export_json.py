"""Convex's export JSON (`ValueFormat::ConvexExportJSON`, crates/value/src/export.rs): the
value encoding of the `documents.jsonl` files in a ZIP written by `npx convex export`.

It is plain JSON where it can be: an int64 is a JSON integer (`5`), a finite float64 a
JSON number with a dot or an exponent (`5.0`), a string, boolean, null, array or object
itself. Bytes and the float64s JSON cannot spell (NaN, infinities) use the
convex_encoded_json object (`{"$bytes": ...}`, `{"$float": ...}`); on reading, an object
whose field names start with `$` is such an object (Convex's field names never do).

A table with a `generated_schema.jsonl` of `"uniform"` is in this format. Without one
(ZIPs made by hand, or very old exports), Convex reads every JSON number as a float64, and
so does `from_export_json(..., integers=False)`.
"""

from __future__ import annotations

import base64
import math
import struct
from typing import Any, cast

from confect.model.values import MAX_INT64, MIN_INT64, Value, from_wire, to_wire


def to_export_json(value: Value) -> Any:
    """`value` in Convex's export JSON."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else to_wire(value)
    if isinstance(value, list):
        return [to_export_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_export_json(item) for key, item in value.items()}
    return to_wire(value)  # bytes


def from_export_json(data: Any, where: str, *, integers: bool = True) -> Value:
    """The value `data` (parsed export JSON) encodes; a JSON integer is an int64 when
    `integers`, else a float64. Raises `InvalidValueError` as `from_wire` does."""
    return from_wire(_as_wire(data, integers), where)


def _as_wire(data: Any, integers: bool) -> Any:
    """`data` as convex_encoded_json: only the JSON integers differ."""
    if type(data) is int:
        if not integers or not MIN_INT64 <= data <= MAX_INT64:
            return float(data)  # as serde_json reads an integer out of i64's range
        return {"$integer": base64.b64encode(struct.pack("<q", data)).decode()}
    if isinstance(data, list):
        return [_as_wire(item, integers) for item in data]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(data, dict):
        fields = cast(dict[str, Any], data)
        if not any(key.startswith("$") for key in fields):
            return {key: _as_wire(item, integers) for key, item in fields.items()}
    return cast(Any, data)
