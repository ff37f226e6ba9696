"""A schema's tables and indexes as engines see them: table numbers, each document's key
in each index (order-preserving bytes, see `confect.model.values.encode_key`), and its
words in each search index."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from confect.model.schema import (
    CRONS_TABLE,
    ENVIRONMENT_VARIABLES_TABLE,
    SCHEDULED_TABLE,
    SESSION_REQUESTS_TABLE,
    STORAGE_TABLE,
    Schema,
)
from confect.model.text_search import words
from confect.model.values import UNDEFINED, Value, encode_key, encode_value

SYSTEM_TABLE_NUMBERS = {
    SCHEDULED_TABLE: 1,
    STORAGE_TABLE: 2,
    CRONS_TABLE: 3,
    SESSION_REQUESTS_TABLE: 4,
    ENVIRONMENT_VARIABLES_TABLE: 5,
}
FIRST_USER_TABLE = 10001

BY_ID = "by_id"
BY_CREATION_TIME = "by_creation_time"


def field_value(document: Mapping[str, Value], path: str) -> Any:
    """The value at a dotted path, or `UNDEFINED` when it is missing."""
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return UNDEFINED
        value = value[part]  # pyright: ignore[reportUnknownVariableType]
    return value  # pyright: ignore[reportUnknownVariableType]


def index_key(document: Mapping[str, Value], index: str, fields: Sequence[str]) -> bytes:
    """The key of `document` in an index over `fields` (then `_creationTime`, `_id`)."""
    if index == BY_ID:
        return encode_value(document["_id"])
    values = [field_value(document, path) for path in fields]
    values.append(document["_creationTime"])
    values.append(document["_id"])
    return encode_key(tuple(values))


def number_new_tables(numbers: Mapping[str, int], tables: Iterable[str]) -> dict[str, int]:
    """`numbers`, plus a number for each table that has none: a system table its fixed one,
    a user table the next free one from FIRST_USER_TABLE. A table keeps its number forever."""
    out = dict(numbers)
    for name in tables:
        if name not in out:
            out[name] = (
                SYSTEM_TABLE_NUMBERS.get(name) or max([FIRST_USER_TABLE - 1, *out.values()]) + 1
            )
    return out


class IndexCatalog:
    """The index fields of every table, from the schema (system indexes included)."""

    def __init__(self, schema: Schema) -> None:
        self.fields: dict[str, dict[str, tuple[str, ...]]] = {}
        self.search: dict[str, dict[str, str]] = {}  # table -> search index -> its text field
        for name, table in schema.tables.items():
            indexes: dict[str, tuple[str, ...]] = {BY_ID: (), BY_CREATION_TIME: ()}
            indexes.update({i.name: i.fields for i in table.indexes.values()})
            self.fields[name] = indexes
            self.search[name] = {i.name: i.search_field for i in table.search_indexes.values()}

    def keys(self, table: str, document: Mapping[str, Value]) -> dict[str, bytes]:
        """The document's key in each index of its table."""
        return {name: index_key(document, name, f) for name, f in self.fields[table].items()}

    def terms(self, table: str, document: Mapping[str, Value]) -> dict[str, set[str]]:
        """The document's words in each search index of its table."""
        out: dict[str, set[str]] = {}
        for index, field in self.search[table].items():
            text = field_value(document, field)
            out[index] = set(words(text)) if isinstance(text, str) else set()
        return out
