"""Calls free what they used when they end: no reference cycles left for the cyclic GC,
whose collections cost more than the calls under load."""

import gc

import effects
from confect import (
    App,
    Backend,
    DatabaseReader,
    DatabaseWriter,
    QueryCtx,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)

SCHEMA = define_schema(items=define_table({"name": v.string()}).index("by_name", ["name"]))


@mutation(args={"name": v.string()})
def add(name: str):
    db = yield from DatabaseWriter
    return (yield from db.table("items").insert({"name": name}))


@query(args={"name": v.string()})
def named(name: str):
    db = yield from DatabaseReader
    ctx = yield from QueryCtx
    assert ctx.db is db
    return len(
        (yield from db.table("items").index("by_name", lambda q: q.eq("name", name)).collect())
    )


def test_queries_and_mutations_leave_no_reference_cycles():
    backend = Backend(App({"items:add": add, "items:named": named}, SCHEMA))
    effects.run_sync(backend.mutation(add, {"name": "warm up"}))
    gc.collect()
    gc.disable()
    try:
        for i in range(10):
            effects.run_sync(backend.mutation(add, {"name": f"n{i}"}))
            assert effects.run_sync(backend.query(named, {"name": f"n{i}"})).value == 1
        assert gc.collect() == 0
    finally:
        gc.enable()
