from confect import (
    DatabaseReader,
    DatabaseWriter,
    MutationRunner,
    Scheduler,
    StorageActionWriter,
    StorageReader,
    action,
    mutation,
    query,
    v,
)


@mutation(args={"name": v.string()}, returns=v.id("authors"))
def add_author(name: str):
    db = yield from DatabaseWriter
    return (yield from db.table("authors").insert({"name": name}))


@mutation(
    args={"author": v.id("authors"), "title": v.string(), "cover": v.optional(v.id("_storage"))}
)
def add_post(author: str, title: str, cover: str | None = None):
    db = yield from DatabaseWriter
    fields = {"author": author, "title": title} | ({"cover": cover} if cover else {})
    post = yield from db.table("posts").insert(fields)
    scheduler = yield from Scheduler
    yield from scheduler.run_after(3600, notify, {"post": post})
    return post


@mutation(args={"post": v.id("posts")})
def notify(post: str):
    db = yield from DatabaseWriter
    yield from db.table("notices").insert({"post": post})


@action(args={"author": v.id("authors"), "title": v.string(), "cover": v.bytes()})
def add_post_with_cover(author: str, title: str, cover: bytes):
    storage = yield from StorageActionWriter
    file_id = yield from storage.store(cover, "image/png")
    runner = yield from MutationRunner
    return (
        yield from runner.run_mutation(
            add_post, {"author": author, "title": title, "cover": file_id}
        )
    )


@query(args={"author": v.id("authors")})
def posts_by(author: str):
    db = yield from DatabaseReader
    return (
        yield from db.table("posts").index("by_author", lambda q: q.eq("author", author)).collect()
    )


@query(args={"id": v.id("posts")})
def post(id: str):
    db = yield from DatabaseReader
    return (yield from db.table("posts").get(id))


@query(args={"id": v.id("_storage")})
def file_size(id: str):
    storage = yield from StorageReader
    metadata = yield from storage.get_metadata(id)
    return None if metadata is None else metadata["size"]
