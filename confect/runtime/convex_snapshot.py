"""Export and import: a deployment's documents and files as a ZIP in Convex's snapshot
format, the one `npx convex export` writes and `npx convex import` reads.

The layout (convex-backend `crates/exports`, `crates/application/src/snapshot_import`):
`README.md`; `_tables/documents.jsonl`, one `{"name": table, "id": number}` a user table;
`<table>/documents.jsonl`, its documents in Convex's export JSON (see
`_convex_export_json`) with `<table>/generated_schema.jsonl` holding `"uniform"`;
`_storage/documents.jsonl`, one `{"_id", "_creationTime", "sha256" (base64), "size",
"contentType", "internalId"}` a file, and each file's bytes at `_storage/<id><.ext>`.

Table numbers come along (from `_tables`, else from a table's first id; `_storage`'s from
its ids), so every id, reference and creation time stays what it was. Scheduled functions
and crons are not part of the format (Convex skips system tables on import).
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, cast

import attrs

from confect.engine.interface import BLOB_CHUNK_BYTES
from confect.model.errors import InvalidValueError, SchemaError
from confect.model.ids import is_legacy_id, new_id, table_number_of
from confect.model.schema import STORAGE_TABLE
from confect.model.values import Value
from confect.runtime._convex_export_json import from_export_json, to_export_json
from confect.runtime.deployment import Deployment
from confect.runtime.snapshot import (
    BATCH,
    Progress,
    all_or_nothing,
    ensure_empty,
    ensure_known_tables,
    lines_of,
    load_documents,
)

TABLES_TABLE = "_tables"
UNIFORM = "uniform"
README = """# Welcome to your Convex snapshot export!

This ZIP file contains a snapshot of the tables in your Convex deployment.

Documents for each table are listed as lines of JSON in
<table_name>/documents.jsonl files.

