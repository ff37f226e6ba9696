"""`Query`: an immutable description of a read of one table (a range of an index, or a
full-text search, with filters and an order), whose terminal methods are effects; and
pagination over it, with cursors that are the scan key of a page's last document."""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Callable, Iterator
from typing import Any, Literal, cast

import attrs

import effects
from confect.engine.interface import BY_CREATION_TIME, Document, field_value
from confect.model.documents import Doc, doc_from_stored
from confect.model.errors import (
    DocumentDecodeError,
    InvalidCursorError,
    NotUniqueError,
    ValidationError,
)
from confect.model.text_search import query_terms, relevance
from confect.model.validators import FieldEncoder, Validator
from confect.model.values import AFTER_PREFIX, encode_value
from confect.runtime.transaction import Transaction
from confect.services.filters import Expression, FilterBuilder
from effects import Effect

Order = Literal["asc", "desc"]
MAX_SEARCH_RESULTS = 1024


@attrs.frozen
class PaginationResult:
    """One page: `page`, whether the query is exhausted, and the cursor to continue from."""

    page: list[Doc[Any]]
    is_done: bool
    continue_cursor: str


def check_order(order: str) -> None:
    """Refuse an order other than "asc" and "desc"."""
    if order not in ("asc", "desc"):
        raise ValidationError(path="order", message=f"expected 'asc' or 'desc', got {order!r}")


@attrs.frozen
class Query:
    """An immutable description of a read; terminal methods return effects."""

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

    def order(self, order: Order) -> Query:
        """Order by the index (ascending or descending)."""
        check_order(order)
        return attrs.evolve(self, order_=order)

    def filter(self, predicate: Callable[[FilterBuilder], Expression]) -> Query:
        """Keep the documents for which `predicate(q)` holds (evaluated while scanning)."""
        builder = FilterBuilder(FieldEncoder(self.validator))
        return attrs.evolve(self, filters=(*self.filters, predicate(builder)))

    def collect(self) -> Effect[list[Doc[Any]], DocumentDecodeError]:
        """All matching documents."""
        return effects.sync(lambda: [self._decode(d) for d in self._documents()])

    def take(self, n: int) -> Effect[list[Doc[Any]], DocumentDecodeError]:
        """The first `n` matching documents."""
        return effects.sync(
            lambda: [self._decode(d) for d in itertools.islice(self._documents(), n)]
        )

    def first(self) -> Effect[Doc[Any] | None, DocumentDecodeError]:
        """The first matching document, or None."""
        return effects.sync(lambda: next((self._decode(d) for d in self._documents()), None))

    def unique(self) -> Effect[Doc[Any] | None, DocumentDecodeError | NotUniqueError]:
        """The only matching document or None; fails `NotUniqueError` if there are several."""

        def run() -> Doc[Any] | None:
            found = list(itertools.islice(self._documents(), 2))
            if len(found) > 1:
                raise NotUniqueError(table=self.table, index=self.index)
            return self._decode(found[0]) if found else None

        return effects.sync(run)

    def stream(self) -> Effect[Iterator[Doc[Any]]]:
        """A lazy iterator over the matching documents (read as you go)."""
        return effects.sync(lambda: (self._decode(d) for d in self._documents()))

    def paginate(
        self, num_items: int, cursor: str | None = None
    ) -> Effect[PaginationResult, DocumentDecodeError | InvalidCursorError]:
        """Up to `num_items` documents after `cursor` (None: from the start)."""

        if num_items < 1:
            raise ValidationError(
                path="paginate.num_items", message=f"must be at least 1, got {num_items}"
            )

        def run() -> PaginationResult:
            query = self._after(cursor) if cursor else self
            page: list[Doc[Any]] = []
            last_key = b""
            for key, document in query._keyed_documents():
                page.append(self._decode(document))
                last_key = key
                if len(page) == num_items:
                    return PaginationResult(page, False, _cursor(last_key))
            end = b"" if self.order_ == "desc" else _END
            return PaginationResult(page, True, _cursor(end))

        return effects.sync(run)

    # --- machinery ---

    def _after(self, cursor: str) -> Query:
        key = _uncursor(cursor)
        if self.order_ == "asc":
            return attrs.evolve(self, lo=max(self.lo, key + b"\x00"))
        return attrs.evolve(self, hi=min(self.hi, key))

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
        assert self.search is not None
        index, field, text, equalities = self.search
        terms = query_terms(text)
        scored: list[tuple[float, float, Document]] = []
        for document in self.tx.search(self.table, index, terms):
            if any(encode_value(field_value(document, f)) != key for f, key in equalities):
                continue
            if not all(f(document) for f in self.filters):
                continue
            score = relevance(terms, field_value(document, field))
            if score > 0:
                scored.append((-score, float(cast(float, document["_creationTime"])), document))
        scored.sort(key=lambda item: (item[0], item[1]))
        return (document for _, _, document in scored[:MAX_SEARCH_RESULTS])

    def _decode(self, document: Document) -> Doc[Any]:
        return doc_from_stored(self.table, document, self.validator)


_END = AFTER_PREFIX * 2  # after every key: a cursor past the end


def _cursor(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


def _uncursor(cursor: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(cursor.encode())
    except (binascii.Error, ValueError):
        raise InvalidCursorError(cursor=cursor) from None
