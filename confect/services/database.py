"""DatabaseReader and DatabaseWriter: the services queries and mutations read and write with."""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Callable, Iterator
from typing import Any, Literal, TypeVar, cast

import attrs

import effects
from confect.engine.interface import BY_CREATION_TIME, Document, field_value
from confect.model.documents import Doc, doc_from_stored, user_fields
from confect.model.errors import (
    DocumentDecodeError,
    GetByIdFailure,
    GetByIndexFailure,
    InvalidCursorError,
    NotUniqueError,
    ValidationError,
)
from confect.model.ids import Id, table_number_of
from confect.model.schema import Schema
from confect.model.text_search import query_terms, relevance
from confect.model.validators import FieldEncoder, Validator, encode_any
from confect.model.values import AFTER_PREFIX, Value
from confect.runtime.transaction import Transaction
from confect.services.query_builder import Expression, FilterBuilder, IndexRangeBuilder
from effects import Effect, Tag

A = TypeVar("A")
Order = Literal["asc", "desc"]
MAX_SEARCH_RESULTS = 1024

DecodeFailure = DocumentDecodeError


def _op(thunk: Callable[[], A]) -> Effect[A, Any]:
    """Run a database operation when the effect runs; a raised TaggedError is its failure."""
    return effects.sync(thunk)


@attrs.frozen
class PaginationResult:
    """One page: `page`, whether the query is exhausted, and the cursor to continue from."""

    page: list[Doc[Any]]
    is_done: bool
    continue_cursor: str


# --- reads -----------------------------------------------------------------------------------------


def _check_order(order: str) -> None:
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
    search: tuple[str, str, str, tuple[tuple[str, Any], ...]] | None = (
        None  # index, field, text, equalities
    )

    def order(self, order: Order) -> Query:
        """Order by the index (ascending or descending)."""
        _check_order(order)
        return attrs.evolve(self, order_=order)

    def filter(self, predicate: Callable[[FilterBuilder], Expression]) -> Query:
        """Keep the documents for which `predicate(q)` holds (evaluated while scanning)."""
        builder = FilterBuilder(FieldEncoder(self.validator))
        return attrs.evolve(self, filters=(*self.filters, predicate(builder)))

    def collect(self) -> Effect[list[Doc[Any]], DecodeFailure]:
        """All matching documents."""
        return _op(lambda: [self._decode(d) for d in self._documents()])

    def take(self, n: int) -> Effect[list[Doc[Any]], DecodeFailure]:
        """The first `n` matching documents."""
        return _op(lambda: [self._decode(d) for d in itertools.islice(self._documents(), n)])

    def first(self) -> Effect[Doc[Any] | None, DecodeFailure]:
        """The first matching document, or None."""
        return _op(lambda: next((self._decode(d) for d in self._documents()), None))

    def unique(self) -> Effect[Doc[Any] | None, DecodeFailure | NotUniqueError]:
        """The only matching document or None; fails `NotUniqueError` if there are several."""

        def run() -> Doc[Any] | None:
            found = list(itertools.islice(self._documents(), 2))
            if len(found) > 1:
                raise NotUniqueError(table=self.table, index=self.index)
            return self._decode(found[0]) if found else None

        return _op(run)

    def stream(self) -> Effect[Iterator[Doc[Any]]]:
        """A lazy iterator over the matching documents (read as you go)."""
        return _op(lambda: (self._decode(d) for d in self._documents()))

    def paginate(
        self, num_items: int, cursor: str | None = None
    ) -> Effect[PaginationResult, DecodeFailure | InvalidCursorError]:
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

        return _op(run)

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
            if any(field_value(document, f) != value for f, value in equalities):
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


class SearchFilterBuilder:
    """`q` in `.search("search_text", lambda q: q.search("text", "hello").eq("author", a))`."""

    def __init__(self, encode: FieldEncoder) -> None:
        self._encode = encode
        self.field: str | None = None
        self.text = ""
        self.equalities: list[tuple[str, Any]] = []

    def search(self, field: str, text: str) -> SearchFilterBuilder:
        self.field, self.text = field, text
        return self

    def eq(self, field: str, value: Any) -> SearchFilterBuilder:
        self.equalities.append((field, self._encode(field, value)))
        return self