For details on the format and how to use this snapshot with npx convex import,
check out [the docs](https://docs.convex.dev/database/import-export/export) or
ask us in [Discord](http://convex.dev/community).
"""
# Convex's patterns, each with an optional prefix it ignores (e.g. `snapshot/`)
_DOCUMENTS = re.compile(r"^(?:.*/)?([^/]+)/documents\.jsonl$")
_GENERATED_SCHEMA = re.compile(r"^(?:.*/)?([^/]+)/generated_schema\.jsonl$")
_STORAGE_FILE = re.compile(r"^(?:.*/)?_storage/([^/.]+)(?:\.[^/]+)?$")


# --- export ----------------------------------------------------------------------------------


def export_convex_zip(
    backend: Deployment, path: Path, progress: Progress | None = None
) -> dict[str, int]:
    """Write the user tables and the files to a ZIP `npx convex import` accepts; return
    counts. Ids written by confect-py 0.1.0 (`is_legacy_id`) are refused: Convex rejects
    them, and rewriting them would miss the copies held in `v.any()` fields and strings."""
    tables = [name for name in backend.schema.visible_tables if not name.startswith("_")]
    counts: dict[str, int] = {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.md", README)
        numbered = sorted((backend.numbers[name], name) for name in tables)
        rows = ({"name": name, "id": number} for number, name in numbered)
        _write_lines(archive, f"{TABLES_TABLE}/documents.jsonl", rows)
        for table in tables:
            documents = (to_export_json(_portable(d)) for d in backend.engine.documents(table))
            counts[table] = _write_lines(
                archive, f"{table}/documents.jsonl", documents, progress, table
            )
            archive.writestr(f"{table}/generated_schema.jsonl", json.dumps(UNIFORM) + "\n")
        counts[STORAGE_TABLE] = _export_files(backend, archive, progress)
    return counts


def _portable(document: dict[str, Value]) -> dict[str, Value]:
    if is_legacy_id(str(document["_id"])):
        raise SchemaError(
            message=f"document {document['_id']} has an id of confect-py 0.1.0, which Convex "
            "refuses; the Convex format cannot carry it (export with the confect format)"
        )
    return document


def _write_lines(
    archive: zipfile.ZipFile,
    name: str,
    rows: Iterable[Any],
    progress: Progress | None = None,
    table: str = "",
) -> int:
    count = 0
    with archive.open(name, "w") as out:
        for row in rows:
            out.write(json.dumps(row, separators=(",", ":"), allow_nan=False).encode() + b"\n")
            count += 1
            if progress is not None and count % BATCH == 0:
                progress(table, count)
    if progress is not None:
        progress(table, count)
    return count


def _export_files(backend: Deployment, archive: zipfile.ZipFile, progress: Progress | None) -> int:
    files = list(backend.engine.documents(STORAGE_TABLE))
    count = _write_lines(
        archive,
        f"{STORAGE_TABLE}/documents.jsonl",
        (_file_metadata(_portable(file)) for file in files),
        progress,
        STORAGE_TABLE,
    )
    for file in files:
        content_type = file.get("contentType")
        extension = (
            mimetypes.guess_extension(content_type) if isinstance(content_type, str) else None
        )
        pieces = backend.engine.read_blob(str(file["sha256"]))
        if pieces is not None:
            with archive.open(f"{STORAGE_TABLE}/{file['_id']}{extension or ''}", "w") as out:
                out.writelines(pieces)
    return count


def _file_metadata(file: dict[str, Value]) -> dict[str, Any]:
    size = file["size"]
    assert isinstance(size, (int, float))
    return {
        "_id": file["_id"],
        "_creationTime": file["_creationTime"],
        "sha256": base64.b64encode(bytes.fromhex(str(file["sha256"]))).decode(),
        "size": int(size),
        "contentType": file.get("contentType"),
        "internalId": None,  # Convex then gives the file a storage key of its own
    }


# --- import ----------------------------------------------------------------------------------


@attrs.frozen
class _Layout:
    """Where each part of a snapshot ZIP is, by entry."""

    documents: dict[str, zipfile.ZipInfo]  # user table -> its documents.jsonl
    schemas: dict[str, zipfile.ZipInfo]  # user table -> its generated_schema.jsonl
    tables: zipfile.ZipInfo | None  # _tables/documents.jsonl
    file_metadata: zipfile.ZipInfo | None  # _storage/documents.jsonl
    files: dict[str, zipfile.ZipInfo]  # storage id -> its bytes


def _layout(archive: zipfile.ZipFile) -> _Layout:
    documents: dict[str, zipfile.ZipInfo] = {}
    schemas: dict[str, zipfile.ZipInfo] = {}
    files: dict[str, zipfile.ZipInfo] = {}
    for entry in archive.infolist():
        if "_components/" in entry.filename:
            raise SchemaError(
                message=f"the snapshot has component data ({entry.filename}); confect-py "
                "has no components"
            )
        if found := _DOCUMENTS.match(entry.filename):
            documents[found.group(1)] = entry
        elif found := _GENERATED_SCHEMA.match(entry.filename):
            schemas[found.group(1)] = entry
        elif found := _STORAGE_FILE.match(entry.filename):
            files[found.group(1)] = entry
    return _Layout(
        documents={t: e for t, e in documents.items() if not t.startswith("_")},
        schemas=schemas,
        tables=documents.get(TABLES_TABLE),
        file_metadata=documents.get(STORAGE_TABLE),
        files=files,
    )


def import_convex_zip(
    backend: Deployment, path: Path, progress: Progress | None = None
) -> dict[str, int]:
    """Load a ZIP written by `npx convex export` into an empty deployment, keeping ids,
    creation times and files; return counts per table."""
    ensure_empty(backend)
    with zipfile.ZipFile(path) as archive, all_or_nothing(backend) as written:
        layout = _layout(archive)
        ensure_known_tables(backend, layout.documents)
        metadata = _file_metadata_by_id(archive, layout.file_metadata)
        numbers = _table_numbers(archive, layout, metadata)
        _ensure_distinct({**backend.numbers, **numbers})
        backend.renumber_tables(numbers)
        counts: dict[str, int] = {}
        for table, entry in layout.documents.items():
            integers = _is_uniform(archive, layout.schemas.get(table))
            rows = _documents(backend, archive, entry, table, integers)
            counts[table] = load_documents(backend, table, rows, written, progress)
        if layout.files or metadata:
            files = _files(backend, archive, layout.files, metadata)
            counts[STORAGE_TABLE] = load_documents(backend, STORAGE_TABLE, files, written, progress)
    return counts


def _lines(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> Iterator[tuple[str, Any]]:
    """Each line's JSON, with where it is (`name line N`)."""
    with archive.open(entry) as raw:
        for where, line in lines_of(raw, entry.filename):
            try:
                yield where, json.loads(line)
            except ValueError as error:
                raise SchemaError(message=f"{where} is not JSON: {error}") from None


def _table_numbers(
    archive: zipfile.ZipFile, layout: _Layout, metadata: dict[str, dict[str, Any]]
) -> dict[str, int]:
    """Each table's number: from `_tables`, else its first document's id."""
    numbers: dict[str, int] = {}
    if layout.tables is not None:
        for where, line in _lines(archive, layout.tables):
            row = _object(line)
            if row is None or not isinstance(row.get("id"), int):
                raise SchemaError(message=f"{where}: expected {{'name': ..., 'id': number}}")
            if row.get("name") in layout.documents:
                numbers[str(row["name"])] = int(row["id"])
    for table, entry in layout.documents.items():
        if table not in numbers:
            first = next(_lines(archive, entry), None)
            row = _object(first[1]) if first is not None else None
            number = _number_of(row.get("_id")) if row is not None else None
            if number is not None:
                numbers[table] = number
    storage_ids = [*metadata, *layout.files]
    if storage_ids and (number := _number_of(storage_ids[0])) is not None:
        numbers[STORAGE_TABLE] = number
    return numbers


def _object(data: Any) -> dict[str, Any] | None:
    return cast(dict[str, Any], data) if isinstance(data, dict) else None


def _number_of(id_: Any) -> int | None:
    return table_number_of(id_) if isinstance(id_, str) else None


def _ensure_distinct(numbers: dict[str, int]) -> None:
    by_number: dict[int, str] = {}
    for table, number in numbers.items():
        if number in by_number:
            raise SchemaError(
                message=f"tables {by_number[number]!r} and {table!r} would share number {number}"
            )
        by_number[number] = table


def _is_uniform(archive: zipfile.ZipFile, entry: zipfile.ZipInfo | None) -> bool:
    """Whether the table's values are export JSON with int64s (`"uniform"`); without a
    generated schema, numbers are float64s. Older exports' inferred schemas are refused."""
    if entry is None:
        return False
    first = next(_lines(archive, entry), None)
    if first is None or first[1] != UNIFORM:
        raise SchemaError(
            message=f"{entry.filename} is an inferred schema of an old Convex export; "
            "export again with a current Convex"
        )
    return True


def _documents(
    backend: Deployment,
    archive: zipfile.ZipFile,
    entry: zipfile.ZipInfo,
    table: str,
    integers: bool,
) -> Iterator[Value]:
    for where, row in _lines(archive, entry):
        try:
            document = from_export_json(row, where, integers=integers)
        except InvalidValueError as error:
            raise SchemaError(message=str(error)) from None
        if not isinstance(document, dict):
            raise SchemaError(message=f"{where}: a document is an object")
        yield _with_system_fields(backend, table, document, where)


def _with_system_fields(
    backend: Deployment, table: str, document: dict[str, Value], where: str
) -> dict[str, Value]:
    """The document with its `_id` checked (or a new one) and `_creationTime` a float64
    (or now), as Convex's import does for documents without them."""
    number = backend.numbers[table]
    id_ = document.get("_id")
    if id_ is None:
        id_ = new_id(number)
    elif _number_of(id_) != number:
        raise SchemaError(message=f"{where}: _id {id_!r} is not an id of table {table!r}")
    created = document.get("_creationTime")
    created = backend.now_ms() if not isinstance(created, (int, float)) else float(created)
    return {**document, "_id": id_, "_creationTime": created}


def _file_metadata_by_id(
    archive: zipfile.ZipFile, entry: zipfile.ZipInfo | None
) -> dict[str, dict[str, Any]]:
    metadata: dict[str, dict[str, Any]] = {}
    for where, line in _lines(archive, entry) if entry is not None else ():
        row = _object(line)
        if row is None or not isinstance(row.get("_id"), str):
            raise SchemaError(message=f"{where}: expected a file's metadata with an _id")
        metadata[str(row["_id"])] = row
    return metadata


def _files(
    backend: Deployment,
    archive: zipfile.ZipFile,
    files: dict[str, zipfile.ZipInfo],
    metadata: dict[str, dict[str, Any]],
) -> Iterator[Value]:
    """The `_storage` document of each file, its bytes stored (as Convex, a file without
    metadata is still imported, metadata without a file is not)."""
    for id_, entry in files.items():
        about = metadata.get(id_, {})
        with archive.open(entry) as raw:
            counted = _Counted(raw)
            sha = backend.engine.put_blob(counted.pieces())
        expected = about.get("sha256")
        if expected is not None and base64.b64decode(expected).hex() != sha:
            raise SchemaError(message=f"{entry.filename} does not have the sha256 {expected}")
        document: dict[str, Value] = {
            "sha256": sha,
            "size": float(about.get("size") or counted.size),
        }
        if about.get("contentType") is not None:
            document["contentType"] = str(about["contentType"])
        if about.get("_creationTime") is not None:
            document["_creationTime"] = float(about["_creationTime"])
        yield _with_system_fields(backend, STORAGE_TABLE, {**document, "_id": id_}, entry.filename)


class _Counted:
    """A stream's pieces, counting their bytes."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.size = raw, 0

    def pieces(self) -> Iterator[bytes]:
        while piece := self.raw.read(BLOB_CHUNK_BYTES):
            self.size += len(piece)
            yield piece
