"""Convex values from Python through the public API (ConfectTest): an `int` in a number
position is a float64 and a `ConvexInt64` an int64; `MISSING` (Convex's `undefined`) is
apart from `None` (`null`). The cases of convex-test's filters, withIndexUndefined,
searchFilterEq and mutations ("patch undefined") tests, in Python."""

import pytest

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
    mutation,
    query,
    v,
)
from confect.testing import ConfectTest

SCHEMA = define_schema(
    bag=define_table({"value": v.any(), "note": v.optional(v.string())}),
    things=define_table({"field": v.optional(v.string()), "other": v.optional(v.string())}).index(
        "field", ["field"]
    ),
    nullable=define_table({"field": v.optional(v.union(v.string(), v.null()))}).index(
        "field", ["field"]
    ),
    messages=define_table(
        {
            "body": v.string(),
            "author": v.optional(v.string()),
            "deletion_time": v.optional(v.number()),
            "embedding": v.optional(v.array(v.number())),
        }
    ).search_index("body", search_field="body", filter_fields=["author", "deletion_time"]),
    marks=define_table({"mark": v.optional(v.null()), "label": v.string()}),
)


@query()
def count():
    db = yield from DatabaseReader
    return {"n": len((yield from db.table("bag").collect()))}


@query(returns=v.object({"n": v.int64()}))
def count_int64():
    db = yield from DatabaseReader
    return {"n": len((yield from db.table("bag").collect()))}


@query()
def echo(value):  # no args validator: the argument as the caller's encoding made it
    return effects.succeed(value)


@query()
def too_big():
    return effects.succeed({"big": [1, 2**53 + 1]})


@query(args={"x": v.number()}, returns=v.number())
def number(x: float):
    return effects.succeed(x)


@mutation(args={"value": v.any()})
def store(value):
    db = yield from DatabaseWriter
    yield from db.table("bag").insert({"value": value})


@query()
def stored():
    db = yield from DatabaseReader
    return (yield from db.table("bag").collect())


@query()
def marks():
    db = yield from DatabaseReader
    return (yield from db.table("marks").collect())


APP = App(
    {
        f"values:{f.handler.__name__}": f
        for f in (count, count_int64, echo, too_big, number, store, stored, marks)
    },
    SCHEMA,
)


@pytest.fixture
def t() -> ConfectTest:
    return ConfectTest(APP)


def write(t: ConfectTest, table: str, *documents: dict) -> list[str]:
    def run():
        db = yield from DatabaseWriter
        ids = []
        for document in documents:
            ids.append((yield from db.table(table).insert(document)))
        return ids

    return t.run(lambda: effects.gen(run)())


def read(t: ConfectTest, table: str, shape=None) -> list[dict]:
    def run():
        db = yield from DatabaseReader
        t_ = db.table(table)
        found = shape(t_) if shape is not None else t_
        return (yield from found.collect())

    return [doc._value for doc in t.run(lambda: effects.gen(run)())]


# --- ints and floats ------------------------------------------------------------------------------


def test_an_int_returned_without_a_validator_is_a_float64(t: ConfectTest):
    write(t, "bag", {"value": "a"}, {"value": "b"})
    got = t.query(count)
    assert got == {"n": 2.0} and type(got["n"]) is float
    declared = t.query(count_int64)
    assert declared == {"n": 2} and type(declared["n"]) is int


def test_ints_in_arguments_arrays_and_objects_are_float64s(t: ConfectTest):
    got = t.query(echo, {"value": [1, {"y": 2}, True]})
    assert got == [1.0, {"y": 2.0}, True]
    assert [type(got[0]), type(got[1]["y"]), type(got[2])] == [float, float, bool]


def test_a_convex_int64_is_an_int64_both_ways(t: ConfectTest):
    got = t.query(echo, {"value": {"n": ConvexInt64(7)}})
    assert type(got["n"]) is ConvexInt64 and got["n"].value == 7


def test_an_int_beyond_float64s_exact_range_is_refused_naming_the_path(t: ConfectTest):
    with pytest.raises(ValidationError) as raised:
        t.query(too_big)
    assert raised.value.path == "return value.big[1]"
    assert "outside the range of a Convex float64" in str(raised.value)
    assert "ConvexInt64(9007199254740993)" in str(raised.value)
    with pytest.raises(ValidationError, match=r"args\.value: the integer -9007199254740993"):
        t.query(echo, {"value": -(2**53) - 1})
    assert t.query(echo, {"value": 2**53}) == float(2**53)


def test_a_number_validator_takes_ints_and_refuses_a_convex_int64(t: ConfectTest):
    assert type(t.query(number, {"x": 3})) is float
    with pytest.raises(ValidationError, match=r"args\.x: expected number, got ConvexInt64\(3\)"):
        t.query(number, {"x": ConvexInt64(3)})
    with pytest.raises(ValidationError, match=r"args\.x: the integer 9007199254740993"):
        t.query(number, {"x": 2**53 + 1})


