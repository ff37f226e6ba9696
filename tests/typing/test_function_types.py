"""Checked by pyright: a function's definition carries its parameters, result and errors,
so runners, the scheduler and `ConfectTest` check a call's keywords and type its result.

Each expected error is a line with `# pyright: ignore[rule]`; as pyproject.toml has pyright
report unnecessary ignores here, a line that stopped being an error fails the check.
Running the file also runs the calls, which fail at run time as they fail statically.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator
from typing import Any, assert_type

import pytest

from confect import (
    ActionDefinition,
    App,
    FunctionDefinition,
    HttpActionDefinition,
    MutationDefinition,
    MutationRunner,
    QueryDefinition,
    QueryRunner,
    Scheduler,
    ValidationError,
    action,
    define_schema,
    http_action,
    internal_query,
    mutation,
    query,
    v,
)
from confect.app.http import HttpRequest, HttpResponse
from confect.model.ids import Id
from confect.testing import ConfectTest
from effects import Effect, TaggedError


class Refused(TaggedError):
    why: str


@query(args={"author": v.string(), "limit": v.optional(v.float64())}, returns=v.int64())
def count(
    author: str, limit: float | None = None
) -> Generator[Effect[Any, Refused, Any], Any, int]:
    if not author:
        yield from Refused(why="no author")
    return min(len(author), int(limit or 10))


@mutation(args={"text": v.string()})
def add(text: str) -> Generator[Effect[Any, Any, Any], Any, str]:
    runner = yield from QueryRunner
    n = yield from runner.run_query(count, author=text)
    assert_type(n, int)
    return text * n


@internal_query(args={})
def hidden() -> Generator[Effect[Any, Any, Any], Any, None]:
    return None
    yield


@action(args={"text": v.string()})
def shout(text: str) -> Generator[Effect[Any, Any, Any], Any, str]:
    return text.upper()
    yield


@http_action()
def route(request: HttpRequest) -> Generator[Effect[Any, Any, Any], Any, HttpResponse]:
    return HttpResponse(200)
    yield


def test_decorators_give_a_definition_of_their_kind() -> None:
    assert_type(hidden, QueryDefinition[[], None, Any])
    # assert_type cannot spell named parameters: the calls below check them.
    a_query: QueryDefinition[..., int, Refused] = count
    a_mutation: MutationDefinition[..., str, Any] = add
    an_action: ActionDefinition[..., str, Any] = shout
    an_http_action: HttpActionDefinition[..., HttpResponse, Any] = route
    not_a_query: QueryDefinition[..., Any, Any] = add  # pyright: ignore[reportAssignmentType]
    not_a_mutation: MutationDefinition[..., Any, Any] = shout  # pyright: ignore[reportAssignmentType]
    assert_type(count.handler(author="a"), Effect[int, Refused, Any])
    definitions = (a_query, a_mutation, an_action, an_http_action, not_a_query, not_a_mutation)
    assert all(isinstance(f, FunctionDefinition) for f in definitions)


def test_runners_check_arguments_and_type_results() -> None:
    def handler() -> Generator[Effect[Any, Any, Any], Any, None]:
        queries = yield from QueryRunner
        assert_type(queries.run_query(count, author="ann"), Effect[int, Refused])
        assert_type(queries.run_query(count, author="ann", limit=2), Effect[int, Refused])
        assert_type(queries.run_query(count, {"author": "ann"}), Effect[int, Refused])
        assert_type(queries.run_query(hidden), Effect[None, Any])
        assert_type(queries.run_query("notes:count", author="ann"), Effect[Any, Any])
        queries.run_query(count, autor="ann")  # pyright: ignore[reportCallIssue]
        queries.run_query(count)  # pyright: ignore[reportCallIssue]
        queries.run_query(count, author=1)  # pyright: ignore[reportCallIssue, reportArgumentType]
        queries.run_query(add, text="a")  # pyright: ignore[reportCallIssue, reportArgumentType]
        mutations = yield from MutationRunner
        assert_type(mutations.run_mutation(add, text="a"), Effect[str, Any])
        mutations.run_mutation(count, author="a")  # pyright: ignore[reportCallIssue, reportArgumentType]
        scheduler = yield from Scheduler
        assert_type(scheduler.run_after(60, add, text="a"), Effect[Id[Any]])
        assert_type(scheduler.run_at(dt.datetime.now(), shout, {"text": "a"}), Effect[Id[Any]])
        scheduler.run_after(60, add, txt="a")  # pyright: ignore[reportCallIssue]
        scheduler.run_after(60, count, author="a")  # pyright: ignore[reportCallIssue, reportArgumentType]

    assert handler is not None


def test_confect_test_checks_arguments_and_gives_results() -> None:
    t = ConfectTest(App({"fns:count": count, "fns:add": add, "fns:shout": shout}, define_schema()))
    assert assert_type(t.query(count, author="ann"), int) == 3
    assert assert_type(t.query(count, {"author": "ann", "limit": 2}), int) == 2
    assert assert_type(t.mutation(add, text="ab"), str) == "abab"
    assert assert_type(t.action(shout, text="hi"), str) == "HI"
    assert t.query("fns:count", author="bo") == 2
    with pytest.raises(Refused):
        t.query(count, author="")
    with pytest.raises(ValidationError, match="autor"):
        t.query(count, author="ann", autor="ann")  # pyright: ignore[reportCallIssue]
    with pytest.raises(ValidationError, match="args.author: required field is missing"):
        t.query(count)  # pyright: ignore[reportCallIssue]
    with pytest.raises(ValidationError, match="is a query, not a mutation"):
        t.mutation(count, author="ann")  # pyright: ignore[reportCallIssue, reportArgumentType]
    with pytest.raises(TypeError, match="not both"):
        t.query(count, {"author": "ann"}, limit=2)  # pyright: ignore[reportCallIssue, reportArgumentType]


async def test_async_twins_are_typed_alike() -> None:
    t = ConfectTest(App({"fns:count": count, "fns:add": add, "fns:shout": shout}, define_schema()))
    assert assert_type(await t.aquery(count, author="ann"), int) == 3
    assert assert_type(await t.amutation(add, {"text": "a"}), str) == "a"
    assert assert_type(await t.aaction(shout, text="a"), str) == "A"
    with pytest.raises(ValidationError):
        await t.aaction(add, text="a")  # pyright: ignore[reportCallIssue, reportArgumentType]
