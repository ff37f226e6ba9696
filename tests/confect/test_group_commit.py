"""Group commit: concurrent mutations on a loop share commits and stay serializable."""

from pathlib import Path

import effects
from confect import (
    App,
    Backend,
    DatabaseReader,
    DatabaseWriter,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.engine.sqlite import SqliteEngine

SCHEMA = define_schema(
    counters=define_table({"value": v.int64()}), notes=define_table({"n": v.int64()})
)


@mutation()
def new_counter():
    db = yield from DatabaseWriter
    return (yield from db.table("counters").insert({"value": 0}))


@mutation(args={"id": v.id("counters")})
def increment(id: str):
    db = yield from DatabaseReader
    counter = yield from db.table("counters").get(id)
    yield from effects.yield_now()
    writer = yield from DatabaseWriter
    yield from writer.table("counters").patch(id, {"value": counter.value + 1})


@mutation(args={"n": v.int64()})
def add_note(n: int):
    db = yield from DatabaseWriter
    yield from db.table("notes").insert({"n": n})


@query()
def count_notes():
    db = yield from DatabaseReader
    return len((yield from db.table("notes").collect()))


APP = App(
    {"c:new": new_counter, "c:inc": increment, "c:add": add_note, "c:count": count_notes}, SCHEMA
)


class CountingEngine(SqliteEngine):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.batches: list[int] = []

    def commit_many(self, requests):
        self.batches.append(len(requests))
        return super().commit_many(requests)


async def test_independent_inserts_share_batches(tmp_path: Path):
    engine = CountingEngine(tmp_path)
    backend = Backend(APP, engine, group_commit=True)
    engine.batches.clear()
    await effects.run(
        effects.all(
            [backend.mutation(add_note, {"n": i}) for i in range(64)], concurrency="unbounded"
        )
    )
    assert (await effects.run(backend.query(count_notes, {}))).value == 64
    assert sum(engine.batches) == 64 and max(engine.batches) > 1
    engine.close()


async def test_conflicting_increments_stay_serializable(tmp_path: Path):
    engine = CountingEngine(tmp_path)
    backend = Backend(APP, engine, group_commit=True)
    counter = (await effects.run(backend.mutation(new_counter, {}))).value
    runs = [backend.mutation(increment, {"id": counter}) for _ in range(20)]
    await effects.run(effects.all(runs, concurrency="unbounded"))
    assert engine.get("counters", str(counter))["value"] == 20
    engine.close()
