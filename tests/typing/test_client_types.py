"""Checked by pyright: `Client` and `AsyncClient` check a call's keywords against the
function's parameters and type its result (documents as their table's class, ids as
`Id`s), as runners and `ConfectTest` do.

Each expected error is a line with `# pyright: ignore[rule]`; as pyproject.toml has pyright
report unnecessary ignores here, a line that stopped being an error fails the check. The
calls need a live server: tests/integration/test_typed_client.py makes them; here they are
only checked (the functions below are not tests).
"""

from __future__ import annotations

from typing import Any, assert_type

from confect import Id, PaginationResult
from confect.client import AsyncClient, AsyncSubscription, Client, Subscription
from tests.integration.typed_app.schema import Task
from tests.integration.typed_app.tasks import add, add_many, by_owner, complete, count, page


def check_client_calls(client: Client) -> None:
    assert_type(client.query(by_owner, owner="ann"), list[Task])
    assert_type(client.query(by_owner, {"owner": "ann"}), list[Task])
    assert_type(client.mutation(add, title="t"), Id[Task])
    assert_type(client.mutation(complete, task=Id[Task]("x")), Task)
    assert_type(client.action(add_many, titles=["a"]), list[Id[Task]])
    assert_type(client.query(count), int)
    assert_type(client.query("tasks:by_owner", owner="ann"), Any)
    client.query(by_owner, autor="ann")  # pyright: ignore[reportCallIssue]
    client.query(by_owner)  # pyright: ignore[reportCallIssue]
    client.query(by_owner, owner=1)  # pyright: ignore[reportCallIssue, reportArgumentType]
    client.mutation(by_owner, owner="ann")  # pyright: ignore[reportCallIssue, reportArgumentType]
    client.query(add, title="t")  # pyright: ignore[reportCallIssue, reportArgumentType]


def check_client_subscribe_and_paginate(client: Client) -> None:
    updates = client.subscribe(by_owner, owner="ann")
    assert_type(updates, Subscription[list[Task]])
    for tasks in updates:
        assert_type(tasks, list[Task])
    client.subscribe(by_owner, ownr="ann")  # pyright: ignore[reportCallIssue]
    client.subscribe(add, title="t")  # pyright: ignore[reportCallIssue, reportArgumentType]
    for result in client.paginate(page, owner="ann", page_size=10):
        assert_type(result, PaginationResult[Task])
        assert_type(result.page, list[Task])
    client.paginate(by_owner, owner="ann")  # pyright: ignore[reportCallIssue, reportArgumentType]


async def check_async_client(client: AsyncClient) -> None:
    assert_type(await client.query(by_owner, owner="ann"), list[Task])
    assert_type(await client.mutation(add, {"title": "t"}), Id[Task])
    assert_type(await client.action(add_many, titles=[]), list[Id[Task]])
    await client.mutation(add, titel="t")  # pyright: ignore[reportCallIssue]
    await client.action(add, title="t")  # pyright: ignore[reportCallIssue, reportArgumentType]
    updates = client.subscribe(by_owner, owner="ann")
    assert_type(updates, AsyncSubscription[list[Task]])
    async for tasks in updates:
        assert_type(tasks, list[Task])
    async for result in client.paginate(page, owner="ann", page_size=10):
        assert_type(result, PaginationResult[Task])
