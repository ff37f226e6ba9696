"""Values on every engine: only what Convex accepts gets in, whatever is stored reads back as
itself, a deployment opens and serves around a stored document it cannot read, and the
per-transaction byte limits hold."""

import logging
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

import effects
from confect import (
    App,
    Backend,
    ConvexError,
    CorruptDocumentError,
    DatabaseReader,
    DatabaseWriter,
    InvalidValueError,
    MutationRunner,
    Scheduler,
    TransactionLimitError,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.engine.interface import Engine, Write
from confect.engine.sql.postgres import PostgresEngine
from confect.engine.sql.sqlite import SqliteEngine
from confect.model.ids import new_id
from confect.model.values import MAX_DOCUMENT_BYTES, prefix_range, value_size
from tests.engines import ENGINES, release
from tests.postgres import URL

# a `big` document with a body of n characters is 70 + n bytes as Convex counts:
# 2 (braces) + _id 3+1+34 + _creationTime 13+1+9 + body 4+1+(n+2)
ONE_MIB_BODY = MAX_DOCUMENT_BYTES - 70

THINGS = {"name": v.string(), "data": v.any(), "tags": v.optional(v.record(v.string(), v.string()))}
SCHEMA = define_schema(
    things=define_table(THINGS),
    others=define_table({"name": v.string()}),
    big=define_table({"body": v.string()}),
)


@mutation(args={"name": v.string(), "data": v.any()})
def put(name: str, data: Any):
    db = yield from DatabaseWriter
    return (yield from db.table("things").insert({"name": name, "data": data}))


@mutation(args={"key": v.string()})
def put_keyed(key: str):
    """Builds an object from a string argument, as app code does."""
    db = yield from DatabaseWriter
    yield from db.table("things").insert({"name": "keyed", "data": {"inner": [{key: 1.0}]}})


@mutation(args={"key": v.string()})
def put_tagged(key: str):
    db = yield from DatabaseWriter
    yield from db.table("things").insert({"name": "tagged", "data": None, "tags": {key: "t"}})


@mutation(args={"id": v.id("things"), "key": v.string()})
def patch_keyed(id: str, key: str):
    db = yield from DatabaseWriter
    yield from db.table("things").patch(id, {"data": {key: "p"}})


@mutation(args={"id": v.id("things"), "key": v.string()})
def replace_keyed(id: str, key: str):
    db = yield from DatabaseWriter
    yield from db.table("things").replace(id, {"name": "replaced", "data": {key: "r"}})


@mutation(args={"key": v.string()})
def returns_keyed(key: str):
    db = yield from DatabaseWriter
    yield from db.table("others").insert({"name": "written before returning"})
    return {key: 1.0}


@mutation(args={"key": v.string()})
def schedules_keyed(key: str):
    scheduler = yield from Scheduler
    yield from scheduler.run_after(0, put, {"name": "scheduled", "data": {key: 1.0}})


@query(args={"table": v.string()})
def names(table: str):
    db = yield from DatabaseReader
    return sorted(d.name for d in (yield from db.table(table).collect()))


@query(args={"id": v.id("things")})
def get_thing(id: str):
    db = yield from DatabaseReader
    return (yield from db.table("things").get(id)).name


@mutation(args={"n": v.number(), "size": v.number(), "fail": v.optional(v.boolean())})
def write_big(n: float, size: float, fail: bool | None):
    db = yield from DatabaseWriter
    for _ in range(int(n)):
        yield from db.table("big").insert({"body": "x" * int(size)})
    if fail:
        yield from ConvexError(data="undone")


@mutation()
def write_big_after_undone():
    runner = yield from MutationRunner
    undone = runner.run_mutation(write_big, {"n": 10, "size": ONE_MIB_BODY, "fail": True})
    yield from undone.catch_tag(ConvexError, lambda _: effects.succeed(None))
    yield from runner.run_mutation(write_big, {"n": 10, "size": ONE_MIB_BODY})


@query()
def read_big():
    db = yield from DatabaseReader
    return len((yield from db.table("big").collect()))


FUNCTIONS = (
    put,
    put_keyed,
    put_tagged,
    patch_keyed,
    replace_keyed,
    returns_keyed,
    schedules_keyed,
    names,
    get_thing,
    write_big,
    write_big_after_undone,
    read_big,
)
APP = App({f"v:{f.handler.__name__}": f for f in FUNCTIONS}, SCHEMA)


def call(backend: Backend, name: str, args: dict[str, Any] | None = None) -> Any:
    fn = backend.resolve(f"v:{name}")
    runner = backend.query if fn.kind == "query" else backend.mutation
    return effects.run_sync(runner(fn, fn.encode_args(args or {}))).value


# --- only what Convex accepts gets in --------------------------------------------------------------


@pytest.mark.parametrize("key", ["$integer", "$bytes", "$x", "é", "a\nb"])
def test_a_field_name_convex_refuses_gets_in_nowhere(engine: Engine, key: str):
    backend = Backend(APP, engine)
    thing = call(backend, "put", {"name": "good", "data": 1.0})
    refused: list[tuple[str, dict[str, Any], str]] = [
        ("put_keyed", {"key": key}, "document.data.inner[0]"),  # inside v.any()
        ("put_tagged", {"key": key}, "document.tags"),  # a v.record's key
        ("patch_keyed", {"id": thing, "key": key}, "document.data"),
        ("replace_keyed", {"id": thing, "key": key}, "document.data"),
        ("returns_keyed", {"key": key}, "return value"),
        ("schedules_keyed", {"key": key}, "args.data"),
    ]
    for name, args, path in refused:
        with pytest.raises(InvalidValueError) as raised:
            call(backend, name, args)
        assert raised.value.path == path, name
        assert f"has the field name {key!r}" in str(raised.value)
    assert call(backend, "names", {"table": "things"}) == ["good"]
    assert call(backend, "names", {"table": "others"}) == []  # the mutation that returned it
    assert backend.pending_jobs() == []


def test_whatever_a_document_holds_it_is_stored_and_read_back_as_itself(engine: Engine):
    """Stored bypassing every check (as data from before the checks could be): objects that
    look like the wire encoding's own come back as the objects they are."""
    backend = Backend(APP, engine)
    data: dict[str, Any] = {
        "$integer": "AA",
        "nested": [{"$float": "BQAAAAAAAAA="}, {"$bytes": 5}, {"$$": {"$": "$$x"}}],
        "real": [7, -0.0, b"\x00\xff"],
    }
    id_ = str(new_id(backend.numbers["things"]))
    document = {"_id": id_, "_creationTime": 1.0, "name": "raw", "data": data}
    engine.commit(engine.last_ts(), [], [Write("things", id_, None, document)])
    for read in (engine.get("things", id_), next(engine.documents("things"))):
        assert read == document
        assert read is not None and type(read["data"]["real"][0]) is int


# --- a stored document that cannot be read ---------------------------------------------------------

UNREADABLE = [
    '{"_id":"ID","_creationTime":1.0,"name":"bad","data":{"$integer":"AA"}}',  # issue #12
    '{"_id":"ID","_creationTime":1.0,"name":"bad","data":{"$float":"AAAA"}}',
    '{"_id":"ID","_creationTime":1.0,"na',
]


def _overwrite_sqlite(engine: SqliteEngine, id_: str, body: str) -> Callable[[], Engine]:
    directory = engine.directory
    engine.close()
    with sqlite3.connect(directory / "data.sqlite3") as db:
        db.execute("UPDATE documents SET body = ? WHERE id = ?", (body, id_))
    return lambda: SqliteEngine(directory)


def _overwrite_postgres(engine: PostgresEngine, id_: str, body: str) -> Callable[[], Engine]:
    with psycopg.connect(URL, autocommit=True) as db:
        table = sql.Identifier(engine.schema, "documents")
        db.execute(sql.SQL("UPDATE {} SET body = %s WHERE id = %s").format(table), (body, id_))
    return lambda: PostgresEngine(URL, engine.schema)  # another process of the deployment


OVERWRITE: dict[str, Callable[[Any, str, str], Callable[[], Engine]]] = {
    "sqlite": _overwrite_sqlite,
    "postgres": _overwrite_postgres,
}


@pytest.fixture(params=sorted(OVERWRITE))
def stored_engine(request: pytest.FixtureRequest) -> Iterator[tuple[Engine, Callable[..., Any]]]:
    """An engine that stores documents as rows, and how to damage one of its rows (which
    gives how to open the deployment again)."""
    made = ENGINES[request.param]()
    reopened: list[Engine] = []

    def damage(id_: str, body: str) -> Engine:
        reopened.append(OVERWRITE[request.param](made, id_, body)())
        return reopened[-1]

    yield made, damage
    for other in reopened:
        other.close()
    release(made)


@pytest.mark.parametrize("body", UNREADABLE)
def test_a_deployment_opens_and_serves_around_a_document_it_cannot_read(
    stored_engine: tuple[Engine, Callable[..., Engine]], body: str, caplog: pytest.LogCaptureFixture
):
    engine, damage = stored_engine
    backend = Backend(APP, engine)
    good = call(backend, "put", {"name": "good", "data": 1.0})
    bad = call(backend, "put", {"name": "soon bad", "data": 2.0})
    call(backend, "returns_keyed", {"key": "fine"})  # a document in `others`
    with caplog.at_level(logging.ERROR, logger="confect.engine"):
        reopened = Backend(APP, damage(bad, body.replace("ID", bad)))
    assert f"things {bad}" in caplog.text  # reported: which table, which id
    assert call(reopened, "get_thing", {"id": good}) == "good"
    assert call(reopened, "names", {"table": "others"}) == ["written before returning"]
    for name, args in (("get_thing", {"id": bad}), ("names", {"table": "things"})):
        with pytest.raises(CorruptDocumentError) as raised:
            call(reopened, name, args)
        assert (raised.value.table, raised.value.id) == ("things", bad)
        assert bad in str(raised.value) and "things" in str(raised.value)
    call(reopened, "put", {"name": "after", "data": 3.0})  # writes go on
    indexed = define_schema(
        things=define_table(THINGS).index("by_name", ["name"]),  # a new index, built around it
        others=SCHEMA.tables["others"],
        big=SCHEMA.tables["big"],
    )
    reopened.reload(App(APP.functions, indexed))
    lo, hi = prefix_range("good")
    assert [d["_id"] for _, d in reopened.engine.scan("things", "by_name", lo, hi, False)] == [good]


# --- per-transaction byte limits -------------------------------------------------------------------


def test_a_transaction_writes_at_most_16_mib(engine: Engine):
    backend = Backend(APP, engine)
    with pytest.raises(TransactionLimitError, match="wrote more than 16777216 bytes"):
        call(backend, "write_big", {"n": 17, "size": ONE_MIB_BODY - 1000})
    assert call(backend, "read_big") == 0
    call(backend, "write_big", {"n": 16, "size": ONE_MIB_BODY})
    assert call(backend, "read_big") == 16
    one = {"_id": "x" * 32, "_creationTime": 1.0, "body": "x" * ONE_MIB_BODY}
    assert value_size(one) == MAX_DOCUMENT_BYTES  # so that was exactly 16 MiB


def test_a_transaction_reads_at_most_16_mib(engine: Engine):
    backend = Backend(APP, engine)
    for _ in range(2):
        call(backend, "write_big", {"n": 8, "size": ONE_MIB_BODY})
    assert call(backend, "read_big") == 16  # exactly 16 MiB
    call(backend, "write_big", {"n": 1, "size": 0})
    with pytest.raises(TransactionLimitError, match="read more than 16777216 bytes"):
        call(backend, "read_big")


def test_the_writes_of_an_undone_sub_mutation_do_not_count(engine: Engine):
    backend = Backend(APP, engine)
    call(backend, "write_big_after_undone")  # 10 MiB undone, then 10 MiB written
    assert call(backend, "read_big") == 10
