"""Attrs documents with fields typed as ids: `Id[Post]` is an id of the table of Post
documents, `Id[Any]` of any table; they round-trip through insert, get, patch and replace."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from confect import (
    App,
    DatabaseReader,
    DatabaseWriter,
    Id,
    ValidationError,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.testing import ConfectTest


@attrs.frozen
class Post:
    title: str


@attrs.frozen
class Comment:
    post_id: Id[Post]
    text: str


@attrs.frozen
class Bookmark:
    target: Id[Any]
    note: Id[dict[str, Any]] | None = None


SCHEMA = define_schema(
    posts=define_table(Post), comments=define_table(Comment), bookmarks=define_table(Bookmark)
)


@mutation(args={"title": v.string()})
def add_post(title: str):
    db = yield from DatabaseWriter
    return (yield from db.table("posts").insert(Post(title)))


@mutation(args={"comment": v.of(Comment)})
def add_comment(comment: Comment):
    db = yield from DatabaseWriter
    return (yield from db.table("comments").insert(comment))


@mutation(args={"id": v.id("comments"), "post_id": v.id("posts")})
def move_comment(id: Id[Comment], post_id: Id[Post]):
    db = yield from DatabaseWriter
    yield from db.table("comments").patch(id, {"post_id": post_id})


@mutation(args={"id": v.id("comments"), "post_id": v.string()})
def replace_comment(id: Id[Comment], post_id: str):
    db = yield from DatabaseWriter
    yield from db.table("comments").replace(id, Comment(Id(post_id), "replaced"))


@mutation(args={"target": v.string()})
def add_bookmark(target: str):
    db = yield from DatabaseWriter
    return (yield from db.table("bookmarks").insert(Bookmark(Id(target), Id(target))))


@query(args={"id": v.id("comments")})
def comment_of(id: Id[Comment]):
    db = yield from DatabaseReader
    comment = yield from db.table("comments").get(id)
    post = yield from db.table("posts").get(comment.post_id)
    assert isinstance(comment.post_id, Id) and isinstance(comment, Comment)
    return {"post_id": comment.post_id, "title": post.title, "text": comment.text}


@query(args={"id": v.id("bookmarks")})
def bookmark_of(id: Id[Bookmark]):
    db = yield from DatabaseReader
    bookmark = yield from db.table("bookmarks").get(id)
    assert isinstance(bookmark.target, Id) and isinstance(bookmark.note, Id)
    return [bookmark.target, bookmark.note]


APP = App(
    {
        "f:add_post": add_post,
        "f:add_comment": add_comment,
        "f:move_comment": move_comment,
        "f:replace_comment": replace_comment,
        "f:add_bookmark": add_bookmark,
        "f:comment_of": comment_of,
        "f:bookmark_of": bookmark_of,
    },
    SCHEMA,
)


@pytest.fixture
def t() -> ConfectTest:
    return ConfectTest(APP)


def test_a_document_with_an_id_of_a_document_class_round_trips(t: ConfectTest):
    first = t.mutation(add_post, {"title": "first"})
    comment = t.mutation(add_comment, {"comment": {"post_id": first, "text": "hi"}})
    assert t.query(comment_of, {"id": comment}) == {
        "post_id": first,
        "title": "first",
        "text": "hi",
    }
    second = t.mutation(add_post, {"title": "second"})
    t.mutation(move_comment, {"id": comment, "post_id": second})
    assert t.query(comment_of, {"id": comment})["title"] == "second"
    t.mutation(replace_comment, {"id": comment, "post_id": first})
    assert t.query(comment_of, {"id": comment}) == {
        "post_id": first,
        "title": "first",
        "text": "replaced",
    }


def test_an_id_of_another_table_is_refused(t: ConfectTest):
    post = t.mutation(add_post, {"title": "p"})
    comment = t.mutation(add_comment, {"comment": {"post_id": post, "text": "hi"}})
    with pytest.raises(ValidationError, match="post_id: expected id of table 'posts'"):
        t.mutation(add_comment, {"comment": {"post_id": comment, "text": "bad"}})
    with pytest.raises(ValidationError, match="post_id: expected id of table 'posts'"):
        t.mutation(replace_comment, {"id": comment, "post_id": comment})


def test_an_id_of_any_table_takes_any_tables_id(t: ConfectTest):
    post = t.mutation(add_post, {"title": "p"})
    bookmark = t.mutation(add_bookmark, {"target": post})
    assert t.query(bookmark_of, {"id": bookmark}) == [post, post]
    again = t.mutation(add_bookmark, {"target": bookmark})
    assert t.query(bookmark_of, {"id": again}) == [bookmark, bookmark]
    with pytest.raises(ValidationError, match="target: expected id of any table"):
        t.mutation(add_bookmark, {"target": "not an id"})
