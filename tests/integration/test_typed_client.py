"""`confect.client` against a live server in another process (`confect serve` of
`typed_app`): typed calls, documents as their table's class, ids as `Id`s, declared errors
as their classes, subscriptions, pagination and auth, for `Client` and `AsyncClient`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from confect import ConvexError, ConvexInt64, Id, ValidationError
from confect.client import AsyncClient, Client
from tests.integration.conftest import ADMIN_KEY, Live, with_test_auth
from tests.integration.typed_app.schema import Task
from tests.integration.typed_app.tasks import (
    NotYours,
    add,
    add_many,
    announce_and_wait,
    by_owner,
    complete,
    count,
    echo,
    page,
    refuse,
)
from tests.servers import confect_serve, copy_app

APP = "tests.integration.typed_app"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    app = copy_app(Path(__file__).with_name("typed_app"), tmp_path_factory.mktemp("typed"))
    key = with_test_auth(app)
    with confect_serve(app) as serving:
        yield Live(serving.url, app, key)


def test_documents_come_back_as_the_tables_class_with_ids(live: Live):
    ann = Client(live.url, auth=live.token("ann"))
    task_id = ann.mutation(add, title="write the client")
    assert isinstance(task_id, Id)
    [task] = ann.query(by_owner, owner="ann")
    assert isinstance(task, Task)  # of a subclass adding the system fields
    assert (task.id, task.owner, task.title, task.done) == (
        task_id,
        "ann",
        "write the client",
        False,
    )
    assert isinstance(task.id, Id)
    assert task.creation_time > 0
    done = ann.mutation(complete, {"task": task_id})
    assert isinstance(done, Task)
    assert (done.id, done.done) == (task_id, True)


def test_a_declared_error_is_raised_as_its_class(live: Live):
    task_id = Client(live.url, auth=live.token("ann")).mutation(add, title="mine")
    with pytest.raises(NotYours) as raised:
        Client(live.url, auth=live.token("bob")).mutation(complete, task=task_id)
    assert raised.value == NotYours(task=task_id, owner="ann")


def test_an_action_gives_its_typed_result(live: Live):
    added = Client(live.url, auth=live.token("cy")).action(add_many, titles=["a", "b"])
    assert len(added) == 2
    assert all(isinstance(task_id, Id) for task_id in added)


def test_internal_functions_take_the_admin_key(live: Live):
    total = Client(live.url, admin_key=ADMIN_KEY).query(count)
    assert type(total) is int  # an int64 comes back as an int
    with pytest.raises(Exception, match="tasks:count"):
        Client(live.url).query(count)


def test_a_client_calls_as_a_user_or_as_an_admin_not_both(live: Live):
    with pytest.raises(ValueError, match="not both"):
        Client(live.url, auth=live.token("ann"), admin_key=ADMIN_KEY)


def test_values_cross_in_their_convex_forms(live: Live):
    got = Client(live.url).query(echo, data=b"\x00\xff", big=2**40)
    assert got == {"data": b"\x00\xff", "big": ConvexInt64(2**40)}  # no `returns`: as decoded


def test_a_path_is_typed_through_the_app_and_plain_without_it(live: Live):
    Client(live.url, auth=live.token("dee")).mutation(add, title="by path")
    [task] = Client(live.url, app=APP).query("tasks:by_owner", owner="dee")
    assert isinstance(task, Task)
    [plain] = Client(live.url).query("tasks:by_owner", {"owner": "dee"})
    assert isinstance(plain, dict)
    assert plain["title"] == "by path"


def test_a_function_of_another_kind_is_refused_before_calling(live: Live):
    with pytest.raises(ValidationError, match="is a query, not a mutation"):
        Client(live.url).mutation(by_owner, owner="ann")
    with pytest.raises(ValidationError, match="args.owner"):
        Client(live.url).query(by_owner, owner=1)


def test_an_undeclared_convex_error_is_raised_as_a_convex_error(live: Live):
    with pytest.raises(ConvexError) as raised:
        Client(live.url).mutation(refuse, why="no")
    assert raised.value.data == {"why": "no", "count": ConvexInt64(3)}
    with pytest.raises(ConvexError) as untyped:
        Client(live.url).mutation("tasks:refuse", why="no")
    assert untyped.value.data == {"why": "no", "count": ConvexInt64(3)}


def test_subscribe_gives_the_result_then_each_change(live: Live):
    eve = Client(live.url, auth=live.token("eve"))
    with eve.subscribe(by_owner, owner="eve") as updates:
        assert next(updates) == []
        eve.mutation(add, title="seen")
        [task] = next(updates)
        assert isinstance(task, Task)
        assert task.title == "seen"


def test_paginate_goes_through_every_page(live: Live):
    fay = Client(live.url, auth=live.token("fay"))
    added = fay.action(add_many, titles=[f"t{i}" for i in range(5)])
    pages = list(fay.paginate(page, owner="fay", page_size=2))
    assert [len(p.page) for p in pages][:3] == [2, 2, 1]
    assert [t.id for p in pages for t in p.page] == added
    assert all(isinstance(t, Task) for p in pages for t in p.page)
    assert pages[-1].is_done
    rest = list(fay.paginate(page, {"owner": "fay"}, page_size=2, cursor=pages[0].continue_cursor))
    assert [t.id for p in rest for t in p.page] == added[2:]


def test_a_token_fetcher_is_asked_again_once_its_token_is_about_to_expire(live: Live):
    fetched: list[str] = []

    def fetch(lifetime: float) -> str:
        fetched.append(token := live.token("gus", lifetime=lifetime))
        return token

    lasting = Client(live.url, auth=lambda: fetch(600))
    lasting.mutation(add, title="one")
    lasting.query(by_owner, owner="gus")
    assert len(fetched) == 1
    expiring = Client(live.url, auth=lambda: fetch(30))  # within the refresh margin
    expiring.mutation(add, title="two")
    expiring.mutation(add, title="three")
    assert len(fetched) == 3
    assert [t.title for t in expiring.query(by_owner, owner="gus")] == ["one", "two", "three"]


async def test_async_client_calls_are_typed_alike(live: Live):
    hal = AsyncClient(live.url, auth=live.token("hal"))
    task_id = await hal.mutation(add, title="async")
    [task] = await hal.query(by_owner, owner="hal")
    assert isinstance(task, Task)
    assert task.id == task_id
    assert len(await hal.action(add_many, {"titles": ["x"]})) == 1
    with pytest.raises(NotYours):
        await AsyncClient(live.url, auth=live.token("ivy")).mutation(complete, task=task_id)
    pages = [p async for p in hal.paginate(page, owner="hal", page_size=1)]
    assert [t.title for p in pages for t in p.page] == ["async", "x"]


async def test_async_subscribe_gives_each_change_and_closes(live: Live):
    jo = AsyncClient(live.url, auth=live.token("jo"))
    async with jo.subscribe(by_owner, owner="jo") as updates:
        assert await anext(updates) == []
        waiting = asyncio.ensure_future(anext(updates))
        await jo.mutation(add, title="seen async")
        [task] = await waiting
        assert task.title == "seen async"
        cancelled = asyncio.ensure_future(anext(updates))
        await asyncio.sleep(0)
        cancelled.cancel()
        with pytest.raises(asyncio.CancelledError):
            await cancelled
    async for tasks in jo.subscribe(by_owner, owner="jo"):
        assert [t.title for t in tasks] == ["seen async"]
        break


async def test_async_calls_leave_the_event_loop_running(live: Live):
    kim = AsyncClient(live.url, auth=live.token("kim"))
    async with kim.subscribe(by_owner, owner="kim") as updates:
        waiting = asyncio.ensure_future(kim.action(announce_and_wait, title="go"))
        async for tasks in updates:  # the action is running once its task shows
            if [t.title for t in tasks] == ["waiting"]:
                break
        await kim.mutation(add, title="go")  # while the action waits for it
        assert await waiting
