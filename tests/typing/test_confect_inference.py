"""Checked by pyright (strict): inferred types of confect's public API."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, assert_type

import attrs

from confect import (
    Auth,
    DatabaseReader,
    DatabaseWriter,
    Doc,
    Document,
    DocumentDecodeError,
    FunctionDefinition,
    Id,
    InvalidCursorError,
    MultiplePaginatedQueriesError,
    MutationDefinition,
    NoUserIdentityFoundError,
    PaginationOptions,
    QueryCtx,
    QueryDefinition,
    ScoredId,
    UserIdentity,
    ValidationError,
    VectorSearch,
    define_table,
    mutation,
    paginated_query,
    query,
    v,
)
from confect.model.schema import TableDefinition
from confect.services.auth import AuthService
from confect.services.database import DatabaseReaderService, PaginationResult
from confect.services.vector_search import VectorSearchService
from effects import Effect, EffectGen, TaggedError


@attrs.frozen
class Note:
    text: str


class Refused(TaggedError):
    why: str


def test_tables_carry_their_document_class() -> None:
    assert_type(define_table(Note), TableDefinition[Note])
    assert_type(define_table({"text": v.string()}), TableDefinition[Doc[dict[str, Any]]])


@attrs.frozen
class Task(Document):
    title: str
    done: bool = False


tasks = define_table(Task)
events = define_table({"kind": v.string()})


def test_documents_are_typed_by_their_table() -> None:
    def handler() -> Generator[Effect[Any, Any, Any], Any, None]:
        reader = yield from DatabaseReader
        writer = yield from DatabaseWriter
        task_id = yield from writer.table(tasks).insert(Task(title="t"))
        assert_type(task_id, Id[Task])
        task = yield from reader.table(tasks).get(task_id)
        assert_type(task, Task)
        assert_type(task.title, str)
        assert_type(task.id, Id[Task])
        assert_type(task.creation_time, float)
        found = (
            yield from reader.table(tasks).index("by_title", lambda q: q.eq("title", "t")).first()
        )
        assert_type(found, Task | None)
        assert_type((yield from reader.table(tasks).collect()), list[Task])
        assert_type((yield from reader.table(tasks).take(2)), list[Task])
        assert_type((yield from reader.table(tasks).unique()), Task | None)
        assert_type((yield from reader.table(tasks).paginate(5)), PaginationResult[Task])
        event = yield from reader.table(events).first()
        assert_type(event, Doc[dict[str, Any]] | None)
        untyped = yield from reader.table("tasks").first()
        assert_type(untyped, Any | None)
        yield from writer.table(tasks).insert(Task(title=1))  # pyright: ignore[reportArgumentType]
        yield from writer.table(tasks).replace(task.id, attrs.evolve(task, done=True))
        yield from writer.table(tasks).insert(events)  # pyright: ignore[reportArgumentType]

    assert handler is not None


def test_services_are_typed() -> None:
    def handler() -> Generator[Effect[Any, Any, Any], Any, int]:
        db = yield from DatabaseReader
        assert_type(db, DatabaseReaderService)
        auth = yield from Auth
        assert_type(auth, AuthService)
        assert_type(auth.get_user_identity(), Effect[UserIdentity, NoUserIdentityFoundError])
        page = db.table("notes").paginate(10)
        assert_type(
            page,
            Effect[
                PaginationResult,
                DocumentDecodeError | InvalidCursorError | MultiplePaginatedQueriesError,
            ],
        )
        found = yield from db.table("notes").first()
        assert_type(found, Any | None)
        search = yield from VectorSearch
        assert_type(search, VectorSearchService)
        nearest = search.search("notes", "by_embedding", [1.0, 0.0], limit=3)
        assert_type(nearest, Effect[list[ScoredId], ValidationError])
        return 1

    assert handler is not None


def test_function_definitions_infer_result_and_error() -> None:
    @query(args={"text": v.string()})
    def echo(text: str) -> Generator[Effect[Any, Refused, Any], Any, str]:
        if not text:
            yield from Refused(why="empty")
        return text

    typed: QueryDefinition[..., str, Refused] = echo  # A and E are invariant: exactly these
    assert isinstance(typed, FunctionDefinition)

    @mutation()
    def new_id() -> Generator[Effect[Any, Any, Any], Any, Id[Note]]:
        raise NotImplementedError
        yield

    assert_type(new_id, MutationDefinition[[], Id[Note], Any])


def test_paginated_queries_carry_their_page_type() -> None:
    @paginated_query(item=v.doc("tasks"))
    def pages(pagination_opts: PaginationOptions) -> EffectGen[PaginationResult[Task]]:
        reader = yield from DatabaseReader
        return (yield from reader.table(tasks).paginate(pagination_opts))

    assert_type(pages, QueryDefinition[..., PaginationResult[Task], Any])


def test_contexts_are_typed_by_function_kind() -> None:
    @query()
    def with_ctx() -> EffectGen[list[Task]]:
        ctx = yield from QueryCtx
        assert_type(ctx.db, DatabaseReaderService)
        _ = ctx.db_writer  # pyright: ignore[reportAttributeAccessIssue]
        return (yield from ctx.db.table(tasks).collect())

    assert with_ctx is not None
