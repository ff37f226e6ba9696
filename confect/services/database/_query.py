"""`Query`: an immutable description of a read of one table (a range of an index, or a
full-text search, with filters and an order), whose terminal methods are effects (its
pagination lives in `_pagination`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any, Generic, Literal, TypeVar

import attrs

import effects
from confect.engine.interface import BY_CREATION_TIME, Document
from confect.model.documents import doc_from_stored
from confect.model.errors import (
    DocumentDecodeError,
    InvalidCursorError,
    MultiplePaginatedQueriesError,
    NotUniqueError,
    ValidationError,
)
from confect.model.pagination import PaginationOptions, PaginationResult
from confect.model.validators import FieldEncoder, Validator
from confect.model.values import AFTER_PREFIX
from confect.runtime.transaction import Transaction
from confect.services.database._pagination import check_options, read_page
from confect.services.database._search import search_results
from confect.services.filters import Expression, FilterBuilder
from effects import Effect

Order = Literal["asc", "desc"]
D = TypeVar("D")


def check_order(order: str) -> None:
    """Refuse an order other than "asc" and "desc"."""
    if order not in ("asc", "desc"):
        raise ValidationError(path="order", message=f"expected 'asc' or 'desc', got {order!r}")


@attrs.frozen
class Query(Generic[D]):
    """An immutable description of a read of documents of type `D`; terminal methods
    return effects."""

    tx: Transaction = attrs.field(repr=False)
    table: str
    validator: Validator[Any] | None = attrs.field(default=None, repr=False)
    index: str = BY_CREATION_TIME
    lo: bytes = b""
    hi: bytes = AFTER_PREFIX
    order_: Order = "asc"
    filters: tuple[Expression, ...] = ()
    search: tuple[str, str, str, tuple[tuple[str, bytes], ...]] | None = (
        None  # index, field, text, equalities (field, the value's key bytes)
    )

    def order(self, order: Order) -> Query[D]:
        """Order by the index (ascending or descending)."""
        check_order(order)
        return attrs.evolve(self, order_=order)

    def filter(self, predicate: Callable[[FilterBuilder], Expression]) -> Query[D]:
        """Keep the documents for which `predicate(q)` holds (evaluated while scanning)."""
        builder = FilterBuilder(FieldEncoder(self.validator))
        return attrs.evolve(self, filters=(*self.filters, predicate(builder)))

    def collect(self) -> Effect[list[D], DocumentDecodeError]:
        """All matching documents."""
        return effects.sync(lambda: [self._decode(d) for d in self._documents()])

    def take(self, n: int) -> Effect[list[D], DocumentDecodeError]:
        """The first `n` matching documents."""
        return effects.sync(
            lambda: [self._decode(d) for d in itertools.islice(self._documents(), n)]
        )

    def first(self) -> Effect[D | None, DocumentDecodeError]:
        """The first matching document, or None."""
        return effects.sync(lambda: next((self._decode(d) for d in self._documents()), None))

    def unique(self) -> Effect[D | None, DocumentDecodeError | NotUniqueError]:
        """The only matching document or None; fails `NotUniqueError` if there are several."""

        def run() -> D | None:
            found = list(itertools.islice(self._documents(), 2))
            if len(found) > 1:
                raise NotUniqueError(table=self.table, index=self.index)
            return self._decode(found[0]) if found else None

        return effects.sync(run)

    def stream(self) -> Effect[Iterator[D]]:
        """A lazy iterator over the matching documents (read as you go)."""
        return effects.sync(lambda: (self._decode(d) for d in self._documents()))

    def paginate(
        self, num_items: int | PaginationOptions, cursor: str | None = None
    ) -> Effect[
        PaginationResult[D],
        DocumentDecodeError | InvalidCursorError | MultiplePaginatedQueriesError,
    ]:
        """A page of documents, as Convex's `paginate`: `paginate(opts)` with the
        `PaginationOptions` a `v.pagination_opts()` argument decodes to, or
        `paginate(num_items=, cursor=)` (cursor None: from the start). One per function."""
        options = (
            num_items
            if isinstance(num_items, PaginationOptions)
            else PaginationOptions(num_items, cursor)
        )
        check_options(options)
        return effects.sync(lambda: read_page(self, options))

    # --- machinery ---

    def _keyed_documents(self) -> Iterator[tuple[bytes, Document]]:
        keyed = self.tx.scan_keyed(self.table, self.index, self.lo, self.hi, self.order_ == "desc")
        for key, document in keyed:
            if all(f(document) for f in self.filters):
                yield key, document

    def _documents(self) -> Iterator[Document]:
        if self.search is not None:
            return self._search_documents()
        return (document for _, document in self._keyed_documents())

    def _search_documents(self) -> Iterator[Document]:
        return (document for _, document in search_results(self))

    def _decode(self, document: Document) -> D:
        return doc_from_stored(self.table, document, self.validator)
