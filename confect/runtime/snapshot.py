"""Export and import: a deployment's documents and files as a directory.

Layout: `tables.json` (table name -> number), `documents/<table>.jsonl` (one document per
line, Convex wire JSON, so every value type round-trips exactly) and `files/<sha256>`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import IO

from confect.engine.interface import BLOB_CHUNK_BYTES, Write
from confect.model.documents import user_fields
from confect.model.errors import SchemaError, ValidationError
from confect.model.schema import CRONS_TABLE, STORAGE_TABLE
from confect.model.values import MAX_DOCUMENT_BYTES, Value, check_limits, from_wire, to_wire
from confect.runtime.deployment import Deployment
from confect.services.file_store import blob_key

Progress = Callable[[str, int], None]
"""Called with (table, documents done so far)."""

BATCH = 1000
MAX_LINE_BYTES = 8 * MAX_DOCUMENT_BYTES
"""The longest line of a snapshot's JSON lines (a document's JSON, escapes and all, is
shorter): a longer one is refused, not read into memory whole."""


def export_snapshot(
    backend: Deployment, directory: Path, progress: Progress | None = None
) -> dict[str, int]:
    """Write every visible table (crons aside: they come from the app) and every file;
    return counts."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "documents").mkdir(exist_ok=True)
    (directory / "files").mkdir(exist_ok=True)
    tables = backend.schema.visible_tables
    numbers = {name: number for name, number in backend.numbers.items() if name in tables}
    (directory / "tables.json").write_text(json.dumps(numbers, indent=2, sort_keys=True))
    counts: dict[str, int] = {}
    for table in tables:
        if table == CRONS_TABLE:
            continue
        count = 0
        with open(directory / "documents" / f"{table}.jsonl", "w") as out:
            for document in backend.engine.documents(table):
                out.write(json.dumps(to_wire(document), separators=(",", ":")) + "\n")
                if table == STORAGE_TABLE:
                    _export_file(backend, directory, blob_key(str(document["sha256"])))
                count += 1
                if progress is not None and count % BATCH == 0:
                    progress(table, count)
        counts[table] = count
        if progress is not None:
            progress(table, count)
    return counts


def _check(backend: Deployment, table: str, document: dict[str, Value]) -> None:
    where = f"{table} {document.get('_id')}"
    check_limits(document, where)
    try:
        backend.schema.table(table).validator.decode(user_fields(document), where)
    except ValidationError as error:
        raise SchemaError(message=f"the snapshot does not match the schema: {error}") from None


def _export_file(backend: Deployment, directory: Path, sha: str) -> None:
    pieces = backend.engine.read_blob(sha)
    if pieces is not None:
        with open(directory / "files" / sha, "wb") as out:
            out.writelines(pieces)


def import_snapshot(
    backend: Deployment, directory: Path, progress: Progress | None = None
) -> dict[str, int]:
    """Load a snapshot into an empty deployment; return counts per table."""
    ensure_empty(backend)
    with all_or_nothing(backend) as written:
        return _import_snapshot(backend, directory, written, progress)


def _import_snapshot(
    backend: Deployment,
    directory: Path,
    written: list[tuple[str, str]],
    progress: Progress | None,
) -> dict[str, int]:
    numbers: dict[str, int] = json.loads((directory / "tables.json").read_text())
    ensure_known_tables(backend, numbers)
    backend.renumber_tables(numbers)
    for sha_file in sorted((directory / "files").iterdir()):
        with open(sha_file, "rb") as pieces:
            sha = backend.engine.put_blob(iter(lambda: pieces.read(BLOB_CHUNK_BYTES), b""))
        if sha != sha_file.name:
            raise SchemaError(
                message=f"the snapshot's file {sha_file.name} holds bytes of sha256 {sha}"
            )
    counts: dict[str, int] = {}
    for table in numbers:
        path = directory / "documents" / f"{table}.jsonl"
        if path.exists():
            with open(path, "rb") as raw:
                documents = (
                    from_wire(json.loads(line), where)
                    for where, line in lines_of(raw, f"documents/{table}.jsonl")
                )
                counts[table] = load_documents(backend, table, documents, written, progress)
    return counts


def ensure_empty(backend: Deployment) -> None:
    """Raise `SchemaError` unless the deployment has no documents (crons aside)."""
    for table in backend.schema.visible_tables:
        if table != CRONS_TABLE and next(backend.engine.documents(table), None):
            raise SchemaError(
                message=f"the deployment is not empty (table {table!r} has documents)"
            )


def ensure_known_tables(backend: Deployment, tables: Iterable[str]) -> None:
    """Raise `SchemaError` if any of `tables` is not in the app's schema."""
    unknown = sorted(set(tables) - set(backend.schema.visible_tables))
    if unknown:
        raise SchemaError(message=f"the snapshot has tables the schema does not: {unknown}")


def lines_of(raw: IO[bytes], name: str) -> Iterator[tuple[str, bytes]]:
    """Each line of `raw`, with where it is (`name line N`); a `SchemaError` for a line
    over `MAX_LINE_BYTES`."""
    for number, line in enumerate(iter(lambda: raw.readline(MAX_LINE_BYTES + 1), b""), 1):
        where = f"{name} line {number}"
        if len(line) > MAX_LINE_BYTES:
            raise SchemaError(message=f"{where} is over {MAX_LINE_BYTES} bytes: no document is")
        yield where, line


@contextlib.contextmanager
def all_or_nothing(backend: Deployment) -> Generator[list[tuple[str, str]]]:
    """Run an import into the empty deployment: it puts the (table, id) of each document
    it writes in the list yielded, and if it fails those are deleted again, so that the
    deployment is as empty as before (and the import can be tried again)."""
    written: list[tuple[str, str]] = []
    try:
        yield written
    except BaseException:
        for start in range(0, len(written), BATCH):
            found = ((t, i, backend.engine.get(t, i)) for t, i in written[start : start + BATCH])
            deletes = [Write(t, i, old, None) for t, i, old in found if old is not None]
            backend.engine.commit(backend.engine.last_ts(), [], deletes)
        raise


def load_documents(
    backend: Deployment,
    table: str,
    documents: Iterable[Value],
    written: list[tuple[str, str]],
    progress: Progress | None = None,
) -> int:
    """Check each document against the schema and write it (in batches), adding its
    (table, id) to `written`; the count."""
    batch: list[Write] = []
    count = 0
    for document in documents:
        assert isinstance(document, dict)
        _check(backend, table, document)
        batch.append(Write(table, str(document["_id"]), None, document))
        count += 1
        if len(batch) == BATCH:
            backend.engine.commit(backend.engine.last_ts(), [], batch)
            written.extend((table, w.id) for w in batch)
            batch = []
            if progress is not None:
                progress(table, count)
    if batch:
        backend.engine.commit(backend.engine.last_ts(), [], batch)
        written.extend((table, w.id) for w in batch)
    if progress is not None:
        progress(table, count)
    return count
