"""Schema and validation as Convex checks them, through the public API (issue #14): system
fields are not a loophole in `v.object`, `v.id("t")` takes only ids of `t`, a handler's
document validates against `v.object` listing its system fields and against `v.doc`, union
table validators, and `patch` with an unchanged system field."""

import pytest

import effects
from confect import (
    MISSING,
    App,
    DatabaseReader,
    DatabaseWriter,
    SchemaError,
    ValidationError,
    define_schema,
    define_table,
    query,
    v,
)
from confect.model.validators import ObjectV
from confect.testing import ConfectTest

SCHEMA = define_schema(
    users=define_table({"name": v.string()}),
    shapes=define_table(
        v.union(
            v.object({"kind": v.literal("circle"), "radius": v.number()}),
            v.object({"kind": v.literal("square"), "side": v.number(), "label": v.string()}),
        )
    ).index("by_kind_radius", ["kind", "radius"]),
    notes=define_table({"text": v.string(), "author": v.optional(v.id("users"))}),
)


@query(
    args={"id": v.id("users")},
    returns=v.object({"_id": v.id("users"), "_creationTime": v.number(), "name": v.string()}),
)
def user_as_object(id: str):
    db = yield from DatabaseReader
    return (yield from db.table("users").get(id))


@query(args={"id": v.id("users")}, returns=v.doc("users"))
def user_as_doc(id: str):
    db = yield from DatabaseReader
    return (yield from db.table("users").get(id))


@query(args={"id": v.id("users")}, returns=v.object({"name": v.string()}))
def user_without_system_fields(id: str):
    db = yield from DatabaseReader
    return (yield from db.table("users").get(id))


@query(args={"id": v.id("users")}, returns=v.doc("notes"))
def user_as_note(id: str):
    db = yield from DatabaseReader
    return (yield from db.table("users").get(id))


@query(args={"id": v.id("users")}, returns=v.doc("users"))
def user_renamed(id: str):
    db = yield from DatabaseReader
    user = yield from db.table("users").get(id)
    return {"_id": user["_id"], "_creationTime": user["_creationTime"], "nom": user["name"]}


@query(args={"user": v.id("users")})
def takes_user(user: str):
    return effects.succeed(user)


APP = App(
    {
        f"schema:{f.handler.__name__}": f
        for f in (
            user_as_object,
            user_as_doc,
            user_renamed,
            user_without_system_fields,
            user_as_note,
            takes_user,
        )
    },
    SCHEMA,
)


@pytest.fixture
def t() -> ConfectTest:
    return ConfectTest(APP)


def insert(t: ConfectTest, table: str, document: dict) -> str:
    def run():
        db = yield from DatabaseWriter
        return (yield from db.table(table).insert(document))

    return t.run(lambda: effects.gen(run)())


def patch(t: ConfectTest, table: str, id_: str, fields: dict) -> None:
    def run():
        db = yield from DatabaseWriter
        yield from db.table(table).patch(id_, fields)

    t.run(lambda: effects.gen(run)())


def replace(t: ConfectTest, table: str, id_: str, document: dict) -> None:
    def run():
        db = yield from DatabaseWriter
        yield from db.table(table).replace(id_, document)

    t.run(lambda: effects.gen(run)())


def get(t: ConfectTest, table: str, id_: str):
    def run():
        db = yield from DatabaseReader
        return (yield from db.table(table).get(id_))

    return t.run(lambda: effects.gen(run)())


# --- v.object and system fields -------------------------------------------------------------------


def test_system_fields_are_not_a_loophole_in_v_object():
    shape = v.object({"name": v.string()})
    with pytest.raises(ValidationError, match=r"value\._creationTime: unexpected field"):
        shape.decode({"name": "ann", "_creationTime": 1.0})
    with pytest.raises(ValidationError, match=r"value\._id: unexpected field"):
        shape.encode({"name": "ann", "_id": "x"})


def test_a_document_validates_against_v_object_listing_its_system_fields(t: ConfectTest):
    ann = insert(t, "users", {"name": "ann"})
    got = t.query(user_as_object, {"id": ann})
    assert got["_id"] == ann and got["name"] == "ann" and isinstance(got["_creationTime"], float)


def test_a_document_validates_against_v_doc_of_its_table(t: ConfectTest):
    ann = insert(t, "users", {"name": "ann"})
    got = t.query(user_as_doc, {"id": ann})
    assert got["_id"] == ann and got["name"] == "ann"


def test_a_document_does_not_validate_without_its_system_fields(t: ConfectTest):
    ann = insert(t, "users", {"name": "ann"})
    with pytest.raises(ValidationError, match="unexpected field"):
        t.query(user_without_system_fields, {"id": ann})


def test_a_document_does_not_validate_as_a_doc_of_another_table(t: ConfectTest):
    ann = insert(t, "users", {"name": "ann"})
    with pytest.raises(ValidationError, match="notes"):
        t.query(user_as_note, {"id": ann})


def test_a_document_whose_fields_do_not_fit_its_table_is_not_a_v_doc(t: ConfectTest):
    ann = insert(t, "users", {"name": "ann"})
    with pytest.raises(ValidationError, match=r"return value\.name: required field is missing"):
        t.query(user_renamed, {"id": ann})


# --- v.id -----------------------------------------------------------------------------------------


def test_an_id_of_another_table_is_refused_in_arguments_and_documents(t: ConfectTest):
    ann = insert(t, "users", {"name": "ann"})
    note = insert(t, "notes", {"text": "hi", "author": ann})
    with pytest.raises(ValidationError, match=r"user: expected id of table 'users'"):
        t.query(takes_user, {"user": note})
    with pytest.raises(ValidationError, match=r"author: expected id of table 'users'"):
        insert(t, "notes", {"text": "hi", "author": note})


