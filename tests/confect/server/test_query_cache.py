"""The server's query cache: a query runs again only when a commit wrote into what it read,
or when its arguments, caller or code differ."""

import logging

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
from confect.server.asgi import Server
from confect.server.calls import Caller
from confect.services.auth import UserIdentity

SCHEMA = define_schema(
    items=define_table({"name": v.string(), "n": v.number()}).index("by_name", ["name"])
)
runs: list[str] = []


@query(args={"name": v.string()})
def count(name: str):
    runs.append(name)
    logging.getLogger("app").warning("counting %s", name)
    db = yield from DatabaseReader
    found = yield from db.table("items").index("by_name", lambda q: q.eq("name", name)).collect()
    return float(len(found))


@query()
def broken():
    runs.append("broken")
    raise ValueError("no")
    yield


@mutation(args={"name": v.string()})
def add(name: str):
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"name": name, "n": 1.0})


def server(count_fn=count) -> Server:
    functions = {"items:count": count_fn, "items:add": add, "items:broken": broken}
    return Server(Backend(App(functions, SCHEMA)))


async def call(served: Server, path: str, args: dict, caller: Caller | None = None):
    return await served.functions.call(path, args, caller or Caller())


async def test_a_repeated_query_runs_once_until_a_commit_writes_into_what_it_read():
    runs.clear()
    served = server()
    assert (await call(served, "items:count", {"name": "a"})).value == 0
    assert (await call(served, "items:count", {"name": "a"})).value == 0
    assert runs == ["a"]
    await call(served, "items:add", {"name": "b"})  # outside the range the query read
    assert (await call(served, "items:count", {"name": "a"})).value == 0
    assert runs == ["a"]
    await call(served, "items:add", {"name": "a"})  # inside it
    assert (await call(served, "items:count", {"name": "a"})).value == 1
    assert runs == ["a", "a"]


async def test_arguments_callers_and_the_admin_key_are_cached_apart():
    runs.clear()
    served = server()
    alice = Caller(UserIdentity.from_claims({"sub": "alice", "iss": "https://issuer"}))
    renamed = Caller(
        UserIdentity.from_claims({"sub": "alice", "iss": "https://issuer", "name": "Al"})
    )
    for args, caller in [
        ({"name": "a"}, None),
        ({"name": "b"}, None),
        ({"name": "a"}, alice),
        ({"name": "a"}, renamed),
        ({"name": "a"}, Caller(admin=True)),
    ]:
        await call(served, "items:count", args, caller)
        await call(served, "items:count", args, caller)
    assert runs == ["a", "b", "a", "a", "a"]


async def test_failures_are_not_cached_and_hits_repeat_the_log_lines():
    runs.clear()
    served = server()
    for _ in range(2):
        assert not (await call(served, "items:broken", {})).success
    assert runs == ["broken", "broken"]
    first = await call(served, "items:count", {"name": "a"})
    again = await call(served, "items:count", {"name": "a"})
    assert runs == ["broken", "broken", "a"]  # the second was a hit
    assert [line.wire() for line in first.log_lines] == ["[WARN] 'counting a'"]
    assert again.log_lines == first.log_lines  # as Convex's cache answers


async def test_reloading_the_app_forgets_cached_results():
    served = server()
    assert (await call(served, "items:count", {"name": "a"})).value == 0

    @query(args={"name": v.string()})
    def count_plus_one(name: str):
        return 1 + (yield from count.handler(name=name))

    await served.reload(App({"items:count": count_plus_one, "items:add": add}, SCHEMA))
    assert (await call(served, "items:count", {"name": "a"})).value == 1


async def test_the_cache_keeps_only_the_most_recently_used_results():
    runs.clear()
    served = server()
    served.functions.cache = type(served.functions.cache)(served.backend, size=2)
    for name in ["a", "b", "a", "c", "a", "b"]:
        await call(served, "items:count", {"name": name})
    assert runs == ["a", "b", "c", "b"]  # "b" was the least recently used when "c" came


async def test_a_cached_outcome_is_as_of_the_latest_commit_it_was_checked_against():
    served = server()
    first = await call(served, "items:count", {"name": "a"})
    await call(served, "items:add", {"name": "b"})
    again = await call(served, "items:count", {"name": "a"})
    assert again.value == first.value
    assert again.ts == served.backend.engine.last_ts() > (first.ts or 0)


@query(args={"size": v.number()})
def blob(size: float):
    runs.append(f"blob {size:g}")
    return "x" * int(size)
    yield


async def test_the_cache_keeps_a_bounded_number_of_bytes():
    runs.clear()
    served = Server(Backend(App({"items:blob": blob}, SCHEMA)))
    served.functions.cache = type(served.functions.cache)(served.backend, max_bytes=16_000)
    for size in [600, 600, 2_000, 600, 900, 900, 600]:
        await call(served, "items:blob", {"size": size})
    # 2,000 bytes is over a sixteenth of the budget: never kept; the rest fit
    assert runs == ["blob 600", "blob 2000", "blob 900"]
    for size in range(1, 40):  # 39 values of ~900 bytes: the oldest go
        await call(served, "items:blob", {"size": 900 + size})
    runs.clear()
    await call(served, "items:blob", {"size": 600})
    await call(served, "items:blob", {"size": 939})
    assert runs == ["blob 600"]
