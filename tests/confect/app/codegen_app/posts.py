"""Functions that call each other through the generated refs, imported at module level."""

from confect import Scheduler, internal_mutation, internal_query, mutation, query, v

from ._generated.docs import LikesDoc, PostsDoc
from ._generated.refs import api, internal
from ._generated.services import DatabaseReader, DatabaseWriter, MutationRunner, QueryRunner
from .schema import Post


@query(args={"author": v.string()}, returns=v.array(v.doc("posts")))
def by_author(author: str):
    db = yield from DatabaseReader
    posts: list[PostsDoc] = (
        yield from db.table("posts").index("by_author", lambda q: q.eq("author", author)).collect()
    )
    return posts


@mutation(args={"author": v.string(), "title": v.string()}, returns=v.id("posts"))
def add(author: str, title: str):
    db = yield from DatabaseWriter
    return (yield from db.table("posts").insert(Post(author=author, title=title)))


@mutation(args={"author": v.string(), "by": v.string()}, returns=v.number())
def like_all(author: str, by: str):
    """Like every post of `author`: reads them through a query ref, writes through a
    mutation ref, schedules an internal one."""
    queries = yield from QueryRunner
    posts = yield from queries.run_query(api.posts.by_author, author=author)
    mutations = yield from MutationRunner
    for post in posts:
        yield from mutations.run_mutation(internal.posts.like, post=post.id, by=by)
    scheduler = yield from Scheduler
    yield from scheduler.run_after(0, internal.posts.like_later, by=by)
    return len(posts)


@internal_mutation(args={"post": v.id("posts"), "by": v.string()})
def like(post: str, by: str):
    db = yield from DatabaseWriter
    yield from db.table("likes").insert({"post": post, "by": by, "kind": "up"})


@internal_mutation(args={"by": v.string()})
def like_later(by: str):
    db = yield from DatabaseWriter
    yield from db.table("posts").insert(Post(author=by, title="liked"))


@internal_query(args={"by": v.string()}, returns=v.array(v.string()))
def kinds(by: str):
    db = yield from DatabaseReader
    likes: list[LikesDoc] = yield from db.table("likes").collect()
    return [like.kind for like in likes if like.by == by]
