"""Schema: tables, their document validators and their indexes, checked at definition time."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar, cast, overload

import attrs

from confect.model.documents import SYSTEM_ATTRIBUTES, Doc, Document
from confect.model.errors import SchemaError
from confect.model.validators import (
    DocV,
    IdV,
    ObjectV,
    OptionalV,
    UnionV,
    Validator,
    object_of,
    v,
    walk,
)

T = TypeVar("T")

MAX_INDEXES = 64
MAX_INDEX_FIELDS = 16
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
SYSTEM_INDEXES = ("by_id", "by_creation_time")
SYSTEM_FIELDS = ("_id", "_creationTime")
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FIELD_RULE = "a table's field names are identifiers; only system fields start with _"
STORAGE_TABLE = "_storage"
SCHEDULED_TABLE = "_scheduled_functions"
CRONS_TABLE = "_cron_jobs"
SESSION_REQUESTS_TABLE = "_session_requests"
SESSION_REQUESTS_INDEX = "by_session_id_and_request_id"
ENVIRONMENT_VARIABLES_TABLE = "_environment_variables"
ENVIRONMENT_VARIABLES_INDEX = "by_name"
HIDDEN_TABLES = frozenset({SESSION_REQUESTS_TABLE, ENVIRONMENT_VARIABLES_TABLE})
"""System tables only the server itself reads: apps, listings and exports do not see them."""


@attrs.frozen
class Index:
    """A database index: documents ordered by `fields`, then `_creationTime`, `_id`."""

    name: str
    fields: tuple[str, ...]


@attrs.frozen
class SearchIndex:
    """A full-text index over one string field, with equality filter fields."""

    name: str
    search_field: str
    filter_fields: tuple[str, ...]


@attrs.frozen
class VectorIndex:
    name: str
    vector_field: str
    dimensions: int
    filter_fields: tuple[str, ...]


class TableDefinition(Generic[T]):
    """A table: its document validator (and attrs class, if any) and its indexes. The
    validator is an object, or a union of objects (a table of several kinds of document).

    `T` is the type of its documents: the attrs class, or `Doc[dict[str, Any]]`."""

    def __init__(self, validator: ObjectV[Any] | UnionV) -> None:
        self.validator: ObjectV[Any] | UnionV = validator
        self.indexes: dict[str, Index] = {}
        self.search_indexes: dict[str, SearchIndex] = {}
        self.vector_indexes: dict[str, VectorIndex] = {}

    @property
    def document_class(self) -> type[Any] | None:
        """The attrs class of the table's documents, if it has one."""
        return self.validator.cls if isinstance(self.validator, ObjectV) else None

    def index(self, name: str, fields: Sequence[str]) -> TableDefinition[T]:
        """Add an index over `fields` (dotted paths reach into nested objects)."""
        self._check_new_index(name)
        if not fields:
            raise SchemaError(message=f"index {name!r} needs at least one field")
        if len(fields) > MAX_INDEX_FIELDS:
            raise SchemaError(
                message=f"index {name!r} has {len(fields)} fields (max {MAX_INDEX_FIELDS})"
            )
        if len(set(fields)) != len(fields):
            raise SchemaError(message=f"index {name!r} repeats a field: {list(fields)}")
        for field in fields:
            self._check_field(name, field)
        self.indexes[name] = Index(name, tuple(fields))
        return self

    def search_index(
        self, name: str, *, search_field: str, filter_fields: Sequence[str] = ()
    ) -> TableDefinition[T]:
        """Add a full-text search index over the string field `search_field`."""
        self._check_new_index(name)
        for field in (search_field, *filter_fields):
            self._check_field(name, field)
        self.search_indexes[name] = SearchIndex(name, search_field, tuple(filter_fields))
        return self

    def vector_index(
        self, name: str, *, vector_field: str, dimensions: int, filter_fields: Sequence[str] = ()
    ) -> TableDefinition[T]:
        """Declare a vector index: what `VectorSearch.search` (in actions) searches."""
        self._check_new_index(name)
        if not 2 <= dimensions <= 4096:
            raise SchemaError(message=f"vector index {name!r}: dimensions must be 2..4096")
        for field in (vector_field, *filter_fields):
            self._check_field(name, field)
        self.vector_indexes[name] = VectorIndex(
            name, vector_field, dimensions, tuple(filter_fields)
        )
        return self

    def _check_new_index(self, name: str) -> None:
        if not _NAME.match(name):
            raise SchemaError(message=f"index name {name!r} must be an identifier")
        if name in SYSTEM_INDEXES:
            raise SchemaError(message=f"index name {name!r} is reserved")
        taken = {**self.indexes, **self.search_indexes, **self.vector_indexes}
        if name in taken:
            raise SchemaError(message=f"index {name!r} is defined twice")
        if len(taken) >= MAX_INDEXES:
            raise SchemaError(message=f"a table has at most {MAX_INDEXES} indexes")

    def _check_field(self, index: str, path: str) -> None:
        if not _can_contain(self.validator, path.split(".")):
            raise SchemaError(
                message=f"index {index!r} names the field {path!r}, which the table does not have"
            )


