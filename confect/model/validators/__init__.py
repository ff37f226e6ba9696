"""Validators (`v.string()`, `v.object({...})`, ...): check values and convert them.

Each validator goes both ways. `encode` takes what Python code holds (attrs documents,
`Doc` wrappers, ints in float fields) and gives a checked Convex value; `decode` takes a
Convex value and gives what a handler or caller works with. A mismatch raises
`ValidationError` with the path of the first bad part: `args.tags[3]: expected string, got 12`.

The parts live in private modules (`_base`, `_classes`, `_binding`, `_building`); import
them from here.
"""

from confect.model.validators._base import Validator, decode_any, encode_any
from confect.model.validators._binding import FieldEncoder, bind, walk
from confect.model.validators._building import from_type, object_of, v
from confect.model.validators._classes import (
    AnyV,
    ArrayV,
    BooleanV,
    BytesV,
    DocV,
    Float64V,
    IdV,
    Int64V,
    LiteralV,
    NullV,
    ObjectV,
    OptionalV,
    RecordV,
    StringV,
    UnionV,
)
from confect.model.validators._pagination import PaginationOptsV, PaginationResultV

__all__ = [
    "AnyV",
    "ArrayV",
    "BooleanV",
    "BytesV",
    "DocV",
    "FieldEncoder",
    "Float64V",
    "IdV",
    "Int64V",
    "LiteralV",
    "NullV",
    "ObjectV",
    "OptionalV",
    "PaginationOptsV",
    "PaginationResultV",
    "RecordV",
    "StringV",
    "UnionV",
    "Validator",
    "bind",
    "decode_any",
    "encode_any",
    "from_type",
    "object_of",
    "v",
    "walk",
]
