"""Queries and mutations over notes."""

from typing import Any

from confect import (
    Auth,
    DatabaseReader,
    DatabaseWriter,
    Id,
    PaginationOptions,
    PaginationResult,
    Scheduler,
    SearchFilterBuilder,
    internal_mutation,
    mutation,
    paginated_query,
    query,
    v,
)
from effects import EffectGen, TaggedError

from ._generated.refs import internal
from .schema import Digest, Note, counters, notes
from .schema import digests as digest_table


class NotAllowed(TaggedError):
    """The caller may not change this note."""

    note_id: str
    reason: str


@query(args={"author": v.string()}, returns=v.array(v.doc("notes")))
def list_by_author(author: str) -> EffectGen[list[Note]]:
    """The author's latest 20 notes, newest first."""
    db = yield from DatabaseReader
    return (
        yield from db.table(notes)
        .index("by_author", lambda q: q.eq("author", author))
        .order("desc")
        .take(20)
    )


@query(args={"text": v.string(), "author": v.optional(v.string())}, returns=v.array(v.doc("notes")))
def search(text: str, author: str | None = None) -> EffectGen[list[Note]]:
    """Notes whose text matches, most relevant first."""
    db = yield from DatabaseReader

    def terms(q: SearchFilterBuilder) -> SearchFilterBuilder:
        q = q.search("text", text)
        return q.eq("author", author) if author else q

    return (yield from db.table(notes).search("search_text", terms).take(10))


@query(args={"cursor": v.optional(v.string()), "num_items": v.number()})
def page(num_items: float, cursor: str | None = None) -> EffectGen[dict[str, Any]]:
    """All notes, oldest first, a page at a time."""
    db = yield from DatabaseReader
    result = yield from db.table(notes).paginate(num_items=int(num_items), cursor=cursor)
    return {
        "page": [note.text for note in result.page],
        "is_done": result.is_done,
        "continue_cursor": result.continue_cursor,
    }


@paginated_query(args={"author": v.string()}, item=v.doc("notes"))
def by_author_paginated(
    author: str, pagination_opts: PaginationOptions
) -> EffectGen[PaginationResult[Note]]:
    """The author's notes, newest first, a page at a time: a paginated query in Convex's
    convention (`paginationOpts` in, a page out), as `usePaginatedQuery` calls it."""
    db = yield from DatabaseReader
    by_author = db.table(notes).index("by_author", lambda q: q.eq("author", author))
    return (yield from by_author.order("desc").paginate(pagination_opts))


@mutation(args={"text": v.string(), "tags": v.optional(v.array(v.string()))}, returns=v.id("notes"))
def add(text: str, tags: list[str] | None = None) -> EffectGen[Id[Note]]:
    """Add a note as the signed-in user; bumps the user's note counter."""
    auth = yield from Auth
    me = yield from auth.get_user_identity()
    db = yield from DatabaseWriter
    note_id = yield from db.table(notes).insert(Note(author=me.subject, text=text, tags=tags or []))
    yield from bump(me.subject)
    return note_id


def bump(name: str) -> EffectGen[None]:
    reader = yield from DatabaseReader
    writer = yield from DatabaseWriter
    counter = (
        yield from reader.table(counters).index("by_name", lambda q: q.eq("name", name)).unique()
    )
    if counter is None:
        yield from writer.table(counters).insert({"name": name, "value": 1})
    else:
        yield from writer.table(counters).patch(counter.id, {"value": counter.value + 1})


@mutation(args={"note_id": v.id("notes"), "text": v.string()}, errors=[NotAllowed])
def edit(note_id: Id[Note], text: str) -> EffectGen[None]:
    """Change a note's text; only its author may."""
    auth = yield from Auth
    me = yield from auth.get_user_identity()
    db = yield from DatabaseReader
    note = yield from db.table(notes).get(note_id)
    if note.author != me.subject:
        yield from NotAllowed(note_id=note_id, reason="only the author can edit a note")
    writer = yield from DatabaseWriter
    yield from writer.table(notes).patch(note_id, {"text": text})


@mutation(args={"note_id": v.id("notes")})
def remove(note_id: Id[Note]) -> EffectGen[None]:
    """Delete a note."""
    writer = yield from DatabaseWriter
    yield from writer.table(notes).delete(note_id)


@mutation(
    args={"author": v.string(), "delay_seconds": v.number()}, returns=v.id("_scheduled_functions")
)
def schedule_digest(author: str, delay_seconds: float) -> EffectGen[Id[Any]]:
    """Ask for a digest of the author's notes, made later by an action."""
    scheduler = yield from Scheduler
    return (
        yield from scheduler.run_after(delay_seconds, internal.digest.make_digest, author=author)
    )


@internal_mutation(args={"author": v.string(), "summary": v.string(), "count": v.number()})
def save_digest(author: str, summary: str, count: float) -> EffectGen[None]:
    """Store a digest (called by the digest action)."""
    writer = yield from DatabaseWriter
    yield from writer.table(digest_table).insert(
        Digest(author=author, summary=summary, count=count)
    )


@query(args={"author": v.string()})
def digests(author: str) -> EffectGen[list[str]]:
    """The author's digests, oldest first."""
    db = yield from DatabaseReader
    found = (
        yield from db.table(digest_table)
        .index("by_author", lambda q: q.eq("author", author))
        .collect()
    )
    return [d.summary for d in found]
