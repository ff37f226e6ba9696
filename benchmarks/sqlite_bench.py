"""Benchmark of the SQLite engine against raw `sqlite3` doing the same work, in one run.

1. index lookup: a table of N documents (1,000,000; 100,000 with --quick) with an index on
   a string field; look up one document by that field. Rows: the engine's index scan, a
   whole query function call (`Backend.query`), and raw sqlite3 (`SELECT ... WHERE key = ?`
   on an indexed column). µs per lookup.
2. durable inserts: mutations inserting one small document each, with 1, 16 and 64 running
   concurrently (group commit); vs a raw sqlite3 loop with one commit (one fsync) per
   insert, the same journal mode (WAL) and `synchronous=FULL`. Commits per second.

    python benchmarks/sqlite_bench.py [--quick]
"""

from __future__ import annotations

import asyncio
import json
import platform
import random
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

import _bench

import effects
from confect import (
    App,
    DatabaseReader,
    DatabaseWriter,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.engine.interface import Write
from confect.engine.sql.sqlite import SqliteEngine
from confect.model.ids import new_id
from confect.model.values import AFTER_PREFIX, encode_key
from confect.runtime.deployment import Backend

QUICK = "--quick" in sys.argv
N_DOCS = 100_000 if QUICK else 1_000_000
N_LOOKUPS = 2_000
N_INSERTS = 300 if QUICK else 1_000
CONCURRENCY = (1, 16, 64)

SCHEMA = define_schema(
    items=define_table({"key": v.string(), "n": v.float64()}).index("by_key", ["key"])
)


@query(args={"key": v.string()})
def by_key(key: str):
    db = yield from DatabaseReader
    found = yield from db.table("items").index("by_key", lambda q: q.eq("key", key)).first()
    return None if found is None else found.n


@mutation(args={"key": v.string()})
def insert(key: str):
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"key": key, "n": 1.0})


APP = App({"items:by_key": by_key, "items:insert": insert}, SCHEMA)


def fill(engine: SqliteEngine, number: int) -> None:
    batch: list[Write] = []
    for i in range(N_DOCS):
        id_ = str(new_id(number))
        document: dict[str, Any] = {
            "key": f"k{i}",
            "n": float(i),
            "_id": id_,
            "_creationTime": float(i),
        }
        batch.append(Write("items", id_, None, document))
        if len(batch) == 10_000:
            engine.commit(engine.last_ts(), [], batch)
            batch = []
    if batch:
        engine.commit(engine.last_ts(), [], batch)


def raw_database(path: Path, rows: int) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE items (id TEXT PRIMARY KEY, key TEXT, body TEXT)")
    db.execute("CREATE INDEX items_by_key ON items (key)")
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO items VALUES (?, ?, ?)",
        ((f"id{i}", f"k{i}", json.dumps({"key": f"k{i}", "n": float(i)})) for i in range(rows)),
    )
    db.execute("COMMIT")
    return db


def lookups(workdir: Path) -> dict[str, float]:
    engine = SqliteEngine(workdir / "lookup")
    backend = Backend(APP, engine)
    fill(engine, backend.numbers["items"])
    raw = raw_database(workdir / "raw-lookup.sqlite3", N_DOCS)
    keys = [f"k{random.randrange(N_DOCS)}" for _ in range(N_LOOKUPS)]

    def engine_lookup(key: str) -> Any:
        prefix = encode_key((key,))
        return next(engine.scan("items", "by_key", prefix, prefix + AFTER_PREFIX, False))

    def query_lookup(key: str) -> Any:
        return effects.run_sync(backend.query(by_key, {"key": key})).value

    def raw_lookup(key: str) -> Any:
        return json.loads(raw.execute("SELECT body FROM items WHERE key = ?", (key,)).fetchone()[0])

    result = {
        "raw sqlite3 SELECT": _bench.per_item_us(raw_lookup, keys),
        "engine index scan": _bench.per_item_us(engine_lookup, keys),
        "query function call": _bench.per_item_us(query_lookup, keys),
    }
    engine.close()
    raw.close()
    return result


def raw_inserts_per_second(path: Path) -> float:
    db = raw_database(path, 0)
    with _bench.Stopwatch() as watch:
        for i in range(N_INSERTS):
            db.execute(
                "INSERT INTO items VALUES (?, ?, ?)",
                (f"id{i}", f"k{i}", json.dumps({"key": f"k{i}", "n": 1.0})),
            )
    db.close()
    return N_INSERTS / watch.seconds


async def inserts_per_second(path: Path, concurrency: int) -> float:
    engine = SqliteEngine(path)
    backend = Backend(APP, engine, group_commit=True)
    runs = [backend.mutation(insert, {"key": f"k{i}"}) for i in range(N_INSERTS)]
    with _bench.Stopwatch() as watch:
        await effects.run(effects.all(runs, concurrency=concurrency))
    engine.close()
    return N_INSERTS / watch.seconds


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="confect-bench-") as temporary:
        workdir = Path(temporary)
        print(
            f"SQLite engine benchmark · Python {platform.python_version()} · SQLite {sqlite3.sqlite_version}"
        )
        print(f"\n1. index lookup in {N_DOCS:,} documents (µs per lookup; ratio to raw sqlite3)")
        found = lookups(workdir)
        base = found["raw sqlite3 SELECT"]
        for label, us in found.items():
            print(f"   {label:<24} {us:9.1f} µs   {us / base:5.2f}×")
        print(
            f"\n2. durable inserts, {N_INSERTS} one-document mutations (commits/s; ratio to raw sqlite3)"
        )
        raw = raw_inserts_per_second(workdir / "raw-insert.sqlite3")
        print(f"   {'raw sqlite3, 1 commit per insert':<34} {raw:9.0f}/s   1.00×")
        inserts: dict[str, float] = {}
        for concurrency in CONCURRENCY:
            rate = asyncio.run(inserts_per_second(workdir / f"insert-{concurrency}", concurrency))
            inserts[str(concurrency)] = rate
            print(
                f"   {f'confect, {concurrency} concurrent mutations':<34} {rate:9.0f}/s   {rate / raw:4.2f}×"
            )
    out = Path(__file__).parent / "results" / "sqlite_bench.json"
    out.write_text(
        json.dumps(
            {
                "quick": QUICK,
                "documents": N_DOCS,
                "lookup_us": found,
                "raw_inserts_per_s": raw,
                "inserts_per_s": inserts,
            },
            indent=2,
        )
    )
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
