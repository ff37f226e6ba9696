"""Counters that concurrent mutations increment: each reads its counter, lets the others run,
then writes, so that increments interleave and conflict. The tests of serializability (the
engine conformance suite, group commit) run them, in a table `counters` of `COUNTERS`."""

import effects
from confect import DatabaseReader, DatabaseWriter, define_table, mutation, query, v

COUNTERS = define_table({"value": v.int64()})


@mutation(args={"id": v.id("counters")})
def increment(id: str):
    reader = yield from DatabaseReader
    counter = yield from reader.table("counters").get(id)
    yield from effects.yield_now()  # let the other mutations interleave here
    writer = yield from DatabaseWriter
    yield from writer.table("counters").patch(id, {"value": counter.value + 1})


@mutation()
def new_counter():
    db = yield from DatabaseWriter
    return (yield from db.table("counters").insert({"value": 0}))


@query(args={"id": v.id("counters")})
def counter(id: str):
    db = yield from DatabaseReader
    return (yield from db.table("counters").get(id)).value
