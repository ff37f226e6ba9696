"""Filter expressions as Convex evaluates them (crates/common/src/query.rs `Expression::eval`;
convex-test's convex/filters.test.ts): comparisons, arithmetic, boolean logic."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import effects
from confect import (
    MISSING,
    App,
    ConvexInt64,
    DatabaseReader,
    DatabaseWriter,
    ValidationError,
    define_schema,
    define_table,
    v,
)
from confect.testing import ConfectTest

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
FLOAT = st.floats(allow_nan=True, allow_infinity=True)
SCHEMA = define_schema(
    messages=define_table(
        {"body": v.string(), "score": v.optional(v.number()), "count": v.optional(v.int64())}
    ),
    things=define_table({"a": v.any(), "b": v.any(), "flag": v.optional(v.any())}),
)


def fresh() -> ConfectTest:
    return ConfectTest(App({}, SCHEMA))


def insert(t: ConfectTest, table: str, *documents: dict) -> None:
    def write():
        db = yield from DatabaseWriter
        for document in documents:
            yield from db.table(table).insert(document)

    t.run(lambda: effects.gen(write)())


def matching(t: ConfectTest, table: str, predicate) -> list[dict]:
    def read():
        db = yield from DatabaseReader
        return (yield from db.table(table).filter(predicate).collect())

    return [dict(doc._value) for doc in t.run(lambda: effects.gen(read)())]


def test_math_operators_on_number_fields():
    t = fresh()
    insert(t, "messages", {"body": "hi", "score": 42}, {"body": "hello", "score": 10})
    found = matching(
        t,
        "messages",
        lambda q: q.and_(
            q.gt(q.field("score"), 41),
            q.gte(q.field("score"), 42),
            q.lt(q.add(q.field("score"), -2), 41),
            q.lte(q.sub(q.field("score"), 2), 40),
            q.eq(q.mul(q.div(q.field("score"), 6), 2), 14),
            q.eq(q.mod(q.field("score"), 2), 0),
            q.eq(q.neg(q.field("score")), -42),
        ),
    )
    assert [m["body"] for m in found] == ["hi"]


def test_a_missing_field_is_not_null():
    t = fresh()
    insert(t, "things", {"a": 1, "b": 0, "flag": None}, {"a": 2, "b": 0})
    found = matching(t, "things", lambda q: q.eq(q.field("flag"), None))
    assert [d["a"] for d in found] == [1.0]
    found = matching(t, "things", lambda q: q.eq(q.field("flag"), MISSING))
    assert [d["a"] for d in found] == [2.0]


def test_none_is_missing_where_a_field_cannot_hold_null():
    t = fresh()
    insert(t, "messages", {"body": "none"}, {"body": "some", "score": 1})
    for missing in (None, MISSING):
        found = matching(t, "messages", lambda q, m=missing: q.eq(q.field("score"), m))
        assert [d["body"] for d in found] == ["none"]


def _rust_int(name: str, x: int, y: int) -> int | None:
    if name in ("div", "mod") and y == 0:
        return None
    if name == "div":
        result = _trunc_div(x, y)
    elif name == "mod":
        result = x - _trunc_div(x, y) * y
    else:
        result = {"add": x + y, "sub": x - y, "mul": x * y}[name]
    return result if -(2**63) <= result < 2**63 else None


def _trunc_div(x: int, y: int) -> int:
    q = abs(x) // abs(y)
    return q if (x >= 0) == (y > 0) else -q


@settings(max_examples=60)
@given(name=st.sampled_from(["add", "sub", "mul", "div", "mod"]), x=INT64, y=INT64)
def test_int64_arithmetic_is_checked_like_rust(name: str, x: int, y: int):
    t = fresh()
    insert(t, "things", {"a": ConvexInt64(x), "b": ConvexInt64(y)})
    expected = _rust_int(name, x, y)
    if expected is None:
        with pytest.raises(ValidationError, match="by zero|out of range for Int64"):
            matching(t, "things", lambda q: q.eq(getattr(q, name)(q.field("a"), q.field("b")), 0))
    else:
        found = matching(
            t,
            "things",
            lambda q: q.eq(getattr(q, name)(q.field("a"), q.field("b")), ConvexInt64(expected)),
        )
        assert len(found) == 1


@settings(max_examples=60)
@given(name=st.sampled_from(["add", "sub", "mul", "div", "mod"]), x=FLOAT, y=FLOAT)
def test_float64_arithmetic_is_ieee(name: str, x: float, y: float):
    t = fresh()
    insert(t, "things", {"a": x, "b": y})
    expected = {
        "add": lambda: x + y,
        "sub": lambda: x - y,
        "mul": lambda: x * y,
        "div": lambda: _ieee_div(x, y),
        "mod": lambda: math.nan if y == 0 or math.isinf(x) else math.fmod(x, y),
    }[name]()
    found = matching(
        t,
        "things",
        lambda q: q.eq(getattr(q, name)(q.field("a"), q.field("b")), expected),
    )
    assert len(found) == 1, (name, x, y, expected)


def _ieee_div(x: float, y: float) -> float:
    if y != 0:
        return x / y
    if x == 0 or math.isnan(x):
        return math.nan
    return math.copysign(math.inf, x) * math.copysign(1.0, y)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        (ConvexInt64(1), 1.5, r"Cannot add 1 \(type int64\) and 1.5 \(type float64\)"),
        ("x", 1.0, r"Cannot add 'x' \(type string\) and 1.0 \(type float64\)"),
        (
            ConvexInt64(2**63 - 1),
            ConvexInt64(1),
            "Cannot add 9223372036854775807 and 1: the result is out of range for Int64",
        ),
    ],
)
def test_arithmetic_on_other_types_fails_the_query(a, b, message):
    t = fresh()
    insert(t, "things", {"a": a, "b": b})
    with pytest.raises(ValidationError, match=message):
        matching(t, "things", lambda q: q.eq(q.add(q.field("a"), q.field("b")), 0))


def test_boolean_logic_takes_booleans_only():
    t = fresh()
    insert(t, "things", {"a": 1, "b": 2, "flag": True}, {"a": 1, "b": 2, "flag": False})
    assert len(matching(t, "things", lambda q: q.and_(q.field("flag"), True))) == 1
    assert len(matching(t, "things", lambda q: q.not_(q.field("flag")))) == 1
    with pytest.raises(ValidationError, match=r"Cannot use value 1.0 \(type float64\) as a"):
        matching(t, "things", lambda q: q.or_(q.field("a")))
    with pytest.raises(ValidationError, match=r"Cannot negate 'x' \(type string\)"):
        insert(t, "things", {"a": "x", "b": 0})
        matching(t, "things", lambda q: q.eq(q.neg(q.field("a")), 0))
