"""Convex values in Python: the wire encoding, the stored encoding, the checks every value
entering the system passes, and the total order.

Inside confect a stored value uses plain Python types: `int` is an int64, `float` is a
float64, and the two are never equal. `MISSING` is a field that is not there (Convex's
`undefined`), apart from `None` (`null`). The wire form is Convex's "convex_encoded_json"
(`to_wire`, `from_wire`); stored documents use the same JSON with `$`-names escaped
(`to_stored_json`, `from_stored_json`). `check_value` and `check_limits` enforce Convex's
limits and give the size Convex counts; `encode_key` gives bytes in Convex's order.

The parts live in private modules (`_checks`, `_json`, `_missing`, `_order`); import them from here.
"""

from confect.model.values._checks import (
    MAX_ARRAY,
    MAX_DOCUMENT_BYTES,
    MAX_DOCUMENT_NESTING,
    MAX_FIELD_NAME,
    MAX_FIELDS,
    MAX_INT64,
    MAX_NESTING,
    MIN_INT64,
    Value,
    check_limits,
    check_value,
    type_name,
    value_size,
)
from confect.model.values._json import (
    from_stored_json,
    from_wire,
    parse_json,
    to_stored_json,
    to_wire,
    with_int64_markers,
)
from confect.model.values._missing import MISSING, Missing
from confect.model.values._order import (
    AFTER_PREFIX,
    UNDEFINED,
    compare,
    encode_key,
    encode_value,
    prefix_range,
)

__all__ = [
    "AFTER_PREFIX",
    "MAX_ARRAY",
    "MAX_DOCUMENT_BYTES",
    "MAX_DOCUMENT_NESTING",
    "MAX_FIELDS",
    "MAX_FIELD_NAME",
    "MAX_INT64",
    "MAX_NESTING",
    "MIN_INT64",
    "MISSING",
    "UNDEFINED",
    "Missing",
    "Value",
    "check_limits",
    "check_value",
    "compare",
    "encode_key",
    "encode_value",
    "from_stored_json",
    "from_wire",
    "parse_json",
    "prefix_range",
    "to_stored_json",
    "to_wire",
    "type_name",
    "value_size",
    "with_int64_markers",
]
