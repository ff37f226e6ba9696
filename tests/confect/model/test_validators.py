"""Validators and schema definitions."""

from typing import Any, Literal

import attrs
import pytest

from confect import MISSING, Missing, SchemaError, ValidationError, define_schema, define_table, v
from confect.model.ids import Id, new_id
from confect.model.validators import bind, object_of


def test_errors_name_the_path_of_the_first_bad_field():
    args = v.object({"tags": v.array(v.string())})
    with pytest.raises(ValidationError) as raised:
        args.decode({"tags": ["a", "b", "c", 12]}, "args")
    assert str(raised.value) == "args.tags[3]: expected string, got 12"


def test_numbers_int64_and_conversions():
    assert v.number().encode(3) == 3.0 and isinstance(v.number().encode(3), float)
    assert v.int64().encode(3) == 3
    with pytest.raises(ValidationError, match="expected int64"):
        v.int64().encode(3.0)
    with pytest.raises(ValidationError, match="int64"):
        v.int64().encode(2**70)
    with pytest.raises(ValidationError, match="expected boolean"):
        v.boolean().encode(1)


def test_objects_optional_missing_and_unexpected_fields():
    shape = v.object({"a": v.string(), "b": v.optional(v.number())})
    assert shape.decode({"a": "x"}) == {"a": "x", "b": None}
    assert shape.encode({"a": "x", "b": None}) == {"a": "x"}
    with pytest.raises(ValidationError, match=r"value\.a: required field is missing"):
        shape.decode({})
    with pytest.raises(ValidationError, match=r"value\.c: unexpected field"):
        shape.decode({"a": "x", "c": 1})


def test_union_literal_record_bytes_null_any():
    status = v.union(v.literal("open"), v.literal("closed"))
    assert status.decode("open") == "open"
    with pytest.raises(ValidationError) as raised:
        status.decode("other")
    assert str(raised.value) == "value: expected literal('open') | literal('closed'), got 'other'"
    assert v.record(v.string(), v.int64()).decode({"a": 1}) == {"a": 1}
    assert v.bytes().decode(b"\x00") == b"\x00"
    assert v.null().decode(None) is None
    assert v.any().encode({"x": [1, 2.5]}) == {"x": [1, 2.5]}


@attrs.frozen
class Address:
    city: str


@attrs.frozen
class Person:
    name: str
    age: int
    score: float
    address: Address
    nick: str | None = None
    kind: Literal["a", "b"] = "a"
    tags: list[str] = attrs.field(factory=list)


def test_attrs_classes_become_object_validators():
    person = object_of(Person)
    encoded = person.encode(Person("ann", 3, 1, Address("Oslo")))
    assert encoded == {
        "name": "ann",
        "age": 3,
        "score": 1.0,
        "address": {"city": "Oslo"},
        "kind": "a",
        "tags": [],
    }
    assert person.decode(encoded) == Person("ann", 3, 1.0, Address("Oslo"))
    with pytest.raises(ValidationError, match=r"person\.address\.city: expected string"):
        person.decode({**encoded, "address": {"city": 5}}, "person")


def test_id_validator_rejects_ids_of_other_tables():
    from confect.model.ids import new_id
    from confect.model.validators import bind

    note_ref = v.object({"note": v.id("notes")})
    bind(note_ref, {"notes": 10001, "users": 10002}, {})
    assert note_ref.decode({"note": new_id(10001)})
    with pytest.raises(ValidationError, match="id of table 'notes'"):
        note_ref.decode({"note": new_id(10002)})
    with pytest.raises(ValidationError):
        note_ref.decode({"note": "not-an-id"})


def test_schema_checks_names_and_index_fields_at_definition_time():
    table = define_table(Person)
    with pytest.raises(SchemaError, match="does not have"):
        table.index("by_x", ["missing"])
    with pytest.raises(SchemaError, match="reserved"):
        table.index("by_id", ["name"])
    with pytest.raises(SchemaError, match="repeats"):
        table.index("twice", ["name", "name"])
    table.index("by_city", ["address.city"])
    with pytest.raises(SchemaError, match="defined twice"):
        table.index("by_city", ["name"])
    with pytest.raises(SchemaError, match="identifier"):
        define_schema(**{"_private": define_table({"a": v.string()})})
    with pytest.raises(SchemaError, match="attrs class or a dict"):
        define_table(int)  # type: ignore[arg-type]
    schema = define_schema(people=table)
    assert {"people", "_storage", "_scheduled_functions"} <= set(schema.tables)


def test_missing_in_type_hints_says_where_none_is_null():
    @attrs.frozen
    class Mark:
        plain: str | None = None  # None is missing: the field cannot hold null
        nullable: str | Missing | None = MISSING  # None is null, MISSING is missing
        absent: str | Missing = MISSING

    shape = object_of(Mark)
    assert shape.encode(Mark()) == {}
    assert shape.encode(Mark(nullable=None)) == {"nullable": None}
    assert shape.decode({}) == Mark(None, MISSING, MISSING)
    assert shape.decode({"nullable": None, "absent": "x"}) == Mark(None, None, "x")
    with pytest.raises(ValidationError, match=r"value\.absent: expected string, got None"):
        shape.decode({"absent": None})


@attrs.frozen
class Post:
    title: str


@attrs.frozen
class Comment:
    post_id: Id[Post]
    text: str


@attrs.frozen
class Link:
    target: Id[Any]
    other: Id[dict[str, Any]] | None = None


def test_an_id_typed_by_a_document_class_names_that_classes_table():
    schema = define_schema(posts=define_table(Post), comments=define_table(Comment))
    post_id = schema.table("comments").validator.fields["post_id"]
    assert post_id.describe() == "id('posts')"
    bind(schema.table("comments").validator, {"posts": 10001, "comments": 10002}, {})
    a_post = new_id(10001)
    assert post_id.decode(a_post) == a_post and isinstance(post_id.decode(a_post), Id)
    with pytest.raises(ValidationError, match="document.post_id: expected id of table 'posts'"):
        schema.table("comments").validator.encode(Comment(new_id(10002), "hi"), "document")


def test_an_id_typed_by_a_class_no_table_or_several_tables_hold_is_a_schema_error():
    with pytest.raises(
        SchemaError, match=r"comments\.post_id: Id\[Post\] .* but no table of the schema has them"
    ):
        define_schema(comments=define_table(Comment))
    with pytest.raises(SchemaError, match=r"comments\.post_id: .* but tables a, b do; give"):
        define_schema(a=define_table(Post), b=define_table(Post), comments=define_table(Comment))


def test_an_id_typed_by_anything_else_is_an_id_of_any_table():
    schema = define_schema(links=define_table(Link))
    link = schema.table("links").validator
    bind(link, {"links": 10001}, {})
    encoded = link.encode(Link(Id(new_id(10007)), Id(new_id(10008))), "document")
    assert encoded == {"target": encoded["target"], "other": encoded["other"]}
    decoded = link.decode(encoded)
    assert isinstance(decoded.target, Id) and decoded.target == encoded["target"]
    with pytest.raises(ValidationError, match="document.target: expected id of any table"):
        link.encode(Link(Id("not-an-id")), "document")