class TableReader:
    """Reads of one table: `db.table("notes")`."""

    def __init__(self, tx: Transaction, schema: Schema, table: str) -> None:
        self._tx = tx
        self._schema = schema
        self._table = table
        self._definition = schema.table(table)

    def get(self, id_or_index: str, *values: Any) -> Effect[Doc[Any], Any]:
        """`get(id)` fails `GetByIdFailure`; `get(index_name, *values)` is a unique lookup by
        index that fails `GetByIndexFailure` when no document (or several) match."""
        if not values and id_or_index not in self._definition.indexes:
            return _op(lambda: self._get_by_id(id_or_index))
        return _op(lambda: self._get_by_index(id_or_index, values))

    def _get_by_id(self, id_: str) -> Doc[Any]:
        document = self._tx.get(self._table, id_) if self._owns(id_) else None
        if document is None:
            raise GetByIdFailure(id=id_, table=self._table)
        return doc_from_stored(self._table, document, self._definition.validator)

    def _get_by_index(self, index: str, values: tuple[Any, ...]) -> Doc[Any]:
        builder = IndexRangeBuilder(
            index, self._definition.indexes[index].fields, FieldEncoder(self._definition.validator)
        )
        for field, value in zip(self._definition.indexes[index].fields, values, strict=False):
            builder.eq(field, value)
        lo, hi = builder.bounds()
        found = list(itertools.islice(self._tx.scan(self._table, index, lo, hi), 2))
        if len(found) != 1:
            message = "no document matched" if not found else "more than one document matched"
            raise GetByIndexFailure(table=self._table, index=index, values=values, message=message)
        return doc_from_stored(self._table, found[0], self._definition.validator)

    def _owns(self, id_: str) -> bool:
        return table_number_of(id_) == self._tx.numbers.get(self._table)

    def index(
        self,
        name: str,
        range_fn: Callable[[IndexRangeBuilder], IndexRangeBuilder] | None = None,
        order: Order = "asc",
    ) -> Query:
        """Read through an index, optionally within a range: `lambda q: q.eq("author", a)`."""
        if name == BY_CREATION_TIME:
            fields: tuple[str, ...] = ()
        elif name in self._definition.indexes:
            fields = self._definition.indexes[name].fields
        else:
            raise ValidationError(path=f"table {self._table!r}", message=f"no index named {name!r}")
        builder = IndexRangeBuilder(name, fields, FieldEncoder(self._definition.validator))
        if range_fn is not None:
            range_fn(builder)
        lo, hi = builder.bounds()
        _check_order(order)
        return Query(self._tx, self._table, self._definition.validator, name, lo, hi, order)

    def search(
        self, name: str, search_fn: Callable[[SearchFilterBuilder], SearchFilterBuilder]
    ) -> Query:
        """Full-text search through a search index, most relevant first (at most 1024)."""
        index = self._definition.search_indexes.get(name)
        if index is None:
            raise ValidationError(
                path=f"table {self._table!r}", message=f"no search index named {name!r}"
            )
        built = search_fn(SearchFilterBuilder(FieldEncoder(self._definition.validator)))
        if built.field != index.search_field:
            raise ValidationError(
                path=f"search index {name!r}",
                message=f"searches {index.search_field!r}, not {built.field!r}",
            )
        for field, _ in built.equalities:
            if field not in index.filter_fields:
                raise ValidationError(
                    path=f"search index {name!r}", message=f"{field!r} is not a filter field"
                )
        search = (name, index.search_field, built.text, tuple(built.equalities))
        return Query(self._tx, self._table, self._definition.validator, search=search)

    def _all(self) -> Query:
        return Query(self._tx, self._table, self._definition.validator)

    def filter(self, predicate: Callable[[FilterBuilder], Expression]) -> Query:
        return self._all().filter(predicate)

    def order(self, order: Order) -> Query:
        return self._all().order(order)

    def collect(self) -> Effect[list[Doc[Any]], DecodeFailure]:
        return self._all().collect()

    def take(self, n: int) -> Effect[list[Doc[Any]], DecodeFailure]:
        return self._all().take(n)

    def first(self) -> Effect[Doc[Any] | None, DecodeFailure]:
        return self._all().first()

    def unique(self) -> Effect[Doc[Any] | None, DecodeFailure | NotUniqueError]:
        return self._all().unique()

    def paginate(
        self, num_items: int, cursor: str | None = None
    ) -> Effect[PaginationResult, DecodeFailure | InvalidCursorError]:
        return self._all().paginate(num_items, cursor)

    def stream(self) -> Effect[Iterator[Doc[Any]]]:
        return self._all().stream()


