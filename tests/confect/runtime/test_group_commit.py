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
from confect.engine.interface import BY_CREATION_TIME, Write
from confect.engine.sql.sqlite import SqliteEngine
from confect.model.ids import new_id
from tests.counters import COUNTERS, increment, new_counter

SCHEMA = define_schema(counters=COUNTERS, notes=define_table({"n": v.int64()}))


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


def test_a_batch_that_writes_one_document_several_times_leaves_only_the_last_version(
    tmp_path: Path,
):
    schema = define_schema(items=define_table({"name": v.string()}).index("by_name", ["name"]))
    engine = SqliteEngine(tmp_path)
    number = engine.configure(schema)["items"]
    a, b, c = (str(new_id(number)) for _ in range(3))

    def doc(id_: str, name: str, at: float) -> dict:
        return {"_id": id_, "_creationTime": at, "name": name}

    engine.commit(0, [], [Write("items", c, None, doc(c, "c", 1.0))])
    first, second, third = (
        [Write("items", a, None, doc(a, "a", 2.0)), Write("items", b, None, doc(b, "b", 3.0))],
        [Write("items", a, doc(a, "a", 2.0), doc(a, "a2", 2.0))],
        [Write("items", b, doc(b, "b", 3.0), None), Write("items", c, doc(c, "c", 1.0), None)],
    )
    engine.commit_many([(0, [], first), (0, [], second), (0, [], third)])

    def check(store: SqliteEngine) -> None:
        for index in ("by_name", BY_CREATION_TIME):
            found = store.scan("items", index, b"", b"\xff", False)
            assert [document["name"] for _, document in found] == ["a2"]
        assert store.get("items", b) is None and store.get("items", c) is None

    check(engine)
    engine.close()
    again = SqliteEngine(tmp_path)
    again.configure(schema)
    check(again)
    again.close()