def test_an_id_of_a_table_the_schema_lacks_is_refused_at_definition_time():
    with pytest.raises(SchemaError, match=r"notes\.author.*'people'"):
        define_schema(notes=define_table({"author": v.id("people")}))
    with pytest.raises(SchemaError, match="'people'"):
        define_schema(notes=define_table({"authors": v.array(v.optional(v.id("people")))}))
    define_schema(files=define_table({"file": v.id("_storage")}))  # a system table is there


# --- field names ----------------------------------------------------------------------------------


def test_table_field_names_are_identifiers_not_starting_with_underscore():
    with pytest.raises(SchemaError, match="'_secret'"):
        define_table({"_secret": v.string()})
    with pytest.raises(SchemaError, match="'a-b'"):
        define_table(v.union(v.object({"a-b": v.string()}), v.object({"x": v.string()})))
    define_table({"meta": v.object({"_id": v.string()})})  # nested objects may have them


def test_a_table_may_declare_the_system_fields_which_the_backend_sets():
    # convex-test's "accepts _id and _creationTime": the declaration is dropped
    table = define_table({"_id": v.string(), "_creationTime": v.number(), "name": v.string()})
    assert isinstance(table.validator, ObjectV) and list(table.validator.fields) == ["name"]


# --- patch and replace with system fields ---------------------------------------------------------


def test_patch_with_the_documents_own_system_fields_is_a_no_op(t: ConfectTest):
    # convex-test's "patch with _id"
    ann = insert(t, "users", {"name": "ann"})
    before = get(t, "users", ann)
    patch(t, "users", ann, {"_id": ann, "_creationTime": before["_creationTime"]})
    assert get(t, "users", ann) == before


def test_patch_or_replace_changing_a_system_field_is_refused(t: ConfectTest):
    ann = insert(t, "users", {"name": "ann"})
    bob = insert(t, "users", {"name": "bob"})
    with pytest.raises(ValidationError, match=r"patch\._id: .* does not match the document's _id"):
        patch(t, "users", ann, {"_id": bob})
    with pytest.raises(ValidationError, match=r"patch\._creationTime: "):
        patch(t, "users", ann, {"_creationTime": 1.0})
    with pytest.raises(ValidationError, match=r"replace\._id: "):
        replace(t, "users", ann, {"_id": bob, "name": "eve"})
    with pytest.raises(ValidationError, match=r"document\._other: unexpected field"):
        patch(t, "users", ann, {"_other": 1})
    assert get(t, "users", ann)["name"] == "ann"


def test_replace_takes_the_documents_own_system_fields(t: ConfectTest):
    ann = insert(t, "users", {"name": "ann"})
    before = get(t, "users", ann)
    replace(t, "users", ann, {"_id": ann, "_creationTime": before["_creationTime"], "name": "eve"})
    assert get(t, "users", ann)["name"] == "eve"


# --- union tables ---------------------------------------------------------------------------------


def test_a_union_table_takes_documents_of_each_object_and_refuses_others(t: ConfectTest):
    circle = insert(t, "shapes", {"kind": "circle", "radius": 2})
    square = insert(t, "shapes", {"kind": "square", "side": 1, "label": "a"})
    assert get(t, "shapes", circle)["radius"] == 2.0 and get(t, "shapes", square)["side"] == 1.0
    with pytest.raises(ValidationError, match="document: expected object"):
        insert(t, "shapes", {"kind": "circle", "side": 1})
    with pytest.raises(ValidationError, match="fits no object"):
        patch(t, "shapes", circle, {"side": 3})
    patch(t, "shapes", circle, {"radius": 5})
    assert get(t, "shapes", circle)["radius"] == 5.0
    # a patch may move the document to another object of the union
    patch(t, "shapes", circle, {"kind": "square", "radius": MISSING, "side": 4, "label": "b"})
    assert get(t, "shapes", circle)["side"] == 4.0
    with pytest.raises(ValidationError, match="document: expected object"):
        replace(t, "shapes", square, {"kind": "square", "side": 1})
    replace(t, "shapes", square, {"kind": "circle", "radius": 1})
    assert get(t, "shapes", square)["kind"] == "circle"


def test_a_union_tables_index_may_name_a_field_of_any_object():
    branches = v.union(v.object({"a": v.string()}), v.object({"b": v.object({"c": v.string()})}))
    define_table(branches).index("by_a", ["a"]).index("by_b_c", ["b.c"])
    with pytest.raises(SchemaError, match="does not have"):
        define_table(branches).index("by_d", ["d"])
    with pytest.raises(SchemaError, match="objects only"):
        define_table(v.union(v.object({"a": v.string()}), v.string()))


def test_a_function_naming_a_table_the_schema_lacks_is_refused_when_the_app_is_made():
    @query(args={"author": v.id("people")})
    def by_author(author: str):
        return author
        yield

    @query(returns=v.array(v.doc("posts")))
    def posts():
        return []
        yield

    @query(args={"file": v.id("_storage")})
    def file(file: str):
        return file
        yield

    schema = define_schema(notes=define_table({"text": v.string()}))
    with pytest.raises(SchemaError, match=r"q:by_author args\.author: v\.id\('people'\) names"):
        App({"q:by_author": by_author}, schema)
    with pytest.raises(SchemaError, match=r"q:posts returns\[\]: v\.doc\('posts'\) names"):
        App({"q:posts": posts}, schema)
    App({"q:file": file}, schema)  # system tables are known
