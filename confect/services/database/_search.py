"""The results of a full-text search query, most relevant first, each with its search key:
the bytes that order the results and that a page's cursor names, as Convex keys a search
result by its score, then its creation time (the newest first), then its id."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from confect.engine.interface import Document, field_value
from confect.model.text_search import query_terms, relevance
from confect.model.values import encode_key, encode_value

if TYPE_CHECKING:
    from confect.services.database._query import Query

MAX_SEARCH_RESULTS = 1024


def search_results(query: Query[Any]) -> list[tuple[bytes, Document]]:
    """The (search key, document) pairs `query` finds, in relevance order (at most 1024;
    of equally relevant documents, the newest first)."""
    assert query.search is not None
    index, field, text, equalities = query.search
    terms = query_terms(text)
    found: list[tuple[bytes, Document]] = []
    for document in query.tx.search(query.table, index, terms):
        if any(encode_value(field_value(document, f)) != key for f, key in equalities):
            continue
        if not all(f(document) for f in query.filters):
            continue
        score = relevance(terms, field_value(document, field))
        if score > 0:
            created = cast(float, document["_creationTime"])
            found.append((encode_key((-score, -created, document["_id"])), document))
    found.sort(key=lambda result: result[0])
    return found[:MAX_SEARCH_RESULTS]
