"""The functions a page built on `convex/react` calls: a list, a mutation, an action and a
paginated query in the shape `usePaginatedQuery` expects."""

from confect import DatabaseReader, DatabaseWriter, QueryRunner, action, mutation, query, v

PAGINATION_OPTS = v.object(
    {
        "numItems": v.number(),
        "cursor": v.union(v.string(), v.null()),
        "endCursor": v.optional(v.union(v.string(), v.null())),
        "id": v.optional(v.number()),
        "maximumRowsRead": v.optional(v.number()),
        "maximumBytesRead": v.optional(v.number()),
    }
)


def _in_channel(channel: str):
    db = yield from DatabaseReader
    return db.table("messages").index("by_channel", lambda q: q.eq("channel", channel))


@query(args={"channel": v.string()})
def list(channel: str):
    """The channel's messages, newest first."""
    messages = yield from _in_channel(channel)
    return (yield from messages.order("desc").collect())


@mutation(args={"channel": v.string(), "author": v.string(), "body": v.string()})
def send(channel: str, author: str, body: str):
    """Post a message; its id."""
    db = yield from DatabaseWriter
    return (
        yield from db.table("messages").insert({"channel": channel, "author": author, "body": body})
    )


@action(args={"channel": v.string()})
def count(channel: str):
    """How many messages the channel holds, said in words (an action reading through a query)."""
    queries = yield from QueryRunner
    messages = yield from queries.run_query(list, {"channel": channel})
    return f"{len(messages)} messages in {channel}"


@query(args={"channel": v.string(), "paginationOpts": PAGINATION_OPTS})
def page(channel: str, paginationOpts: dict):
    """The channel's messages, newest first, a page at a time (Convex's PaginationResult)."""
    messages = yield from _in_channel(channel)
    result = yield from messages.order("desc").paginate(
        num_items=int(paginationOpts["numItems"]), cursor=paginationOpts["cursor"]
    )
    return {
        "page": result.page,
        "isDone": result.is_done,
        "continueCursor": result.continue_cursor,
    }
