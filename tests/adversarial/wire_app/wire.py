"""Functions that return, store and read back whatever value they are given."""

from typing import Any

import effects
from confect import (
    Auth,
    DatabaseReader,
    DatabaseWriter,
    action,
    internal_mutation,
    mutation,
    query,
    v,
)


@query(args={"value": v.any()})
def echo_query(value: Any):
    """`value`, as it arrived."""
    return effects.succeed(value)


@mutation(args={"value": v.any()})
def echo_mutation(value: Any):
    """`value`, as it arrived."""
    return effects.succeed(value)


@action(args={"value": v.any()})
def echo_action(value: Any):
    """`value`, as it arrived."""
    return effects.succeed(value)


@mutation(args={"table": v.string(), "value": v.any()})
def store(table: str, value: Any):
    """Store `value` in a new document of `table`; its id."""
    db = yield from DatabaseWriter
    return str((yield from db.table(table).insert({"value": value})))


@mutation(args={"key": v.string(), "value": v.any()})
def store_field(key: str, value: Any):
    """Store the object `{key: value}` that this code builds (no client sent it as one)."""
    db = yield from DatabaseWriter
    return str((yield from db.table("values").insert({"value": {key: value}})))


@query(args={"table": v.string(), "id": v.string()})
def load(table: str, id: str):
    """The value stored in document `id` of `table` (None if there is none)."""
    db = yield from DatabaseReader
    found = db.normalize_id(table, id)
    document = None if found is None else (yield from db.table(table).get(found))
    return None if document is None else document.value


@query(args={"table": v.string()})
def values_of(table: str):
    """Every value stored in `table`, oldest first."""
    db = yield from DatabaseReader
    return [document.value for document in (yield from db.table(table).collect())]


@mutation()
def whoami():
    """The caller's subject, or None when anonymous."""
    auth = yield from Auth
    return None if auth.identity is None else auth.identity.subject


@internal_mutation()
def internal_whoami():
    """An internal function: only the admin key calls it."""
    return effects.succeed("admin")
