"""The dashboard's files: stored files newest first with size, type and sha256; an upload
URL (the page posts the file to it, as a client would); deleting one, as
`StorageWriter.delete` does."""

from __future__ import annotations

from typing import Any

import effects
from confect.model.schema import STORAGE_TABLE
from confect.runtime.deployment import Deployment
from confect.server.calls import ErrorCode, RequestError
from confect.server.dashboard.data import documents
from confect.server.dashboard.messages import (
    DeleteFileRequest,
    DocumentsRequest,
    Done,
    FileInfo,
    FilesPage,
    FilesRequest,
    UploadUrl,
)
from confect.services.file_store import blob_key
from confect.services.storage import StorageWriter


def files(deployment: Deployment, request: FilesRequest) -> FilesPage:
    """A page of stored files, newest first."""
    query = DocumentsRequest(STORAGE_TABLE, cursor=request.cursor, limit=request.limit)
    page = documents(deployment, query)
    return FilesPage([_file(deployment, f) for f in page.documents], page.cursor)


def _file(deployment: Deployment, document: dict[str, Any]) -> FileInfo:
    storage_id = str(document["_id"])
    return FileInfo(
        id=storage_id,
        creation_time=float(document["_creationTime"]),
        size=float(document["size"]),
        content_type=document.get("contentType"),
        sha256=blob_key(str(document["sha256"])),
        url=deployment.files.url(storage_id),
    )


def upload_url(deployment: Deployment) -> UploadUrl:
    """A one-time URL to post a file to (the page's own origin: relative)."""
    return UploadUrl(f"/api/storage/upload?token={deployment.files.new_upload_token()}")


async def delete(deployment: Deployment, request: DeleteFileRequest) -> Done:
    """Delete a file (its blob goes once nothing refers to it); a 404 if there is none."""
    files = deployment.files
    if deployment.in_own_transaction(lambda tx: files.metadata(tx, request.id)) is None:
        raise RequestError(ErrorCode.NOT_FOUND, f"no file {request.id!r}")
    await effects.run(
        deployment.transact(lambda: StorageWriter.flat_map(lambda s: s.delete(request.id)))
    )
    return Done(1)
