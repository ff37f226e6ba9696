"""Paginated queries over the items, in Convex's shape: `paginationOpts` in, a
`PaginationResult` out, declared by hand or with `@paginated_query`."""

from typing import Any

import attrs

from confect import (
    DatabaseReader,
    PaginationOptions,
    PaginationResult,
    internal_paginated_query,
    paginated_query,
    query,
    v,
)
from effects import Effect, gen


def _items(owner: str, order: str):
    db = yield from DatabaseReader
    return db.table("items").index("by_owner_rank", lambda q: q.eq("owner", owner)).order(order)


@query(args={"owner": v.string(), "order": v.string(), "paginationOpts": v.pagination_opts()})
def page(owner: str, order: str, paginationOpts: PaginationOptions):
    items = yield from _items(owner, order)
    return (yield from items.paginate(paginationOpts))


@query(
    args={"owner": v.string(), "paginationOpts": v.pagination_opts()},
    returns=v.pagination_result(v.doc("items")),
)
def typed_page(owner: str, paginationOpts: PaginationOptions):
    items = yield from _items(owner, "asc")
    return (yield from items.paginate(paginationOpts))


@query(args={"owner": v.string(), "above": v.number(), "paginationOpts": v.pagination_opts()})
def page_above(owner: str, above: float, paginationOpts: PaginationOptions):
    items = yield from _items(owner, "asc")
    return (
        yield from items.filter(lambda q: q.gt(q.field("rank"), above)).paginate(paginationOpts)
    )


@query(args={"owner": v.string()})
def two_pages(owner: str):
    items = yield from _items(owner, "asc")
    yield from items.paginate(num_items=1)
    return (yield from items.paginate(num_items=1))


@query(args={"text": v.string(), "paginationOpts": v.pagination_opts()})
def search_page(text: str, paginationOpts: PaginationOptions):
    """The items whose label matches `text`, most relevant first, a page at a time."""
    db = yield from DatabaseReader
    found = db.table("items").search("search_label", lambda q: q.search("label", text))
    return (yield from found.paginate(paginationOpts))


@paginated_query(args={"owner": v.string()}, item=v.doc("items"))
def owned(owner: str, pagination_opts: PaginationOptions):
    """The owner's items by rank, a page at a time."""
    items = yield from _items(owner, "asc")
    return (yield from items.paginate(pagination_opts))


@gen
def _labels_page(options: PaginationOptions):
    db = yield from DatabaseReader
    result = yield from db.table("items").paginate(options)
    return attrs.evolve(result, page=[d.label for d in result.page])


@internal_paginated_query(item=v.string())
def labels(pagination_opts: PaginationOptions) -> Effect[PaginationResult[str], Any]:
    """Every item's label, oldest first, a page at a time (a handler returning an effect)."""
    return _labels_page(pagination_opts)