def _can_contain(validator: Validator[Any], parts: list[str]) -> bool:
    """Whether a value of `validator` can have the field at the path `parts` (in some
    branch of a union, as Convex's `can_contain_field`)."""
    if not parts:
        return True
    if isinstance(validator, OptionalV):
        return _can_contain(cast(OptionalV[Any], validator).inner, parts)
    if isinstance(validator, UnionV):
        return any(_can_contain(member, parts) for member in validator.members)
    if isinstance(validator, ObjectV):
        field = validator.fields.get(parts[0])
        return field is not None and _can_contain(field, parts[1:])
    return False


@overload
def define_table(
    document: Mapping[str, Validator[Any]],
) -> TableDefinition[Doc[dict[str, Any]]]: ...
@overload
def define_table(document: UnionV) -> TableDefinition[Doc[dict[str, Any]]]: ...
@overload
def define_table(document: type[T]) -> TableDefinition[T]: ...
def define_table(
    document: type[Any] | Mapping[str, Validator[Any]] | UnionV,
) -> TableDefinition[Any]:
    """A table whose documents are instances of an attrs class, match a validator dict, or
    match one of the objects of a union (`v.union(v.object(...), v.object(...))`).

    Field names are identifiers (`[A-Za-z][A-Za-z0-9_]*`): a name starting with `_` is the
    system fields'. A dict or union may declare `_id` and `_creationTime`, which the
    backend sets (as in Convex: the declaration is dropped)."""
    if isinstance(document, Mapping):
        return TableDefinition(_table_object(ObjectV(dict(document))))
    if isinstance(document, UnionV):
        return TableDefinition(UnionV(*(_table_object(m) for m in _objects_of(document))))
    if not attrs.has(document):
        raise SchemaError(
            message="define_table takes an attrs class or a dict of validators (or a union "
            f"of objects), not {document!r}"
        )
    try:
        validator = object_of(cast(type[Any], document))
    except TypeError as error:
        raise SchemaError(message=str(error)) from None
    for name in validator.fields:
        if not _FIELD_NAME.match(name):
            raise SchemaError(message=f"field {name!r} of {document.__name__}: {_FIELD_RULE}")
    if issubclass(document, Document):
        for field in attrs.fields(document):
            if field.name in SYSTEM_ATTRIBUTES:
                raise SchemaError(
                    message=f"field {field.name!r} of {document.__name__}: a Document names "
                    "its system fields id and creation_time; rename the field, or do not "
                    "subclass Document (its documents then have _id and _creation_time only)"
                )
    return TableDefinition(validator)


def _objects_of(union: UnionV) -> list[ObjectV[Any]]:
    objects: list[ObjectV[Any]] = []
    for member in union.members:
        if not isinstance(member, ObjectV):
            raise SchemaError(message=f"a table's union has objects only, not {member.describe()}")
        objects.append(member)
    return objects


def _table_object(document: ObjectV[Any]) -> ObjectV[Any]:
    """`document` without validators of the system fields, which a table may declare (as in
    Convex, which checks them itself); its other field names are identifiers."""
    for name in document.fields:
        if name not in SYSTEM_FIELDS and not _FIELD_NAME.match(name):
            raise SchemaError(message=f"field {name!r}: {_FIELD_RULE}")
    fields = {name: f for name, f in document.fields.items() if name not in SYSTEM_FIELDS}
    return document if len(fields) == len(document.fields) else ObjectV(fields, document.cls)


