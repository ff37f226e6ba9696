"""How the tests judge what a server answered: values compared as Convex compares them
(an int64 is never a float64, NaN is NaN, -0 is not 0), JSON read strictly."""

from __future__ import annotations

import json
import math
from typing import Any

from confect.model.values import Value


def same_value(got: Value, expected: Value) -> bool:
    """Whether two values are the same Convex value: same types all the way down."""
    if type(got) is not type(expected):
        return False
    if isinstance(got, float):
        assert isinstance(expected, float)
        if math.isnan(expected):
            return math.isnan(got)
        return got == expected and math.copysign(1, got) == math.copysign(1, expected)
    if isinstance(got, list):
        assert isinstance(expected, list)
        return len(got) == len(expected) and all(map(same_value, got, expected))
    if isinstance(got, dict):
        assert isinstance(expected, dict)
        return got.keys() == expected.keys() and all(
            same_value(got[key], expected[key]) for key in got
        )
    return got == expected


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(data: bytes | str) -> Any:
    """`data` parsed as JSON that any client can read: UTF-8, no NaN or Infinity, no lone
    surrogates; raises ValueError otherwise."""
    parsed = json.loads(data, parse_constant=_no_constant)
    _check_text(parsed)
    return parsed


def _check_text(value: Any) -> None:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{value!r} is no Unicode text (it has a lone surrogate)") from None
    elif isinstance(value, list):
        for item in value:
            _check_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
