"""VectorSearch: the documents nearest a vector, through a vector index, in actions (as
Convex's `ctx.vectorSearch`).

The search is exact: every document of the table is scored by cosine similarity with the
query vector. That is quick for the thousands of documents a small deployment holds; a
large table pays a scan of itself per search (there is no approximate index yet).
"""

from __future__ import annotations

import heapq
import math
import operator
from collections.abc import Callable, Sequence
from typing import Any, cast

import attrs

import effects
from confect.engine.interface import Engine, field_value
from confect.model.errors import ValidationError
from confect.model.ids import Id
from confect.model.schema import Schema, VectorIndex
from confect.model.validators import FieldEncoder
from confect.model.values import encode_value
from effects import Effect, Tag

MAX_LIMIT = 256


@attrs.frozen
class ScoredId:
    """One result: a document's id and its cosine similarity with the query (-1 to 1)."""

    id: Id[Any]
    score: float


@attrs.frozen
class VectorCondition:
    """Which documents a search may return: those equal to one of `alternatives`."""

    alternatives: tuple[tuple[str, bytes], ...]  # (field, the value's key bytes)

    def matches(self, document: dict[str, Any]) -> bool:
        return any(
            encode_value(field_value(document, field)) == key for field, key in self.alternatives
        )


class VectorFilter:
    """`q` in `filter=lambda q: q.or_(q.eq("cuisine", "French"), q.eq("cuisine", "Thai"))`:
    equality on the index's filter fields, any of several with `or_`."""

    def __init__(self, index: VectorIndex, encode: FieldEncoder) -> None:
        self._index = index
        self._encode = encode

    def eq(self, field: str, value: Any) -> VectorCondition:
        if field not in self._index.filter_fields:
            raise ValidationError(
                path=f"vector index {self._index.name!r}",
                message=f"{field!r} is not one of its filter fields {list(self._index.filter_fields)}",
            )
        return VectorCondition(((field, encode_value(self._encode(field, value))),))

    def or_(self, *conditions: VectorCondition) -> VectorCondition:
        return VectorCondition(tuple(a for c in conditions for a in c.alternatives))


class VectorSearchService:
    """What `yield from VectorSearch` gives: `search`. In actions only."""

    __slots__ = ("_engine", "_schema")

    def __init__(self, engine: Engine, schema: Schema) -> None:
        self._engine = engine
        self._schema = schema

    def search(
        self,
        table: str,
        index: str,
        vector: Sequence[float],
        *,
        limit: int = 10,
        filter: Callable[[VectorFilter], VectorCondition] | None = None,
    ) -> Effect[list[ScoredId], ValidationError]:
        """The `limit` (1 to 256) documents of `table` most similar to `vector` by index
        `index`, most similar first; fails `ValidationError` for a bad index, vector, limit
        or filter."""
        return effects.sync(lambda: self._search(table, index, vector, limit, filter))

    def _search(
        self,
        table: str,
        index_name: str,
        vector: Sequence[float],
        limit: int,
        filter_fn: Callable[[VectorFilter], VectorCondition] | None,
    ) -> list[ScoredId]:
        definition = self._schema.table(table)
        index = definition.vector_indexes.get(index_name)
        if index is None:
            raise ValidationError(
                path=f"table {table!r}", message=f"no vector index named {index_name!r}"
            )
        if len(vector) != index.dimensions:
            raise ValidationError(
                path="vector",
                message=f"has {len(vector)} numbers; index {index_name!r} has {index.dimensions}",
            )
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(path="limit", message=f"must be 1 to {MAX_LIMIT}, not {limit}")
        condition = (
            filter_fn(VectorFilter(index, FieldEncoder(definition.validator)))
            if filter_fn
            else None
        )
        query = [float(x) for x in vector]
        norm = math.hypot(*query)
        scored: list[tuple[float, str]] = []
        for document in self._engine.documents(table):
            stored = _vector(document, index.vector_field, len(query))
            if stored is None or (condition is not None and not condition.matches(document)):
                continue
            scored.append((_cosine(query, norm, stored), str(document["_id"])))
        best = heapq.nlargest(limit, scored, key=operator.itemgetter(0))
        return [ScoredId(Id(id_), score) for score, id_ in best]


def _vector(document: dict[str, Any], field: str, size: int) -> list[float] | None:
    """The document's vector at `field`, if it has one of `size` numbers (else it is not
    in the index)."""
    stored: Any = field_value(document, field)
    if isinstance(stored, list) and len(cast("list[float]", stored)) == size:
        return cast("list[float]", stored)
    return None


def _cosine(query: list[float], norm: float, stored: list[float]) -> float:
    length = norm * math.hypot(*stored)
    return sum(map(operator.mul, query, stored)) / length if length else 0.0


class VectorSearch(Tag["VectorSearch", VectorSearchService]):
    """Vector search, in actions: `(yield from VectorSearch).search(table, index, vector)`."""
