"""The admin endpoints the `confect` CLI uses on a running deployment (every one needs the
admin key, `Authorization: Convex <key>`), shaped as Convex's where it has one:

- `GET /api/tables`: each table with its number of documents;
- `GET /api/tables/<table>/documents?limit=N`: its newest documents (Convex wire JSON);
- `GET /api/export/zip` (Convex's ZIP, for `npx convex import`) and `GET /api/export/confect`
  (confect's snapshot directory, as a tar): the whole data, written to a file on the
  server's disk and streamed from it (never held in memory), with its number of documents
  in the `Confect-Documents` header;
- `POST /api/import?format=zip|confect`: load such a snapshot (the request body, streamed to
  disk) into the empty deployment; answers `{"numWritten": N}`, as Convex's `/api/import`.

Exports and imports run on a thread of their own, so the server goes on answering; once an
import is done, every cached result and subscription is computed afresh.
"""

from __future__ import annotations

import enum
import itertools
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from confect.model.errors import InvalidValueError, SchemaError
from confect.model.values import to_wire
from confect.runtime import convex_snapshot, snapshot
from confect.runtime.deployment import Deployment
from confect.server.api import stream_body
from confect.server.calls import ErrorCode, RequestError

if TYPE_CHECKING:
    from confect.server.asgi import Server

MAX_IMPORT_BYTES = 4 << 30
"""The largest snapshot `POST /api/import` takes."""
MAX_UNPACKED_BYTES = 4 * MAX_IMPORT_BYTES
"""The most an imported snapshot may unpack to, as its archive declares (checked before
anything is unpacked: a zip bomb is refused, not written out)."""
MAX_LISTED_DOCUMENTS = 1000
"""The most documents `GET /api/tables/<table>/documents` answers with."""
DOCUMENTS_HEADER = "confect-documents"
"""The header of an export's response that says how many documents it holds."""


class SnapshotFormat(enum.Enum):
    """How a snapshot travels: Convex's ZIP, or confect's directory as a tar."""

    ZIP = "zip"
    CONFECT = "confect"


Handler = Callable[["Server", Request], Awaitable[Response]]


def admin_routes(
    guarded: Callable[[Handler], Callable[[Request], Awaitable[Response]]],
) -> list[Route]:
    """The admin endpoints, each wrapped by `guarded` (the server's error handling)."""
    return [
        Route("/api/tables", guarded(_tables), methods=["GET"]),
        Route("/api/tables/{table}/documents", guarded(_documents), methods=["GET"]),
        Route("/api/export/{format}", guarded(_export), methods=["GET"]),
        Route("/api/import", guarded(_import), methods=["POST"]),
    ]


async def _as_admin(server: Server, request: Request) -> Deployment:
    await server.require_admin(
        request.headers.get("authorization"), "this endpoint needs the deployment's admin key"
    )
    return server.backend


async def _tables(server: Server, request: Request) -> Response:
    backend = await _as_admin(server, request)

    def counted() -> list[dict[str, object]]:
        return [
            {"name": table, "documents": sum(1 for _ in backend.engine.documents(table))}
            for table in backend.schema.visible_tables
        ]

    return JSONResponse({"tables": await run_in_threadpool(counted)})


async def _documents(server: Server, request: Request) -> Response:
    backend = await _as_admin(server, request)
    table = str(request.path_params["table"])
    if table not in backend.schema.visible_tables:
        raise RequestError(ErrorCode.NOT_FOUND, f"no table {table!r}")
    limit_text = request.query_params.get("limit", "20")
    if not limit_text.isdigit() or not 0 < int(limit_text) <= MAX_LISTED_DOCUMENTS:
        raise RequestError(
            ErrorCode.BAD_REQUEST, f"limit must be a number from 1 to {MAX_LISTED_DOCUMENTS}"
        )

    def newest() -> list[object]:
        documents = backend.engine.documents(table, descending=True)
        return [to_wire(document) for document in itertools.islice(documents, int(limit_text))]

    return JSONResponse({"documents": await run_in_threadpool(newest)})


def _format(text: str | None) -> SnapshotFormat:
    try:
        return SnapshotFormat(text)
    except ValueError:
        known = ", ".join(f.value for f in SnapshotFormat)
        raise RequestError(
            ErrorCode.BAD_REQUEST, f"unknown snapshot format {text!r} (known: {known})"
        ) from None


async def _export(server: Server, request: Request) -> Response:
    backend = await _as_admin(server, request)
    format_ = _format(request.path_params["format"])
    work = Path(tempfile.mkdtemp(prefix="confect-export-"))
    try:
        path, count = await run_in_threadpool(_write_export, backend, format_, work)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type="application/zip" if format_ is SnapshotFormat.ZIP else "application/x-tar",
        headers={DOCUMENTS_HEADER: str(count)},
        background=BackgroundTask(shutil.rmtree, work, ignore_errors=True),
    )


def _write_export(backend: Deployment, format_: SnapshotFormat, work: Path) -> tuple[Path, int]:
    """Export the deployment's data into `work`: the file to send, and its document count."""
    if format_ is SnapshotFormat.ZIP:
        path = work / "snapshot.zip"
        return path, sum(convex_snapshot.export_convex_zip(backend, path).values())
    directory = work / "snapshot"
    count = sum(snapshot.export_snapshot(backend, directory).values())
    path = work / "snapshot.tar"
    with tarfile.open(path, "w") as archive:
        archive.add(directory, arcname=".")
    return path, count


async def _import(server: Server, request: Request) -> Response:
    backend = await _as_admin(server, request)
    format_ = _format(request.query_params.get("format"))
    work = Path(tempfile.mkdtemp(prefix="confect-import-"))
    try:
        received = work / "received"
        body = stream_body(request.receive, request.headers.get("content-length"), MAX_IMPORT_BYTES)
        with open(received, "wb") as out:
            async for chunk in body:
                out.write(chunk)
        try:
            count = await run_in_threadpool(_load_import, backend, format_, received, work)
        finally:
            server.data_changed()  # whatever was written, even by an import that failed
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return JSONResponse({"numWritten": count})


def _load_import(backend: Deployment, format_: SnapshotFormat, received: Path, work: Path) -> int:
    """Load the snapshot in the file `received` (unpacked in `work` if a tar); its count."""
    try:
        if format_ is SnapshotFormat.ZIP:
            with zipfile.ZipFile(received) as archive:  # reading an entry stops at its size
                _ensure_unpacks_within(sum(entry.file_size for entry in archive.infolist()))
            return sum(convex_snapshot.import_convex_zip(backend, received).values())
        directory = work / "snapshot"
        with tarfile.open(received, "r:") as archive:  # uncompressed, as the CLI sends it
            _ensure_unpacks_within(sum(member.size for member in archive.getmembers()))
            archive.extractall(directory, filter="data")
        return sum(snapshot.import_snapshot(backend, directory).values())
    except (SchemaError, InvalidValueError) as error:
        raise RequestError(ErrorCode.BAD_REQUEST, str(error)) from None
    except (zipfile.BadZipFile, tarfile.TarError, OSError, ValueError) as error:
        raise RequestError(
            ErrorCode.BAD_REQUEST, f"the request body is not a {format_.value} snapshot: {error}"
        ) from None


def _ensure_unpacks_within(size: int) -> None:
    if size > MAX_UNPACKED_BYTES:
        raise RequestError(
            ErrorCode.REQUEST_TOO_LARGE,
            f"the snapshot unpacks to {size} bytes, over the {MAX_UNPACKED_BYTES} an import takes",
        )
