"""Paginated queries over the items, in Convex's shape: `paginationOpts` in, a
`PaginationResult` out."""

from confect import DatabaseReader, PaginationOptions, query, v


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