def test_document_fields_without_a_validator_keep_int64s_as_convex_int64(t: ConfectTest):
    t.mutation(store, {"value": 1})
    t.mutation(store, {"value": ConvexInt64(2**62)})
    first, second = t.query(stored)
    assert type(first["value"]) is float and first["value"] == 1.0
    assert type(second["value"]) is ConvexInt64 and second["value"].value == 2**62
    [_, doc] = read(t, "bag")
    assert type(doc["value"]) is ConvexInt64  # read in a handler: still an int64

    def patch_other_field():
        db = yield from DatabaseWriter
        yield from db.table("bag").patch(second["_id"], {"note": "kept"})

    t.run(lambda: effects.gen(patch_other_field)())
    assert type(t.query(stored)[1]["value"]) is ConvexInt64  # untouched fields stay as stored


def test_a_number_literal_is_a_float64():
    assert v.literal(3).encode(3) == 3.0 and type(v.literal(3).encode(3)) is float
    assert v.literal(3).decode(3.0) == 3
    with pytest.raises(ValidationError, match=r"expected 3 \(float64\), got 3"):
        v.literal(3).decode(3)  # the int64 3
    assert v.literal(ConvexInt64(3)).encode(3) == 3
    with pytest.raises(ValidationError):
        v.literal(ConvexInt64(3)).encode(3.0)


# --- missing is not null --------------------------------------------------------------------------


def test_filter_by_missing(t: ConfectTest):
    write(t, "things", {}, {"field": "some"})
    for missing in (MISSING, None):  # None: `field` cannot hold null, so it means missing
        found = read(
            t, "things", lambda r, m=missing: r.filter(lambda q: q.eq(q.field("field"), m))
        )
        assert found == [{"field": None, "other": None}]


def test_with_index_by_missing(t: ConfectTest):
    write(t, "things", {}, {"field": "some"}, {"field": "other"}, {"other": "value"})
    found = read(t, "things", lambda r: r.index("field", lambda q: q.eq("field", MISSING)))
    assert found == [{"field": None, "other": None}, {"field": None, "other": "value"}]


def test_with_index_missing_is_not_null(t: ConfectTest):
    write(t, "nullable", {"field": None}, {"field": "value"}, {})
    by_missing = read(t, "nullable", lambda r: r.index("field", lambda q: q.eq("field", MISSING)))
    by_null = read(t, "nullable", lambda r: r.index("field", lambda q: q.eq("field", None)))
    assert by_missing == [{"field": MISSING}]
    assert by_null == [{"field": None}]


def test_search_filter_by_missing(t: ConfectTest):
    write(
        t,
        "messages",
        {"body": "Hello world", "author": "alice"},
        {"body": "Goodbye world", "author": "bob", "deletion_time": 123456},
        {"body": "Test message"},
    )

    def searched(text: str, field: str, value) -> list[str]:
        found = read(
            t,
            "messages",
            lambda r: r.search("body", lambda q: q.search("body", text).eq(field, value)),
        )
        return [doc["body"] for doc in found]

    assert searched("world", "deletion_time", MISSING) == ["Hello world"]
    assert searched("world", "deletion_time", 123456) == ["Goodbye world"]
    assert searched("message", "author", MISSING) == ["Test message"]
    assert searched("world", "author", "alice") == ["Hello world"]


def test_patch_removes_a_field_set_to_missing(t: ConfectTest):
    [id_] = write(t, "messages", {"body": "hello", "author": "sarah", "embedding": [1, 1, 1]})

    def patch(fields: dict):
        def run():
            db = yield from DatabaseWriter
            yield from db.table("messages").patch(id_, fields)

        t.run(lambda: effects.gen(run)())

    patch({"body": "hi", "embedding": MISSING})
    stored = t.backend.engine.get("messages", id_)
    assert stored is not None and "embedding" not in stored
    assert stored["body"] == "hi" and stored["author"] == "sarah"
    patch({"author": None})  # an optional field that cannot hold null: None removes it too
    assert "author" not in (t.backend.engine.get("messages", id_) or {})


def test_an_optional_null_holds_an_explicit_null_apart_from_missing(t: ConfectTest):
    [null_id, missing_id] = write(t, "marks", {"mark": None, "label": "null"}, {"label": "missing"})
    assert (t.backend.engine.get("marks", null_id) or {})["mark"] is None
    assert "mark" not in (t.backend.engine.get("marks", missing_id) or {})
    assert [doc["mark"] for doc in read(t, "marks")] == [None, MISSING]
    returned = t.query(marks)  # the documents as a caller gets them: missing stays missing
    assert [("mark" in doc, doc.get("mark")) for doc in returned] == [(True, None), (False, None)]

    def patch_to_null():
        db = yield from DatabaseWriter
        yield from db.table("marks").patch(missing_id, {"mark": None})  # here None is null

    t.run(lambda: effects.gen(patch_to_null)())
    assert (t.backend.engine.get("marks", missing_id) or {})["mark"] is None


def test_a_missing_field_is_absent_from_a_returned_document(t: ConfectTest):
    write(t, "things", {"other": "x"})

    def documents():
        db = yield from DatabaseReader
        return (yield from db.table("things").collect())

    [doc] = t.run(lambda: effects.gen(documents)())
    wire = echo.encode_result(doc)
    assert isinstance(wire, dict) and "field" not in wire and wire["other"] == "x"
