"""Values: wire encoding, Convex's total order (as bytes), limits, ids."""

import base64
import functools
import json
import math
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from confect.model.errors import InvalidValueError, ValueLimitError
from confect.model.ids import new_id, table_number_of
from confect.model.values import (
    UNDEFINED,
    Value,
    check_limits,
    check_value,
    compare,
    encode_key,
    from_stored_json,
    from_wire,
    to_stored_json,
    to_wire,
    value_size,
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
    with pytest.raises(InvalidValueError):
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


@given(st.integers(min_value=1, max_value=2**32 - 1))
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


# --- values entering the system ---------------------------------------------------------------------

json_data = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**400), max_value=10**400),
        st.floats(allow_nan=True),
        st.text(),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["a", "$integer", "$float", "$bytes", "$x", "é", ""]), inner, max_size=2
        ),
        st.sampled_from(["$integer", "$float", "$bytes"]).flatmap(
            lambda tag: st.one_of(
                st.text(max_size=16),
                st.binary(max_size=10).map(lambda raw: base64.b64encode(raw).decode()),
            ).map(lambda text: {tag: text})
        ),
    ),
    max_leaves=10,
)


@given(json_data)
def test_the_wire_decoder_is_total(data):
    """Whatever parsed JSON a client sends, decoding gives a value or `InvalidValueError`."""
    try:
        value = from_wire(data)
    except InvalidValueError:
        return
    assert encode_key((from_wire(to_wire(value)),)) == encode_key((value,))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"a": {"$integer": "AAAA"}}, "value.a has $integer of 3 bytes; it must be exactly 8"),
        ({"$float": "AAAA"}, "value has $float of 3 bytes; it must be exactly 8"),
        ({"$integer": "AA"}, "value has $integer 'AA', which is not base64"),
        ({"$integer": 5}, "value has $integer 5, not a base64 string"),
        ({"$bytes": "A"}, "which is not base64"),
        ({"$float": "AAAAAAAA8D8="}, "$float 1.0, which is sent as a plain number"),
        (
            {"a": [{"$x": 1}]},
            "value.a[0] has the field name '$x': it starts with '$', which is reserved",
        ),
        ({"é": 1}, "has the field name 'é': it has a character that is not non-control ASCII"),
        ({"a\x00": 1}, "has a character that is not non-control ASCII"),
        ({"a" * 1025: 1}, "is longer than 1024 characters"),
        (["\ud800"], "value[0] is not valid Unicode"),
        (10**400, "value is out of a float64's range"),
        (list(range(8193)), "value has 8193 items (max 8192)"),
        ({"b": {f"f{i}": 1 for i in range(1025)}}, "value.b has 1025 fields (max 1024)"),
    ],
)
def test_the_wire_decoder_names_what_is_wrong_and_where(data, message):
    with pytest.raises(InvalidValueError) as raised:
        from_wire(data)
    assert message in str(raised.value)


def test_the_wire_decoder_refuses_deep_nesting_before_recursing():
    deep: object = 1.0
    for _ in range(100_000):  # far deeper than Python's recursion limit
        deep = [deep]
    with pytest.raises(ValueLimitError, match=r"is nested 65 levels deep, over the limit of 64"):
        from_wire(deep)
    assert from_wire(nested(64, "a")) == nested(64, "a")  # Convex's MAX_NESTING: 64 levels


def test_the_wire_decoder_keeps_what_convex_accepts():
    assert from_wire({"$float": "AAAAAAAAAIA="}) == 0.0  # -0.0
    assert math.copysign(1, from_wire({"$float": "AAAAAAAAAIA="})) == -1  # type: ignore[arg-type]
    assert from_wire({"$bytes": ""}) == b""
    assert from_wire({"": 1, "a$": 2, "_id": "x", " ~": 3}) == {
        "": 1.0,
        "a$": 2.0,
        "_id": "x",
        " ~": 3.0,
    }
    assert from_wire({"a": {"$integer": "BQAAAAAAAAA="}, "b": "\u00e9"}) == {"a": 5, "b": "é"}


