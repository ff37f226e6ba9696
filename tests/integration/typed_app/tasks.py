"""Tasks: the signed-in user adds, lists and completes their own."""

from collections.abc import Generator
from typing import Any

import effects
from confect import (
    Auth,
    ConvexError,
    ConvexInt64,
    DatabaseReader,
    DatabaseWriter,
    Id,
    MutationRunner,
    PaginationOptions,
    PaginationResult,
    QueryRunner,
    action,
    internal_query,
    mutation,
    query,
    v,
)
from effects import Effect, TaggedError

from .schema import Task, tasks


class NotYours(TaggedError):
    """Only a task's owner may complete it."""

    task: Id[Task]
    owner: str


@query(args={"owner": v.string()}, returns=v.array(v.doc("tasks")))
def by_owner(owner: str) -> Generator[Effect[Any, Any, Any], Any, list[Task]]:
    """The owner's tasks, oldest first."""
    db = yield from DatabaseReader
    return (yield from db.table(tasks).index("by_owner", lambda q: q.eq("owner", owner)).collect())


@query(
    args={"owner": v.string(), "paginationOpts": v.pagination_opts()},
    returns=v.pagination_result(v.doc("tasks")),
)
def page(
    owner: str, paginationOpts: PaginationOptions
) -> Generator[Effect[Any, Any, Any], Any, PaginationResult[Task]]:
    """The owner's tasks, a page at a time."""
    db = yield from DatabaseReader
    found = db.table(tasks).index("by_owner", lambda q: q.eq("owner", owner))
    return (yield from found.paginate(paginationOpts))


@mutation(args={"title": v.string()}, returns=v.id("tasks"))
def add(title: str) -> Generator[Effect[Any, Any, Any], Any, Id[Task]]:
    """Add a task of the signed-in user."""
    auth = yield from Auth
    me = yield from auth.get_user_identity()
    db = yield from DatabaseWriter
    return (yield from db.table(tasks).insert(Task(owner=me.subject, title=title)))


@mutation(args={"task": v.id("tasks")}, returns=v.doc("tasks"), errors=[NotYours])
def complete(task: Id[Task]) -> Generator[Effect[Any, Any, Any], Any, Task]:
    """Mark the signed-in user's task done; the task as it is now."""
    auth = yield from Auth
    me = yield from auth.get_user_identity()
    reader = yield from DatabaseReader
    found = yield from reader.table(tasks).get(task)
    if found.owner != me.subject:
        return (yield from NotYours(task=task, owner=found.owner))
    writer = yield from DatabaseWriter
    yield from writer.table(tasks).patch(task, {"done": True})
    return (yield from reader.table(tasks).get(task))


@mutation(args={"why": v.string()})
def refuse(why: str) -> Generator[Effect[Any, Any, Any], Any, None]:
    """Fail with a `ConvexError` it does not declare."""
    return (yield from ConvexError(data={"why": why, "count": ConvexInt64(3)}))


@internal_query(args={}, returns=v.int64())
def count() -> Generator[Effect[Any, Any, Any], Any, int]:
    """How many tasks there are (an int64): for admins."""
    db = yield from DatabaseReader
    return len((yield from db.table(tasks).collect()))


@action(args={"titles": v.array(v.string())}, returns=v.array(v.id("tasks")))
def add_many(titles: list[str]) -> Generator[Effect[Any, Any, Any], Any, list[Id[Task]]]:
    """Add several tasks, one mutation each."""
    runner = yield from MutationRunner
    added: list[Id[Task]] = []
    for title in titles:
        added.append((yield from runner.run_mutation(add, title=title)))
    return added


@action(args={"title": v.string()})
def announce_and_wait(title: str) -> Generator[Effect[Any, Any, Any], Any, bool]:
    """Add a task "waiting", then wait (polling, for up to 10 s) until the signed-in user
    has a task titled `title`; whether it came."""
    mutations = yield from MutationRunner
    yield from mutations.run_mutation(add, title="waiting")
    queries = yield from QueryRunner
    auth = yield from Auth
    me = yield from auth.get_user_identity()
    for _ in range(1000):
        found = yield from queries.run_query(by_owner, owner=me.subject)
        if any(task.title == title for task in found):
            return True
        yield from effects.sleep(0.01)
    return False


@query(args={"data": v.bytes(), "big": v.int64()})
def echo(data: bytes, big: int) -> Effect[dict[str, Any], Any, Any]:
    """Bytes and an int64 back as they came, with no `returns`."""
    return effects.succeed({"data": data, "big": big})