class DatabaseReaderService:
    """What `yield from DatabaseReader` gives."""

    def __init__(self, tx: Transaction, schema: Schema) -> None:
        self._tx = tx
        self._schema = schema

    def table(self, name: str) -> TableReader:
        return TableReader(self._tx, self._schema, name)

    def normalize_id(self, table: str, id_: str) -> Id[Any] | None:
        """`id_` as an id of `table`, or None if it is not one."""
        number = table_number_of(id_)
        return Id(id_) if number is not None and number == self._tx.numbers.get(table) else None

    def get(self, id_: str) -> Effect[Doc[Any] | None, DecodeFailure]:
        """The document with this id, whatever its table, or None."""

        def run() -> Doc[Any] | None:
            number = table_number_of(id_)
            by_number = {n: name for name, n in self._tx.numbers.items()}
            table = by_number.get(number) if number is not None else None
            document = self._tx.get(table, id_) if table is not None else None
            if table is None or document is None:
                return None
            return doc_from_stored(table, document, self._schema.table(table).validator)

        return _op(run)


class DatabaseReader(Tag["DatabaseReader", DatabaseReaderService]):
    """Reads: in queries and mutations."""


# --- writes ----------------------------------------------------------------------------------------


class TableWriter:
    """Writes to one table: `db.table("notes").insert(Note(...))`."""

    def __init__(self, tx: Transaction, schema: Schema, table: str) -> None:
        self._tx = tx
        self._table = table
        self._validator = schema.table(table).validator

    def insert(self, document: Any) -> Effect[Id[Any], ValidationError]:
        """Validate and insert; succeed with the new id."""
        return _op(lambda: Id(self._tx.insert(self._table, self._fields(document))))

    def patch(
        self, id_: str, fields: dict[str, Any]
    ) -> Effect[None, GetByIdFailure | ValidationError]:
        """Merge `fields` into the document; a field set to None is removed."""

        def run() -> None:
            current = self._current(id_)
            merged = user_fields(current)
            for name, value in fields.items():
                if name.startswith("_"):
                    raise ValidationError(
                        path=f"patch.{name}", message="system fields cannot be patched"
                    )
                if value is None:
                    merged.pop(name, None)
                else:
                    merged[name] = encode_any(value, f"patch.{name}")
            self._tx.replace(self._table, current, self._fields(merged))

        return _op(run)

    def replace(self, id_: str, document: Any) -> Effect[None, GetByIdFailure | ValidationError]:
        """Replace all user fields of the document."""
        return _op(
            lambda: self._tx.replace(self._table, self._current(id_), self._fields(document))
        )

    def delete(self, id_: str) -> Effect[None, GetByIdFailure]:
        """Delete the document."""
        return _op(lambda: self._tx.delete(self._table, self._current(id_)))

    def _current(self, id_: str) -> Document:
        if table_number_of(id_) != self._tx.numbers.get(self._table):
            raise ValidationError(
                path="id", message=f"{id_!r} is not an id of table {self._table!r}"
            )
        current = self._tx.get(self._table, id_)
        if current is None:
            raise GetByIdFailure(id=id_, table=self._table)
        return current

    def _fields(self, document: Any) -> dict[str, Value]:
        encoded = self._validator.encode(document, "document")
        assert isinstance(encoded, dict)
        return encoded


class DatabaseWriterService:
    """What `yield from DatabaseWriter` gives."""

    def __init__(self, tx: Transaction, schema: Schema) -> None:
        self._tx = tx
        self._schema = schema

    def table(self, name: str) -> TableWriter:
        return TableWriter(self._tx, self._schema, name)


class DatabaseWriter(Tag["DatabaseWriter", DatabaseWriterService]):
    """Writes: in mutations only."""


__all__ = [
    "DatabaseReader",
    "DatabaseReaderService",
    "DatabaseWriter",
    "DatabaseWriterService",
    "PaginationResult",
    "Query",
    "TableReader",
    "TableWriter",
]
