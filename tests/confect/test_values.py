"""Values: wire encoding, Convex's total order (as bytes), limits, ids."""

import functools
import json
import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from confect.errors import ValueLimitError
from confect.ids import new_id, table_number_of
from confect.values import (
    UNDEFINED,
    check_limits,
    compare,
    encode_key,
    from_stored_json,
    from_wire,
    to_stored_json,
    to_wire,
)

scalars = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True),
    st.booleans(),
    st.text(),
    st.binary(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(alphabet="abcxyz", min_size=1, max_size=3), inner, max_size=3),
    ),
    max_leaves=12,
)

_RANK = {type(None): 1, int: 2, float: 3, bool: 4, str: 5, bytes: 6, list: 7, dict: 8}


def model_compare(a, b) -> int:
    """Convex's order written directly: type rank first, then the type's own order."""
    ra, rb = _RANK[type(a)], _RANK[type(b)]
    if ra != rb:
        return (ra > rb) - (ra < rb)
    if a is None:
        return 0
    if isinstance(a, float):
        return (_float_key(a) > _float_key(b)) - (_float_key(a) < _float_key(b))
    if isinstance(a, str):
        a, b = a.encode(), b.encode()
    if isinstance(a, list):
        for x, y in zip(a, b, strict=False):
            if c := model_compare(x, y):
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if isinstance(a, dict):
        return model_compare([[k, a[k]] for k in sorted(a)], [[k, b[k]] for k in sorted(b)])
    return (a > b) - (a < b)


def _float_key(x: float) -> tuple[int, float, bool]:
    if math.isnan(x):
        return (1, 0.0, False)
    return (0, x, not math.copysign(1, x) < 0)


@given(values, values)
def test_byte_keys_order_values_as_convex_does(a, b):
    assert compare(a, b) == model_compare(a, b)


@given(st.lists(values, min_size=2, max_size=8))
def test_sorting_by_key_matches_the_model(items):
    by_key = sorted(items, key=lambda x: encode_key((x,)))
    by_model = sorted(items, key=functools.cmp_to_key(model_compare))
    assert [encode_key((x,)) for x in by_key] == [encode_key((x,)) for x in by_model]


def test_int64_and_float64_are_never_equal_and_types_order():
    assert compare(1, 1.0) == -1
    ordered = [UNDEFINED, None, -5, 3, -1.0, math.inf, math.nan, False, True, "", "a", b"", [], {}]
    keys = [encode_key((x,)) for x in ordered]
    assert keys == sorted(keys)
    assert compare(-0.0, 0.0) == -1


def test_a_prefix_sorts_before_longer_strings_and_arrays():
    assert compare("a", "a\x00") == -1
    assert compare([1], [1, None]) == -1
    assert encode_key(("a", 1)) < encode_key(("a\x00", 0))


@given(values)
def test_wire_round_trip_keeps_every_value_and_type(value):
    back = from_wire(to_wire(value))
    assert encode_key((back,)) == encode_key((value,))
    stored = from_stored_json(json.dumps(to_wire(value)))  # the engines' fast reader agrees
    assert encode_key((stored,)) == encode_key((value,))
    assert json.dumps(to_stored_json(value)) == json.dumps(to_wire(value))  # and its writer


def test_wire_forms_match_convex():
    assert to_wire(5) == {"$integer": "BQAAAAAAAAA="}
    assert to_wire(5.0) == 5.0
    assert from_wire(5) == 5.0 and isinstance(from_wire(5), float)
    assert from_wire({"$bytes": "YWI="}) == b"ab"
    nan = from_wire({"$float": "AAAAAAAA+H8="})
    assert isinstance(nan, float) and math.isnan(nan)
    with pytest.raises(ValueError):
        from_wire({"$nope": 1})


def test_limits_name_the_path():
    deep: object = 1
    for _ in range(20):
        deep = [deep]
    with pytest.raises(ValueLimitError) as raised:
        check_limits({"a": deep}, "document")
    assert raised.value.path.startswith("document.a[0]")
    with pytest.raises(ValueLimitError, match="8192"):
        check_limits(list(range(9000)))
    with pytest.raises(ValueLimitError, match="1024"):
        check_limits({f"f{i}": 1 for i in range(1025)})
    with pytest.raises(ValueLimitError, match="1 MiB"):
        check_limits({"big": "x" * (1 << 20)})
    with pytest.raises(ValueLimitError, match="int64"):
        check_limits(2**64)


@given(st.integers(min_value=0, max_value=2**32))
def test_ids_carry_their_table_number(number):
    id_ = new_id(number)
    assert table_number_of(id_) == number
    assert set(id_) <= set("0123456789abcdefghjkmnpqrstvwxyz")


def test_a_damaged_id_is_not_an_id():
    id_ = new_id(10001)
    flipped = id_[:5] + ("0" if id_[5] != "0" else "1") + id_[6:]
    assert table_number_of(flipped) is None
    assert table_number_of("hello") is None
    assert table_number_of("") is None
    assert len(id_) == 32


def test_float_bits_of_nan_are_canonical():
    other_nan = struct.unpack(">d", bytes.fromhex("7ff8000000000001"))[0]
    assert compare(other_nan, math.nan) == 0