class Schema:
    """All tables of an app, with the system tables `_storage`, `_scheduled_functions`,
    `_cron_jobs` and (hidden) `_session_requests` and `_environment_variables`."""

    def __init__(self, tables: Mapping[str, TableDefinition[Any]]) -> None:
        self.tables: dict[str, TableDefinition[Any]] = {**_system_tables(), **tables}
        self._names: dict[int, str | None] = {}
        for name, table in tables.items():  # a definition under two names is ambiguous
            self._names[id(table)] = None if id(table) in self._names else name

    def name_of(self, table: str | TableDefinition[Any]) -> str:
        """The name of a table given by name or by its definition (a `SchemaError` for a
        definition this schema does not hold)."""
        if isinstance(table, str):
            return table
        name = self._names.get(id(table), "")
        if not name:
            problem = "names two tables" if name is None else "is not in the app's schema"
            raise SchemaError(message=f"that table definition {problem}: use the table's name")
        return name

    @property
    def visible_tables(self) -> dict[str, TableDefinition[Any]]:
        """The tables an app and its data tools see: all but the hidden system tables."""
        return {name: t for name, t in self.tables.items() if name not in HIDDEN_TABLES}

    def table(self, name: str) -> TableDefinition[Any]:
        """A visible table's definition; raises `SchemaError` for any other name."""
        if name in HIDDEN_TABLES or name not in self.tables:
            raise SchemaError(message=f"no table named {name!r} in the schema")
        return self.tables[name]


def define_schema(**tables: TableDefinition[Any]) -> Schema:
    """The app's schema. Table names are identifiers that do not start with `_`; each
    `v.id(table)` in a document names a table of the schema (or a system table)."""
    for name in tables:
        if not _NAME.match(name):
            raise SchemaError(
                message=f"table name {name!r} must be an identifier not starting with _"
            )
    schema = Schema(tables)
    for name, table in tables.items():
        refuse_unknown_tables(name, table.validator, schema)
    return schema


def refuse_unknown_tables(path: str, validator: Validator[Any] | None, schema: Schema) -> None:
    """Fail with `SchemaError` if a `v.id(t)` or `v.doc(t)` inside `validator` names a
    table `schema` does not have (system tables are known); name the table of each id
    typed by a document class (`Id[Post]`), the one table of `schema` whose documents are
    of that class, or fail if there is none or several."""
    for where, node in walk(validator, path):
        if isinstance(node, IdV) and node.document_class is not None:
            node.table = _table_of_class(where, node.document_class, schema)
        if (
            isinstance(node, IdV | DocV)
            and node.table is not None  # an id of any table
            and node.table not in schema.visible_tables
        ):
            kind = "id" if isinstance(node, IdV) else "doc"
            raise SchemaError(
                message=f"{where}: v.{kind}({node.table!r}) names a table the schema does not have"
            )


def _table_of_class(where: str, cls: type[Any], schema: Schema) -> str:
    tables = [name for name, t in schema.visible_tables.items() if t.document_class is cls]
    if len(tables) == 1:
        return tables[0]
    found = "no table of the schema has them" if not tables else f"tables {', '.join(tables)} do"
    raise SchemaError(
        message=f"{where}: Id[{cls.__name__}] is an id of the table of {cls.__name__} "
        f"documents, but {found}; give the field its validator: "
        f'attrs.field(metadata={{"validator": v.id("table")}})'
    )


def _system_tables() -> dict[str, TableDefinition[Any]]:
    storage: TableDefinition[Any] = define_table(
        {"sha256": v.string(), "size": v.float64(), "contentType": v.optional(v.string())}
    ).index("by_sha256", ["sha256"])
    scheduled: TableDefinition[Any] = define_table(
        {
            "name": v.string(),
            "args": v.array(v.any()),
            "scheduledTime": v.float64(),
            "completedTime": v.optional(v.float64()),
            "state": v.object({"kind": v.string(), "error": v.optional(v.string())}),
            "runBy": v.optional(v.string()),  # the server process running an action job
        }
    ).index("by_state", ["state.kind", "scheduledTime"])
    crons: TableDefinition[Any] = define_table(
        {"name": v.string(), "schedule": v.string(), "nextRun": v.float64()}
    ).index("by_name", ["name"])
    # a mutation sent over the sync protocol, recorded in its own transaction (see
    # confect.runtime.session_requests); `result` is its value as wire JSON text
    session_requests: TableDefinition[Any] = define_table(
        {
            "sessionId": v.string(),
            "requestId": v.int64(),
            "outcome": v.object({"type": v.string(), "result": v.string()}),
            "ts": v.int64(),  # of the commit that wrote it (the engine sets it)
        }
    ).index(SESSION_REQUESTS_INDEX, ["sessionId", "requestId"])
    # the deployment's environment variables (see confect.runtime.environment), as Convex's
    # `_environment_variables`: one document per variable
    environment_variables: TableDefinition[Any] = define_table(
        {"name": v.string(), "value": v.string()}
    ).index(ENVIRONMENT_VARIABLES_INDEX, ["name"])
    return {
        STORAGE_TABLE: storage,
        SCHEDULED_TABLE: scheduled,
        CRONS_TABLE: crons,
        SESSION_REQUESTS_TABLE: session_requests,
        ENVIRONMENT_VARIABLES_TABLE: environment_variables,
    }
