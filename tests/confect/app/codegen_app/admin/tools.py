"""A nested module: `api.admin.tools.summary`."""

from confect import action, v

from .._generated.refs import api, internal
from .._generated.services import QueryRunner


@action(args={"by": v.string()}, returns=v.object({"kinds": v.array(v.string())}))
def summary(by: str):
    runner = yield from QueryRunner
    kinds = yield from runner.run_query(internal.posts.kinds, by=by)
    return {"kinds": kinds}


@action(args={"author": v.string()}, returns=v.number())
def count(author: str):
    runner = yield from QueryRunner
    posts = yield from runner.run_query(api.posts.by_author, author=author)
    return len(posts)
