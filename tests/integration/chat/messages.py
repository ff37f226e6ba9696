"""The functions a page built on `convex/react` calls: a list, a mutation, an action and a
`@paginated_query`, in the shape `usePaginatedQuery` expects."""

from confect import (
    DatabaseReader,
    DatabaseWriter,
    PaginationOptions,
    QueryRunner,
    action,
    mutation,
    paginated_query,
    query,
    v,
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


@paginated_query(args={"channel": v.string()}, item=v.doc("messages"))
def page(channel: str, pagination_opts: PaginationOptions):
    """The channel's messages, newest first, a page at a time (Convex's PaginationResult)."""
    messages = yield from _in_channel(channel)
    return (yield from messages.order("desc").paginate(pagination_opts))
