"""Checked by pyright: the services, documents and refs `confect codegen` writes type
reads by the app's tables and calls by its functions, and refuse a table the schema lacks,
a function path the app lacks and a wrong argument.

Each expected error is a line with `# pyright: ignore[rule]` (pyproject.toml has pyright
report unnecessary ignores here). Running the file runs the typed calls for real, through
the refs (function paths at run time).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Literal, assert_type

import pytest

from confect import App, Doc, Id, ValidationError, load_app, query, v
from confect.testing import ConfectTest
from effects import Effect
from examples.notes._generated.docs import CountersDoc, NotesDoc
from examples.notes._generated.services import DatabaseReader as NotesReader
from examples.notes.schema import Note
from tests.confect.app.codegen_app._generated.docs import LikesDoc, PostsDoc
from tests.confect.app.codegen_app._generated.refs import api, internal
from tests.confect.app.codegen_app._generated.services import (
    DatabaseReader,
    DatabaseWriter,
    MutationRunner,
    QueryRunner,
)
from tests.confect.app.codegen_app.schema import Post


@query(args={"by": v.string()})
def typed_reads(by: str):
    db = yield from DatabaseReader
    post = yield from db.table("posts").first()
    assert_type(post, PostsDoc | None)
    assert_type(post, Post | None)  # an attrs table's documents are its class
    likes = yield from db.table("likes").collect()
    for like in likes:
        assert_type(like, LikesDoc)
        assert_type(like.kind, Literal["up", "down"])
        assert_type(like.weight, int | None)
        assert_type(like.post, Id[Post])
        assert_type(like.id, Id[LikesDoc])
        assert_type(like.creation_time, float)
    files = yield from db.table("_storage").collect()
    assert_type(files, list[Doc[dict[str, Any]]])
    runner = yield from QueryRunner
    kinds = yield from runner.run_query(internal.posts.kinds, by=by)
    return len(likes), kinds


def typed_writes() -> Generator[Effect[Any, Any, Any], Any, None]:
    """Never run: writes are typed by the table too."""
    db = yield from DatabaseWriter
    post_id = yield from db.table("posts").insert(Post(author="ann", title="t"))
    assert_type(post_id, Id[Post])
    like_id = yield from db.table("likes").insert({"post": post_id, "by": "bob", "kind": "up"})
    assert_type(like_id, Id[LikesDoc])
    db.table("posts").insert(Note(author="ann", text="t"))  # pyright: ignore[reportArgumentType]


def refused() -> Generator[Effect[Any, Any, Any], Any, None]:
    """Never run: the errors pyright must report."""
    db = yield from DatabaseReader
    db.table("post")  # pyright: ignore[reportCallIssue, reportArgumentType]
    writer = yield from DatabaseWriter
    writer.table("_storage")  # pyright: ignore[reportCallIssue, reportArgumentType]
    queries = yield from QueryRunner
    queries.run_query(api.posts.by_author, auther="ann")  # pyright: ignore[reportCallIssue]
    queries.run_query("posts:by_autor")  # pyright: ignore[reportCallIssue, reportArgumentType]
    queries.run_query("posts:add")  # pyright: ignore[reportCallIssue, reportArgumentType]
    mutations = yield from MutationRunner
    mutations.run_mutation(api.posts.by_author, author="ann")  # pyright: ignore[reportCallIssue, reportArgumentType]
    yield from mutations.run_mutation("posts:add", author="ann", title="t")  # a path: untyped


def notes_reads() -> Generator[Effect[Any, Any, Any], Any, None]:
    """Never run: the notes example's generated reader."""
    db = yield from NotesReader
    note = yield from db.table("notes").first()
    assert_type(note, NotesDoc | None)
    assert_type(note, Note | None)
    counter = yield from db.table("counters").first()
    assert_type(counter, CountersDoc | None)
    if counter is not None:
        assert_type(counter.value, int)
        _ = counter.valeu  # pyright: ignore[reportAttributeAccessIssue]


@pytest.fixture
def t() -> ConfectTest:
    """The codegen test app, with `typed_reads` as `typing:0`."""
    return ConfectTest(load_with(typed_reads))


def load_with(*extra: Any) -> App:
    loaded = load_app("tests.confect.app.codegen_app")
    return App(
        {**loaded.functions, **{f"typing:{i}": f for i, f in enumerate(extra)}}, loaded.schema
    )


def test_calls_through_refs_are_typed_by_the_definitions(t: ConfectTest):
    post_id = t.mutation(api.posts.add, author="ann", title="a")
    assert_type(post_id, Id[Post])
    posts = t.query(api.posts.by_author, author="ann")
    assert_type(posts, list[PostsDoc])
    assert [p.title for p in posts] == ["a"]
    assert t.mutation(api.posts.like_all, author="ann", by="bob") == 1
    assert t.query("typing:0", by="bob") == [1, ["up"]]
    with pytest.raises(ValidationError):
        t.query(api.posts.by_author, autor="ann")  # pyright: ignore[reportCallIssue]
