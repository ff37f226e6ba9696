from confect import (
    DatabaseReader,
    DatabaseWriter,
    MutationRunner,
    QueryRunner,
    Scheduler,
    action,
    internal_mutation,
    mutation,
    query,
    v,
)

from .refs import refs


@query(args={"author": v.string()})
def count(author: str):
    db = yield from DatabaseReader
    return len([n for n in (yield from db.table("notes").collect()) if n.author == author])


@mutation(args={"author": v.string()})
def add(author: str):
    db = yield from DatabaseWriter
    yield from db.table("notes").insert({"author": author})
    queries = yield from QueryRunner
    return (yield from queries.run_query(count, author=author))


@internal_mutation(args={"author": v.string()})
def add_later(author: str):
    yield from DatabaseWriter.flat_map(lambda db: db.table("notes").insert({"author": author}))


@action(args={"author": v.string()})
def add_twice(author: str):
    mutations = yield from MutationRunner
    yield from mutations.run_mutation(refs.api.notes.add, author=author)
    yield from mutations.run_mutation(refs.api.notes.add, {"author": author})
    scheduler = yield from Scheduler
    yield from scheduler.run_after(60, refs.internal.notes.add_later, author=author)
    queries = yield from QueryRunner
    return (yield from queries.run_query("notes:count", author=author))
