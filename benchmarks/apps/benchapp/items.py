from confect import (
    DatabaseReader,
    DatabaseWriter,
    MutationRunner,
    QueryRunner,
    action,
    mutation,
    query,
    v,
)


@query(args={"key": v.string()})
def by_key(key: str):
    db = yield from DatabaseReader
    found = yield from db.table("items").index("by_key", lambda q: q.eq("key", key)).first()
    return None if found is None else {"key": found.key, "n": found.n}


@mutation(args={"key": v.string(), "n": v.number()})
def insert(key: str, n: float):
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"key": key, "n": n})


@action(args={"key": v.string(), "n": v.number()})
def insert_then_get(key: str, n: float):
    """`insert` then `by_key`, from one action (the round trip inside one call)."""
    mutations = yield from MutationRunner
    queries = yield from QueryRunner
    yield from mutations.run_mutation(insert, key=key, n=n)
    return (yield from queries.run_query(by_key, key=key))


@query()
def latest():
    """The ten newest messages (what a chat client subscribes to)."""
    db = yield from DatabaseReader
    return [m.text for m in (yield from db.table("messages").order("desc").take(10))]


@mutation(args={"text": v.string()})
def post(text: str):
    db = yield from DatabaseWriter
    yield from db.table("messages").insert({"text": text})


@query(args={"n": v.number()})
def newest(n: float):
    """The `n` newest messages (one connection subscribes to many of these)."""
    db = yield from DatabaseReader
    return len((yield from db.table("messages").order("desc").take(int(n))))
