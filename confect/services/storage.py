"""File storage: StorageReader, StorageWriter, StorageActionWriter, the services over the
deployment's file store (`confect.services.file_store`)."""

from __future__ import annotations

from typing import Any

import effects
from confect.model.ids import Id
from confect.model.schema import STORAGE_TABLE
from confect.runtime.transaction import Transaction
from confect.services.file_store import StorageFiles

# the server imports these two from here, for now
from confect.services.file_store import TooManyUploadsError as TooManyUploadsError
from confect.services.file_store import served_file_headers as served_file_headers
from confect.services.in_transaction import InTransaction
from effects import Effect, Tag


class StorageReaderService:
    """`get_url(id)`, `get_metadata(id)`: in every function type."""

    __slots__ = ("_files", "_run")

    def __init__(self, files: StorageFiles, run: InTransaction) -> None:
        self._files = files
        self._run = run

    def get_url(self, storage_id: str) -> Effect[str | None]:
        """A URL serving the file, or None if there is no such file."""
        return effects.sync(
            lambda: (
                self._files.url(storage_id)
                if self._run(lambda tx: self._files.metadata(tx, storage_id))
                else None
            )
        )

    def get_metadata(self, storage_id: str) -> Effect[dict[str, Any] | None]:
        """`{storage_id, sha256, size, content_type}`, or None."""
        return effects.sync(lambda: self._run(lambda tx: self._files.metadata(tx, storage_id)))


class StorageWriterService:
    """`generate_upload_url()`, `delete(id)`: in mutations, actions and http actions."""

    __slots__ = ("_files", "_run")

    def __init__(self, files: StorageFiles, run: InTransaction) -> None:
        self._files = files
        self._run = run

    def generate_upload_url(self) -> Effect[str]:
        """A one-time URL a client POSTs a file to; the reply holds its storage id."""
        return effects.sync(
            lambda: (
                f"{self._files.base_url}/api/storage/upload?token={self._files.new_upload_token()}"
            )
        )

    def delete(self, storage_id: str) -> Effect[None]:
        """Delete the file (its blob goes once no document refers to it)."""

        def run(tx: Transaction) -> None:
            if self._files.metadata(tx, storage_id) is not None:
                document = tx.get(STORAGE_TABLE, storage_id)
                assert document is not None
                tx.delete(STORAGE_TABLE, document)

        return effects.sync(lambda: self._run(run))


class StorageActionWriterService:
    """`store(data)`, `get(id)`: in actions and http actions."""

    __slots__ = ("_files", "_run")

    def __init__(self, files: StorageFiles, run: InTransaction) -> None:
        self._files = files
        self._run = run

    def store(self, data: bytes, content_type: str | None = None) -> Effect[Id[Any]]:
        """Store `data` as a new file; succeed with its storage id."""
        return effects.sync(lambda: self._files.store(data, content_type, self._run))

    def get(self, storage_id: str) -> Effect[bytes | None]:
        """The file's bytes, or None."""

        def run() -> bytes | None:
            metadata = self._run(lambda tx: self._files.metadata(tx, storage_id))
            return None if metadata is None else self._files.engine.get_blob(metadata["sha256"])

        return effects.sync(run)


class StorageReader(Tag["StorageReader", StorageReaderService]):
    """File URLs and metadata."""


class StorageWriter(Tag["StorageWriter", StorageWriterService]):
    """Upload URLs and deletes."""


class StorageActionWriter(Tag["StorageActionWriter", StorageActionWriterService]):
    """Storing and reading file bytes (actions)."""
