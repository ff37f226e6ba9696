"""DatabaseReader: the service queries and mutations read with (`db.table(name)`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar, overload

import effects
from confect.engine.interface import BY_CREATION_TIME, BY_ID
from confect.model.documents import doc_from_stored
from confect.model.errors import (
    DocumentDecodeError,
    GetByIdFailure,
    GetByIndexFailure,
    InvalidCursorError,
    MultiplePaginatedQueriesError,
    NotUniqueError,
    ValidationError,
)
from confect.model.ids import Id, table_number_of
from confect.model.pagination import PaginationOptions, PaginationResult
from confect.model.schema import Schema, TableDefinition
from confect.model.validators import FieldEncoder
from confect.runtime.transaction import Transaction
from confect.services.database._query import Order, Query, check_order
from confect.services.filters import Expression, FilterBuilder
from confect.services.query_builder import IndexRangeBuilder, SearchFilterBuilder
from effects import Effect, Tag

D = TypeVar("D")


class TableReader(Generic[D]):
    """Reads of one table, whose documents are `D`s: `db.table(notes)` or
    `db.table("notes")`."""

    def __init__(self, tx: Transaction, schema: Schema, table: str | TableDefinition[D]) -> None:
        self._tx = tx
        self._schema = schema
        self._table = schema.name_of(table)
        self._definition = schema.table(self._table)

    def get(self, id_or_index: str, *values: Any) -> Effect[D, Any]:
        """`get(id)` fails `GetByIdFailure`; `get(index_name, *values)` is a unique lookup by
        index that fails `GetByIndexFailure` when no document (or several) match."""
        if not values and id_or_index not in self._definition.indexes:
            return effects.sync(lambda: self._get_by_id(id_or_index))
        return effects.sync(lambda: self._get_by_index(id_or_index, values))

    def _get_by_id(self, id_: str) -> D:
        document = self._tx.get(self._table, id_) if self._owns(id_) else None
        if document is None:
            raise GetByIdFailure(id=id_, table=self._table)
        return doc_from_stored(self._table, document, self._definition.validator)

    def _get_by_index(self, index: str, values: tuple[Any, ...]) -> D:
        builder = self._range_builder(index)
        for field, value in zip(self._definition.indexes[index].fields, values, strict=False):
            builder.eq(field, value)
        lo, hi = builder.bounds()
        found = list(itertools.islice(self._tx.scan(self._table, index, lo, hi), 2))
        if len(found) != 1:
            message = "no document matched" if not found else "more than one document matched"
            raise GetByIndexFailure(table=self._table, index=index, values=values, message=message)
        return doc_from_stored(self._table, found[0], self._definition.validator)

    def _range_builder(self, index: str) -> IndexRangeBuilder:
        """A range over `index`'s key: a schema index's fields then `_creationTime`, or the
        system indexes' `_creationTime` (`by_creation_time`) and `_id` (`by_id`)."""
        if index == BY_CREATION_TIME:
            fields = ["_creationTime"]
        elif index == BY_ID:
            fields = ["_id"]
        elif index in self._definition.indexes:
            fields = [*self._definition.indexes[index].fields, "_creationTime"]
        else:
            raise ValidationError(
                path=f"table {self._table!r}", message=f"no index named {index!r}"
            )
        return IndexRangeBuilder(index, fields, FieldEncoder(self._definition.validator))

    def _owns(self, id_: str) -> bool:
        return table_number_of(id_) == self._tx.numbers.get(self._table)

    def index(
        self,
        name: str,
        range_fn: Callable[[IndexRangeBuilder], IndexRangeBuilder] | None = None,
        order: Order = "asc",
    ) -> Query[D]:
        """Read through an index, optionally within a range: `lambda q: q.eq("author", a)`."""
        builder = self._range_builder(name)
        if range_fn is not None:
            range_fn(builder)
        lo, hi = builder.bounds()
        check_order(order)
        query: Query[D] = Query(
            self._tx, self._table, self._definition.validator, name, lo, hi, order
        )
        return query

    def search(
        self, name: str, search_fn: Callable[[SearchFilterBuilder], SearchFilterBuilder]
    ) -> Query[D]:
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
        query: Query[D] = Query(self._tx, self._table, self._definition.validator, search=search)
        return query

    def _all(self) -> Query[D]:
        query: Query[D] = Query(self._tx, self._table, self._definition.validator)
        return query

    def filter(self, predicate: Callable[[FilterBuilder], Expression]) -> Query[D]:
        return self._all().filter(predicate)

    def order(self, order: Order) -> Query[D]:
        return self._all().order(order)

    def collect(self) -> Effect[list[D], DocumentDecodeError]:
        return self._all().collect()

    def take(self, n: int) -> Effect[list[D], DocumentDecodeError]:
        return self._all().take(n)

    def first(self) -> Effect[D | None, DocumentDecodeError]:
        return self._all().first()

    def unique(self) -> Effect[D | None, DocumentDecodeError | NotUniqueError]:
        return self._all().unique()

    def paginate(
        self, num_items: int | PaginationOptions, cursor: str | None = None
    ) -> Effect[
        PaginationResult[D],
        DocumentDecodeError | InvalidCursorError | MultiplePaginatedQueriesError,
    ]:
        return self._all().paginate(num_items, cursor)

    def stream(self) -> Effect[Iterator[D]]:
        return self._all().stream()


class DatabaseReaderService:
    """What `yield from DatabaseReader` gives."""

    def __init__(self, tx: Transaction, schema: Schema) -> None:
        self._tx = tx
        self._schema = schema

    @overload
    def table(self, table: TableDefinition[D]) -> TableReader[D]: ...
    @overload
    def table(self, table: str) -> TableReader[Any]: ...
    def table(self, table: str | TableDefinition[Any]) -> TableReader[Any]:
        """Reads of a table, given by its definition (`db.table(notes)`: typed by its
        documents) or by name (`db.table("notes")`: its documents typed `Any`)."""
        reader: TableReader[Any] = TableReader(self._tx, self._schema, table)
        return reader

    def normalize_id(self, table: str, id_: str) -> Id[Any] | None:
        """`id_` as an id of `table`, or None if it is not one."""
        number = table_number_of(id_)
        return Id(id_) if number is not None and number == self._tx.numbers.get(table) else None

    def get(self, id_: str) -> Effect[Any | None, DocumentDecodeError]:
        """The document with this id, whatever its table, or None."""

        def run() -> Any | None:
            number = table_number_of(id_)
            by_number = {n: name for name, n in self._tx.numbers.items()}
            table = by_number.get(number) if number is not None else None
            document = self._tx.get(table, id_) if table is not None else None
            if table is None or document is None:
                return None
            return doc_from_stored(table, document, self._schema.table(table).validator)

        return effects.sync(run)


class DatabaseReader(Tag["DatabaseReader", DatabaseReaderService]):
    """Reads: in queries and mutations."""
