"""Pagination over the sync protocol and HTTP: pages in Convex's shape, and the query
journal (sent with each result, pinning a subscribed page's end across re-runs, seeding a
subscription's first run from `Add.journal`)."""

import asyncio
import json
from typing import Any

import websockets

from confect import (
    App,
    Backend,
    DatabaseReader,
    DatabaseWriter,
    PaginationOptions,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.server.asgi import Server
from tests.raw_http import post
from tests.servers import served

SCHEMA = define_schema(items=define_table({"name": v.string()}))


@query(args={"paginationOpts": v.pagination_opts()})
def page(paginationOpts: PaginationOptions):
    db = yield from DatabaseReader
    return (yield from db.table("items").order("desc").paginate(paginationOpts))


@mutation(args={"name": v.string()})
def add(name: str):
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"name": name})


def app() -> App:
    return App({"items:page": page, "items:add": add}, SCHEMA)


def _subscribe(journal: str | None = None) -> str:
    opts = {"numItems": 2, "cursor": None}
    change: dict[str, Any] = {"type": "Add", "queryId": 0, "udfPath": "items:page"}
    change["args"] = [{"paginationOpts": opts}]
    if journal is not None:
        change["journal"] = journal
    return json.dumps(
        {"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [change]}
    )


async def _update(connection: Any) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(connection.recv(), 10))
    [modification] = message["modifications"]
    assert modification["type"] == "QueryUpdated"
    return modification


def _names(modification: dict[str, Any]) -> list[str]:
    return [d["name"] for d in modification["value"]["page"]]


async def _add(address: str, name: str) -> None:
    status, _ = await post(address, "/api/mutation", {"path": "items:add", "args": {"name": name}})
    assert status == 200


async def test_a_subscribed_page_keeps_its_end_while_documents_arrive():
    async with served(Server(Backend(app()))) as address:
        for name in ("a", "b", "c"):
            await _add(address, name)
        connection = await websockets.connect(f"ws://{address}/api/sync")
        await connection.send(_subscribe())
        first = await _update(connection)
        assert _names(first) == ["c", "b"]
        assert first["journal"] == first["value"]["continueCursor"]
        await _add(address, "d")
        grown = await _update(connection)
        assert _names(grown) == ["d", "c", "b"]  # the page grew: b is still its end
        assert grown["journal"] == first["journal"]
        await connection.close()

        again = await websockets.connect(f"ws://{address}/api/sync")  # a reconnect
        await again.send(_subscribe(journal=first["journal"]))
        assert _names(await _update(again)) == ["d", "c", "b"]
        await again.close()


async def test_a_page_over_http_is_convex_shaped():
    async with served(Server(Backend(app()))) as address:
        await _add(address, "a")
        args = {"paginationOpts": {"numItems": 1, "cursor": None}}
        status, body = await post(address, "/api/query", {"path": "items:page", "args": args})
        assert status == 200
        value = body["value"]
        assert set(value) == {"page", "isDone", "continueCursor"}
        assert value["isDone"] is False and value["continueCursor"]
