"""What one connection can make the server do: a commit's fan-out costs in proportion to the
queries it affects; caps on one connection's queries (the extra ones fail) and pending
mutations (the connection closes, as Convex's)."""

import asyncio
import json
import threading

import websockets

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
from confect.server import subscriptions, sync
from confect.server.asgi import Server
from tests.raw_http import post
from tests.servers import served

SCHEMA = define_schema(
    items=define_table({"name": v.string()}).index("by_name", ["name"]),
    other=define_table({"name": v.string()}),
)


@query(args={"n": v.number()})
def everything(n: float):
    db = yield from DatabaseReader
    return [n, float(len((yield from db.table("items").collect())))]


@query(args={"name": v.string()})
def named(name: str):
    db = yield from DatabaseReader
    found = yield from db.table("items").index("by_name", lambda q: q.eq("name", name)).collect()
    return float(len(found))


@mutation(args={"table": v.string(), "name": v.string()})
def add(table: str, name: str):
    db = yield from DatabaseWriter
    yield from db.table(table).insert({"name": name})


held = threading.Event()


@mutation()
def holds():
    held.wait(20)  # released by the test (or, if it fails, after a while)
    return None
    yield


def server() -> Server:
    functions = {"f:everything": everything, "f:named": named, "f:add": add, "f:holds": holds}
    app = App(functions, SCHEMA)
    return Server(Backend(app))


def adds(queries: list[tuple[int, str, dict]]) -> list[dict]:
    return [
        {"type": "Add", "queryId": query_id, "udfPath": path, "args": [args]}
        for query_id, path, args in queries
    ]


def modify(base: int, modifications: list[dict]) -> str:
    return json.dumps(
        {
            "type": "ModifyQuerySet",
            "baseVersion": base,
            "newVersion": base + 1,
            "modifications": modifications,
        }
    )


async def next_transition(socket_: websockets.ClientConnection) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(socket_.recv(), 30))
        if message["type"] == "Transition" and message["modifications"]:
            return message


def counting_results(monkeypatch) -> list[int]:
    """Count the result lookups connections make (one per query refreshed)."""
    calls = [0]
    original = subscriptions.Subscriptions.result

    async def counted(self, *args):
        calls[0] += 1
        return await original(self, *args)

    monkeypatch.setattr(subscriptions.Subscriptions, "result", counted)
    return calls


async def test_one_commit_refreshes_each_affected_query_of_a_connection_once(monkeypatch):
    calls = counting_results(monkeypatch)
    count = 300
    async with (
        served(server()) as address,
        websockets.connect(f"ws://{address}/api/sync") as socket_,
    ):
        await socket_.send(
            modify(0, adds([(i, "f:everything", {"n": float(i)}) for i in range(count)]))
        )
        first = await next_transition(socket_)
        assert len(first["modifications"]) == count
        calls[0] = 0
        status, _ = await post(
            address, "/api/mutation", {"path": "f:add", "args": {"table": "items", "name": "a"}}
        )
        assert status == 200
        changed = await next_transition(socket_)
        assert sorted(m["queryId"] for m in changed["modifications"]) == list(range(count))
        assert all(m["value"][1] == 1 for m in changed["modifications"])
        assert calls[0] == count  # each query once: not once per query per wake


async def test_a_commit_refreshes_only_the_queries_whose_reads_it_wrote(monkeypatch):
    calls = counting_results(monkeypatch)
    async with (
        served(server()) as address,
        websockets.connect(f"ws://{address}/api/sync") as socket_,
    ):
        await socket_.send(modify(0, adds([(i, "f:named", {"name": f"n{i}"}) for i in range(50)])))
        await next_transition(socket_)
        calls[0] = 0
        for table, name in [("other", "n3"), ("items", "n7")]:
            body = {"path": "f:add", "args": {"table": table, "name": name}}
            assert (await post(address, "/api/mutation", body))[0] == 200
        changed = await next_transition(socket_)
        assert changed["modifications"] == [
            {"type": "QueryUpdated", "queryId": 7, "value": 1, "logLines": [], "journal": None}
        ]
        assert calls[0] == 1  # the insert into `other` and the other 49 names woke nothing


async def test_queries_past_the_cap_fail_and_the_connection_carries_on(monkeypatch):
    monkeypatch.setattr(sync, "MAX_QUERIES", 3)
    async with (
        served(server()) as address,
        websockets.connect(f"ws://{address}/api/sync") as socket_,
    ):
        await socket_.send(modify(0, adds([(i, "f:named", {"name": f"n{i}"}) for i in range(4)])))
        first = await next_transition(socket_)
        by_id = {m["queryId"]: m for m in first["modifications"]}
        assert [by_id[i]["type"] for i in range(4)] == ["QueryUpdated"] * 3 + ["QueryFailed"]
        assert "Too many queries on this connection" in by_id[3]["errorMessage"]
        remove = [{"type": "Remove", "queryId": 0}]
        await socket_.send(modify(1, remove + adds([(4, "f:named", {"name": "n4"})])))
        second = await next_transition(socket_)
        assert {(m["queryId"], m["type"]) for m in second["modifications"]} == {
            (0, "QueryRemoved"),
            (4, "QueryUpdated"),
        }


async def test_too_many_pending_mutations_close_that_connection_only(monkeypatch):
    monkeypatch.setattr(sync, "MAX_PENDING", 3)
    held.clear()
    async with served(server()) as address:
        try:
            async with websockets.connect(f"ws://{address}/api/sync") as socket_:
                for request_id in range(5):
                    message = {"type": "Mutation", "requestId": request_id, "udfPath": "f:holds"}
                    await socket_.send(json.dumps({**message, "args": [{}]}))
                await asyncio.wait_for(socket_.wait_closed(), 10)
                assert socket_.close_code == 1013
                assert "Too many concurrent mutations" in (socket_.close_reason or "")
        finally:
            held.set()
        status, _ = await post(
            address, "/api/mutation", {"path": "f:add", "args": {"table": "items", "name": "b"}}
        )
        assert status == 200
