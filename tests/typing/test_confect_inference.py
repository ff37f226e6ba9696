"""Checked by pyright (strict): inferred types of confect's public API."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, assert_type

import attrs

from confect import (
    Auth,
    DatabaseReader,
    Doc,
    DocumentDecodeError,
    FunctionDefinition,
    Id,
    InvalidCursorError,
    MultiplePaginatedQueriesError,
    MutationDefinition,
    NoUserIdentityFoundError,
    QueryDefinition,
    ScoredId,
    UserIdentity,
    ValidationError,
    VectorSearch,
    define_table,
    mutation,
    query,
    v,
)
from confect.model.schema import TableDefinition
from confect.services.auth import AuthService
from confect.services.database import DatabaseReaderService, PaginationResult
from confect.services.vector_search import VectorSearchService
from effects import Effect, TaggedError


@attrs.frozen
class Note:
    text: str


class Refused(TaggedError):
    why: str


def test_tables_carry_their_document_class() -> None:
    assert_type(define_table(Note), TableDefinition[Note])
    assert_type(define_table({"text": v.string()}), TableDefinition[dict[str, Any]])


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
        assert_type(found, Doc[Any] | None)
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
