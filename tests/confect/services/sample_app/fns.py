import contextlib

from confect import (
    MISSING,
    ActionRunner,
    Auth,
    DatabaseReader,
    DatabaseWriter,
    MutationCtx,
    MutationRunner,
    QueryRunner,
    Scheduler,
    StorageActionWriter,
    StorageReader,
    StorageWriter,
    action,
    internal_mutation,
    mutation,
    query,
    v,
)
from effects import TaggedError
from effects import succeed as effects_succeed

from .schema import Item


class Refused(TaggedError):
    why: str


@query(args={"owner": v.string()}, returns=v.array(v.doc("items")))
def by_owner(owner: str):
    db = yield from DatabaseReader
    return (
        yield from db.table("items")
        .index("by_owner_rank", lambda q: q.eq("owner", owner))
        .collect()
    )


@mutation(
    args={"owner": v.string(), "rank": v.number(), "label": v.string()}, returns=v.id("items")
)
def add(owner: str, rank: float, label: str):
    db = yield from DatabaseWriter
    return (yield from db.table("items").insert(Item(owner, rank, label)))


@mutation(args={"label": v.string(), "fail": v.boolean()}, errors=[Refused])
def add_then_maybe_fail(label: str, fail: bool):
    db = yield from DatabaseWriter
    yield from db.table("items").insert(Item("x", 0, label))
    scheduler = yield from Scheduler
    yield from scheduler.run_after(10, log, {"message": label})
    if fail:
        yield from Refused(why="asked to")
    return None


@mutation(args={"label": v.string()})
def add_then_crash(label: str):
    db = yield from DatabaseWriter
    yield from db.table("items").insert(Item("x", 0, label))
    raise RuntimeError("boom")


@internal_mutation(args={"message": v.string()})
def log(message: str):
    db = yield from DatabaseWriter
    yield from db.table("logs").insert({"message": message})


@query()
def logs():
    db = yield from DatabaseReader
    return [d.message for d in (yield from db.table("logs").collect())]


@query()
def writes_in_a_query():
    db = yield from DatabaseWriter
    yield from db.table("logs").insert({"message": "nope"})


@mutation()
def runs_a_query_after_writing():
    db = yield from DatabaseWriter
    yield from db.table("items").insert(Item("seen", 1, "mine"))
    runner = yield from QueryRunner
    found = yield from runner.run_query(by_owner, {"owner": "seen"})
    return len(found)


@mutation()
def sub_mutations():
    runner = yield from MutationRunner
    yield from runner.run_mutation(add_then_maybe_fail, {"label": "kept", "fail": False})
    with contextlib.suppress(Refused):
        yield from runner.run_mutation(add_then_maybe_fail, {"label": "undone", "fail": True})
    return None


@query()
def me():
    auth = yield from Auth
    identity = yield from auth.get_user_identity()
    return {"subject": identity.subject, "token": identity.token_identifier, "name": identity.name}


@action(args={"data": v.bytes()})
def store_file(data: bytes):
    storage = yield from StorageActionWriter
    file_id = yield from storage.store(data, "text/plain")
    reader = yield from StorageReader
    metadata = yield from reader.get_metadata(file_id)
    url = yield from reader.get_url(file_id)
    back = yield from storage.get(file_id)
    return {"id": file_id, "size": metadata["size"], "url": url, "same": back == data}


@action(args={"file_id": v.string()})
def delete_file(file_id: str):
    writer = yield from StorageWriter
    yield from writer.delete(file_id)
    storage = yield from StorageActionWriter
    return (yield from storage.get(file_id)) is None


@action()
def action_calls_everything():
    queries = yield from QueryRunner
    mutations = yield from MutationRunner
    actions = yield from ActionRunner
    yield from mutations.run_mutation(add, {"owner": "act", "rank": 1, "label": "from action"})
    items = yield from queries.run_query(by_owner, {"owner": "act"})
    me_ = yield from actions.run_action(whoami, {})
    return {"items": len(items), "me": me_}


@action()
def whoami():
    auth = yield from Auth
    return None if auth.identity is None else auth.identity.subject


@action()
def action_reads_db():
    db = yield from DatabaseReader
    return (yield from db.table("items").collect())


@mutation()
def with_ctx():
    ctx = yield from MutationCtx
    item_id = yield from ctx.db_writer.table("items").insert(Item("ctx", 2, "via ctx"))
    found = yield from ctx.db.table("items").get(item_id)
    return found.label


@query(args={"owner": v.string()})
def reads_variety(owner: str):
    db = yield from DatabaseReader
    items = db.table("items")
    first = yield from items.index("by_owner_rank", lambda q: q.eq("owner", owner)).first()
    high = yield from items.index(
        "by_owner_rank", lambda q: q.eq("owner", owner).gt("rank", 1)
    ).collect()
    labelled = yield from items.filter(
        lambda q: q.or_(q.eq(q.field("label"), "b"), q.gte(q.field("rank"), 3))
    ).collect()
    unique = yield from items.get("by_owner_rank", owner, 2.0)
    return {
        "first": None if first is None else first.label,
        "high": [d.label for d in high],
        "filtered": sorted(d.label for d in labelled),
        "unique": unique.label,
        "normalized": db.normalize_id("items", str(first._id)) == first._id if first else None,
        "not_items": db.normalize_id("logs", str(first._id)) if first else None,
    }


@query()
def not_unique():
    db = yield from DatabaseReader
    return (yield from db.table("items").index("by_owner_rank").unique())


@mutation(args={"id": v.id("items")})
def patch_and_replace(id: str):
    db = yield from DatabaseWriter
    yield from db.table("items").patch(id, {"label": "patched"})
    reader = yield from DatabaseReader
    patched = yield from reader.table("items").get(id)
    yield from db.table("items").replace(id, Item("other", 9, "replaced"))
    replaced = yield from reader.table("items").get(id)
    return [patched.label, replaced.owner, replaced.label]


@mutation(args={"id": v.id("items")})
def remove_required_field(id: str):
    db = yield from DatabaseWriter
    yield from db.table("items").patch(id, {"label": MISSING})


@mutation()
def insert_bad_document():
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"owner": "x", "rank": "high", "label": "l"})


@query(returns=v.string())
def returns_wrong_type():
    return effects_succeed(5)


@mutation(args={"n": v.number()})
def write_many(n: float):
    db = yield from DatabaseWriter
    for i in range(int(n)):
        yield from db.table("logs").insert({"message": str(i)})
