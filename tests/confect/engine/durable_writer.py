"""A child process for the durability test: commits pairs of documents in a loop and
prints each pair's number once its commit has returned (acknowledged)."""

import sys

import effects
from confect import App, Backend, DatabaseWriter, define_schema, define_table, mutation, v
from confect.engine.sql.sqlite import SqliteEngine

SCHEMA = define_schema(pairs=define_table({"n": v.int64(), "half": v.int64()}).index("by_n", ["n"]))


@mutation(args={"n": v.int64()})
def write_pair(n: int):
    db = yield from DatabaseWriter
    yield from db.table("pairs").insert({"n": n, "half": 0})
    yield from db.table("pairs").insert({"n": n, "half": 1})


APP = App({"pairs:write_pair": write_pair}, SCHEMA)


def main(directory: str, start: int) -> None:
    backend = Backend(APP, SqliteEngine(directory))
    n = start
    while True:
        effects.run_sync(backend.mutation(write_pair, {"n": n}))
        print(n, flush=True)
        n += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
