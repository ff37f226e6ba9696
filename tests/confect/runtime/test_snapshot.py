"""Export and import round-trip every value type, ids, creation times and files."""

import base64
import hashlib
import math
from pathlib import Path

import pytest

import effects
from confect import (
    App,
    Backend,
    DatabaseWriter,
    SchemaError,
    define_schema,
    define_table,
    mutation,
    v,
)
from confect.engine.interface import BY_CREATION_TIME
from confect.engine.memory import MemoryEngine
from confect.engine.sql.sqlite import SqliteEngine
from confect.model.values import encode_key
from confect.runtime.snapshot import export_snapshot, import_snapshot

SCHEMA = define_schema(
    things=define_table({"value": v.any(), "ref": v.optional(v.id("things"))}),
    other=define_table({"n": v.int64()}),
)


@mutation(args={"value": v.any()})
def put(value):
    db = yield from DatabaseWriter
    first = yield from db.table("things").insert({"value": value})
    yield from db.table("things").insert({"value": "second", "ref": first})


APP = App({"things:put": put}, SCHEMA)
VALUES = [
    None,
    1,
    -(2**63),
    1.5,
    -0.0,
    math.inf,
    math.nan,
    True,
    "ü",
    b"\x00\xff",
    [1, [2.0]],
    {"a": {"b": b""}},
]


def _documents(backend: Backend) -> list[bytes]:
    return [
        encode_key((document,))
        for table in ("things", "other", "_storage")
        for _, document in backend.engine.scan(table, BY_CREATION_TIME, b"", b"\xff", False)
    ]


def test_export_then_import_round_trips_exactly(tmp_path: Path):
    source = Backend(APP, SqliteEngine(tmp_path / "source"))
    # an empty table that the target numbers first, so numbering differs unless restored
    for value in VALUES:
        effects.run_sync(source.mutation(put, {"value": value}))
    source.files.store(b"file bytes", "text/plain", source.in_own_transaction)
    counts = export_snapshot(source, tmp_path / "snap")
    assert counts["things"] == 2 * len(VALUES) and counts["_storage"] == 1

    target_schema = define_schema(
        other=define_table({"n": v.int64()}),
        things=define_table({"value": v.any(), "ref": v.optional(v.id("things"))}),
    )
    target = Backend(App({}, target_schema), MemoryEngine())
    import_snapshot(target, tmp_path / "snap")
    assert _documents(target) == _documents(source)
    assert target.numbers["things"] == source.numbers["things"]
    [storage] = [
        d for _, d in target.engine.scan("_storage", BY_CREATION_TIME, b"", b"\xff", False)
    ]
    digest = hashlib.sha256(b"file bytes")
    assert storage["sha256"] == base64.b64encode(digest.digest()).decode()
    assert target.engine.get_blob(digest.hexdigest()) == b"file bytes"


def test_import_refuses_a_deployment_with_data(tmp_path: Path):
    source = Backend(APP, MemoryEngine())
    effects.run_sync(source.mutation(put, {"value": 1}))
    export_snapshot(source, tmp_path / "snap")
    with pytest.raises(SchemaError, match="not empty"):
        import_snapshot(source, tmp_path / "snap")


def test_import_refuses_documents_the_schema_rejects(tmp_path: Path):
    source = Backend(APP, MemoryEngine())
    effects.run_sync(source.mutation(put, {"value": 1}))
    export_snapshot(source, tmp_path / "snap")
    stricter = define_schema(
        things=define_table({"value": v.string(), "ref": v.optional(v.string())}),
        other=define_table({"n": v.int64()}),
    )
    with pytest.raises(SchemaError, match="value: expected string"):
        import_snapshot(Backend(App({}, stricter), MemoryEngine()), tmp_path / "snap")
