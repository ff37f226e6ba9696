"""A commit listener that fails neither fails the call whose commit it was told of nor
keeps that commit from the listeners after it."""

import logging

import pytest

from confect import App, DatabaseWriter, define_schema, define_table, mutation, v
from confect.testing import ConfectTest

SCHEMA = define_schema(items=define_table({"n": v.number()}))


@mutation(args={"n": v.number()})
def add(n: float):
    db = yield from DatabaseWriter
    return (yield from db.table("items").insert({"n": n}))


APP = App({"items:add": add}, SCHEMA)


def test_a_failing_listener_is_logged_and_the_others_are_still_told(
    caplog: pytest.LogCaptureFixture,
):
    t = ConfectTest(APP)
    heard: list[int] = []

    def failing(ts: int, writes: object, cause: object) -> None:
        raise RuntimeError("listener broke")

    t.backend.subscribe_commits(failing)
    t.backend.subscribe_commits(lambda ts, writes, cause: heard.append(ts))
    with caplog.at_level(logging.ERROR, logger="confect"):
        t.mutation("items:add", {"n": 1.0})
        t.mutation("items:add", {"n": 2.0})
    assert len(heard) == 2
    assert [r.message for r in caplog.records].count(
        f"a commit listener failed on commit {heard[0]}"
    ) == 1
    assert "listener broke" in caplog.text