def nested(levels: int, kind: str = "o", leaf: Value = 1.0) -> Value:
    """`leaf` inside `levels` objects (`o`) or arrays (`a`)."""
    value = leaf
    for _ in range(levels):
        value = {"x": value} if kind == "o" else [value]
    return value


@pytest.mark.parametrize("kind", ["o", "a"])
def test_a_document_nests_at_most_16_levels_the_document_being_the_first(kind):
    """Convex's MAX_DOCUMENT_NESTING = 16, with `nesting()` = 1 + the deepest field's for an
    object or array and 0 for anything else: the document is level 1, and an empty object
    or array is a level too."""
    empty: Value = {} if kind == "o" else []
    check_limits({"f": nested(15, kind)})
    check_limits({"f": nested(14, kind, empty), "g": 1.0})
    with pytest.raises(ValueLimitError) as raised:
        check_limits({"f": nested(16, kind)})
    assert "is nested 17 levels deep, over the limit of 16" in str(raised.value)
    with pytest.raises(ValueLimitError, match="17 levels"):
        check_limits({"f": nested(15, kind, empty)})
    check_value({"f": nested(62, kind, empty)})
    with pytest.raises(ValueLimitError, match="65 levels"):
        check_value({"f": nested(63, kind, empty)})


@pytest.mark.parametrize("name", ["$integer", "$", "é", "tab\t", "\x7f", "a" * 1025])
def test_field_names_convex_refuses_are_refused_in_documents_and_values(name):
    with pytest.raises(InvalidValueError, match="has the field name"):
        check_limits({"a": [{name: 1}]})
    with pytest.raises(InvalidValueError) as raised:
        check_value({"a": [{name: 1}]}, "return value")
    assert raised.value.path == "return value.a[0]"


def test_sizes_are_counted_as_convex_counts_them():
    # 2 for the braces; per field its name, a separator and its value: null 1, int64 and
    # float64 9, boolean 1, strings and bytes 2 plus their UTF-8 length, arrays 2 plus items
    value = {"n": None, "i": 1, "f": 1.0, "b": True, "s": "é", "y": b"ab", "a": [1.0]}
    expected = 2 + (2 + 1) + (2 + 9) + (2 + 9) + (2 + 1) + (2 + 4) + (2 + 4) + (2 + 11)
    assert value_size(value) == check_value(value) == check_limits(value) == expected


stored_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["a", "$integer", "$float", "$bytes", "$", "$$", "$$x", "_id"]),
            inner,
            max_size=3,
        ),
    ),
    max_leaves=12,
)


@given(stored_values)
def test_the_stored_encoding_is_unambiguous_whatever_a_value_holds(value):
    """Even an object Convex would refuse, such as `{"$integer": "AA"}`, is stored and read
    back as itself: never as an int64, never as an error."""
    stored = from_stored_json(json.dumps(to_stored_json(value)))
    assert encode_key((stored,)) == encode_key((value,))


def test_stored_data_written_before_the_escape_still_reads():
    legacy = '{"i":{"$integer":"BQAAAAAAAAA="},"f":{"$float":"AAAAAAAA+H8="},"b":{"$bytes":"YWI="}}'
    read = from_stored_json(legacy)
    assert isinstance(read, dict) and read["i"] == 5 and read["b"] == b"ab"
    assert from_stored_json('{"x":1,"$$":2}') == {"x": 1.0, "$": 2.0}
    with pytest.raises(ValueError, match="starts with"):  # no value may hold it: corrupt
        from_stored_json('{"$x":1}')
    for broken in ('{"a":{"$integer":"AA"}}', '{"a":{"$float":"AAAA"}}', '{"a":{"$bytes":5}}'):
        with pytest.raises(ValueError):
            from_stored_json(broken)
