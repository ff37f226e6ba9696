"""File attachments: clients upload to a one-time URL, then attach the storage id."""

from confect import StorageReader, StorageWriter, mutation, query, v
from effects import EffectGen


@mutation()
def generate_upload_url() -> EffectGen[str]:
    """A URL to POST a file to; the reply holds its storage id."""
    storage = yield from StorageWriter
    return (yield from storage.generate_upload_url())


@query(args={"storage_id": v.string()})
def file_url(storage_id: str) -> EffectGen[str | None]:
    """Where to download a file, or None."""
    storage = yield from StorageReader
    return (yield from storage.get_url(storage_id))
