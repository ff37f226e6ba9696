"""Union tables on every engine: documents of each object of the union in one index, which
names fields of the objects, read in index order and kept in it as patches move them."""

import effects
from confect import (
    MISSING,
    App,
    Backend,
    ConvexInt64,
    DatabaseReader,
    DatabaseWriter,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.engine.interface import Engine

SCHEMA = define_schema(
    events=define_table(
        v.union(
            v.object({"kind": v.literal("click"), "at": v.number(), "x": v.number()}),
            v.object({"kind": v.literal("key"), "at": v.number(), "code": v.int64()}),
        )
    )
    .index("by_kind_at", ["kind", "at"])
    .index("by_code", ["code"]),
)


@mutation(args={"event": v.any()}, returns=v.id("events"))
def record(event):
    db = yield from DatabaseWriter
    return (yield from db.table("events").insert(event))


@mutation(args={"id": v.id("events"), "fields": v.any()})
def change(id: str, fields):
    db = yield from DatabaseWriter
    yield from db.table("events").patch(
        id, {k: MISSING if x is None else x for k, x in fields.items()}
    )


@query(args={"kind": v.string(), "since": v.number()})
def of_kind(kind: str, since: float):
    db = yield from DatabaseReader
    found = db.table("events").index("by_kind_at", lambda q: q.eq("kind", kind).gte("at", since))
    return [d["at"] for d in (yield from found.collect())]


@query(args={"above": v.int64()})
def codes_above(above: int):
    db = yield from DatabaseReader
    found = db.table("events").index("by_code", lambda q: q.gt("code", above))
    return [d["code"] for d in (yield from found.collect())]


APP = App({f"u:{f.handler.__name__}": f for f in (record, change, of_kind, codes_above)}, SCHEMA)


def call(backend: Backend, kind: str, fn, args: dict):
    encoded = backend.resolve(fn).encode_args(args)
    return effects.run_sync(getattr(backend, kind)(fn, encoded)).value


def test_an_index_over_a_union_table_orders_documents_of_every_object(engine: Engine):
    backend = Backend(APP, engine)
    for at in (3, 1, 2):
        call(backend, "mutation", record, {"event": {"kind": "click", "at": at, "x": 0}})
    for at, code in ((5, 30), (4, 10)):
        event = {"kind": "key", "at": at, "code": ConvexInt64(code)}
        call(backend, "mutation", record, {"event": event})
    assert call(backend, "query", of_kind, {"kind": "click", "since": 2}) == [2.0, 3.0]
    assert call(backend, "query", of_kind, {"kind": "key", "since": 0}) == [4.0, 5.0]
    assert call(backend, "query", codes_above, {"above": 10}) == [30]


def test_a_patch_that_moves_a_document_to_another_object_moves_it_in_the_index(engine: Engine):
    backend = Backend(APP, engine)
    click = call(backend, "mutation", record, {"event": {"kind": "click", "at": 1, "x": 0}})
    key = {"kind": "key", "x": None, "code": ConvexInt64(20)}
    call(backend, "mutation", change, {"id": click, "fields": key})
    assert call(backend, "query", of_kind, {"kind": "click", "since": 0}) == []
    assert call(backend, "query", of_kind, {"kind": "key", "since": 0}) == [1.0]
    assert call(backend, "query", codes_above, {"above": 0}) == [20]
