"""The deployment's file store (`StorageFiles`), which the storage services share.

Blobs live in the engine's blob store, addressed by their sha256 in hex; each stored file is
a document of the `_storage` system table holding its sha256 (in base64, as Convex's
`_storage` documents show it to clients since convex 1.9), size and content type. Uploads and
downloads go through the blob store a piece at a time, on worker threads: a file is never
whole in the server's memory, and the event loop never waits on the disk or the database.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import hashlib
import heapq
import hmac
import secrets
import threading
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Generator,
    Iterator,
)
from typing import Any

from confect.engine.interface import BLOB_CHUNK_BYTES, BlobWriter, Engine
from confect.model.ids import Id, table_number_of
from confect.model.schema import STORAGE_TABLE
from confect.model.values import prefix_range
from confect.runtime.transaction import Transaction
from confect.services.in_transaction import InTransaction
from effects import TaggedError

UPLOAD_URL_LIFETIME_MS = 3_600_000  # as Convex's: an upload URL expires after an hour
MAX_UPLOADS = 16
"""Uploads a server process takes in at once (each holds about 2 MiB while it is received,
so uploads hold about 32 MiB at most); one more is refused with `TooManyUploadsError`."""

# A served file is never a document of the deployment's origin: the sandbox gives it an
# origin of its own with scripts off (GitHub serves user content with this same policy).
SERVED_FILE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
FILE_CACHE_CONTROL = "private, max-age=2592000"  # as Convex's: a file's bytes never change
_SHOWN_KINDS = ("image/", "audio/", "video/", "font/")
_SHOWN_TYPES = frozenset(
    {"text/plain", "text/csv", "application/pdf", "application/json", "application/octet-stream"}
)


def served_file_headers(metadata: dict[str, Any]) -> dict[str, str]:
    """The headers a stored file is served with (its `metadata`, as `StorageFiles.metadata`
    gives it): its content type, but never as something a browser would run in the serving
    origin. Types known to be passive (images other than SVG, audio, video, fonts, plain
    text, CSV, JSON, PDF) are shown; any other (HTML, SVG, XML, JavaScript, ...) is a
    download."""
    content_type = metadata["content_type"] or "application/octet-stream"
    if not content_type.isprintable() or not content_type.isascii():
        content_type = "application/octet-stream"  # nothing a header could not carry
    media_type = content_type.partition(";")[0].strip().lower()
    shown = not media_type.endswith("+xml") and (
        media_type in _SHOWN_TYPES or media_type.startswith(_SHOWN_KINDS)
    )
    return {
        "content-type": content_type,
        "content-length": str(int(metadata["size"])),
        "content-disposition": "inline" if shown else "attachment",
        "content-security-policy": SERVED_FILE_POLICY,
        "x-content-type-options": "nosniff",
        "cache-control": FILE_CACHE_CONTROL,
        "digest": f"sha-256={document_sha256(metadata['sha256'])}",
    }


def document_sha256(blob_key: str) -> str:
    """The `sha256` a `_storage` document holds for the blob `blob_key` (hex): base64."""
    return base64.b64encode(bytes.fromhex(blob_key)).decode()


def blob_key(document_sha256: str) -> str:
    """The blob store's key (hex) for a `_storage` document's `sha256`: base64, or hex in
    documents written before `_storage` held base64 (their files are served still)."""
    if len(document_sha256) == _HEX_DIGEST_LENGTH:
        return document_sha256
    return base64.b64decode(document_sha256).hex()


_HEX_DIGEST_LENGTH = 64  # a base64 digest is 44 characters


class TooManyUploadsError(TaggedError):
    """`limit` uploads were in progress already: try again shortly."""

    limit: int

    def __str__(self) -> str:
        return f"{self.limit} uploads are in progress already; try again shortly"


class StorageFiles:
    """What the storage services share: the engine's blobs, the URL base, upload tokens.

    An upload token is signed with the engine's shared secret, so any server process of the
    deployment accepts it; each process takes it once, and remembers it until it expires."""

    def __init__(self, engine: Engine, base_url: str, now_ms: Callable[[], float]) -> None:
        self.engine = engine
        self.base_url = base_url.rstrip("/")
        self._now_ms = now_ms
        self._secret = engine.shared_secret()
        self._used: set[str] = set()
        self._used_by_expiry: list[tuple[int, str]] = []  # a heap, to forget expired tokens
        self._pins: collections.Counter[str] = collections.Counter()  # blobs being stored
        self.max_uploads = MAX_UPLOADS  # received at once; one more is refused
        self._uploads = 0
        self._pins_lock = threading.Lock()

    def url(self, storage_id: str) -> str:
        return f"{self.base_url}/api/storage/{storage_id}"

    def metadata(self, tx: Transaction, storage_id: str) -> dict[str, Any] | None:
        if table_number_of(storage_id) != tx.numbers[STORAGE_TABLE]:
            return None
        document = tx.get(STORAGE_TABLE, storage_id)
        if document is None:
            return None
        return {
            "storage_id": storage_id,
            "sha256": blob_key(str(document["sha256"])),
            "size": document["size"],
            "content_type": document.get("contentType"),
        }

    @contextlib.asynccontextmanager
    async def receive(self, body: AsyncIterable[bytes]) -> AsyncGenerator[BlobWriter]:
        """`body` written to a new blob, a piece at a time on a worker thread (hashed on
        the way); `keep` it inside the block, or it is discarded. Refused with
        `TooManyUploadsError` while `max_uploads` are in progress."""
        if self._uploads >= self.max_uploads:
            raise TooManyUploadsError(limit=self.max_uploads)
        self._uploads += 1
        blob = self.engine.new_blob()
        try:
            async for piece in _pieces(body, BLOB_CHUNK_BYTES):
                await asyncio.to_thread(blob.write, piece)
            yield blob
        finally:
            self._uploads -= 1
            blob.discard()  # nothing, once kept

    async def keep(self, blob: BlobWriter, content_type: str | None, run: InTransaction) -> Id[Any]:
        """Keep a received blob as a new file; its storage id."""
        with self._pinned(blob.sha256):
            await asyncio.to_thread(blob.keep)
            return run(lambda tx: self._insert(tx, blob, content_type))

    def store(self, data: bytes, content_type: str | None, run: InTransaction) -> Id[Any]:
        """Store `data` as a new file; its storage id."""
        blob = self.engine.new_blob()
        try:
            blob.write(data)
            with self._pinned(blob.sha256):
                blob.keep()
                return run(lambda tx: self._insert(tx, blob, content_type))
        finally:
            blob.discard()

    def _insert(self, tx: Transaction, blob: BlobWriter, content_type: str | None) -> Id[Any]:
        fields: dict[str, Any] = {"sha256": document_sha256(blob.sha256), "size": float(blob.size)}
        if content_type is not None:
            fields["contentType"] = content_type
        return Id(tx.insert(STORAGE_TABLE, fields))

    @contextlib.contextmanager
    def _pinned(self, sha256: str) -> Generator[None]:
        """While inside, `collect` leaves the blob `sha256` alone: a file is about to have
        it (its blob may have been there already, its old file deleted meanwhile)."""
        with self._pins_lock:
            self._pins[sha256] += 1
        try:
            yield
        finally:
            with self._pins_lock:
                self._pins[sha256] -= 1
                if not self._pins[sha256]:
                    del self._pins[sha256]

    def collect(self, sha256: str) -> None:
        """Delete the blob `sha256` (hex) unless a file has it (in either form a `_storage`
        document may hold it) or is being stored with it."""
        with self._pins_lock:
            if self._pins[sha256]:
                return
            if not any(self._has_file(form) for form in (document_sha256(sha256), sha256)):
                self.engine.delete_blob(sha256)

    def _has_file(self, document_sha256: str) -> bool:
        lo, hi = prefix_range(document_sha256)
        return next(self.engine.scan(STORAGE_TABLE, "by_sha256", lo, hi, False), None) is not None

    async def read(self, sha256: str) -> AsyncIterator[bytes] | None:
        """The bytes of the blob `sha256`, each piece read on a worker thread; None if there
        is no such blob."""
        pieces = await asyncio.to_thread(self.engine.read_blob, sha256)
        return None if pieces is None else _each_on_a_thread(pieces)

    def new_upload_token(self) -> str:
        body = f"{int(self._now_ms()) + UPLOAD_URL_LIFETIME_MS}.{secrets.token_urlsafe(12)}"
        return f"{body}.{self._sign(body)}"

    def _sign(self, body: str) -> str:
        return hmac.new(self._secret, body.encode(), hashlib.sha256).hexdigest()[:32]

    def upload_token_valid(self, token: str) -> bool:
        """Whether `token` is this deployment's, unexpired, and not taken (here) before."""
        return self._expiry(token) is not None and token not in self._used

    def take_upload_token(self, token: str) -> bool:
        """Use `token` up, if it is valid."""
        expiry = self._expiry(token)
        if expiry is None or token in self._used:
            return False
        now = self._now_ms()
        while self._used_by_expiry and self._used_by_expiry[0][0] < now:
            self._used.discard(heapq.heappop(self._used_by_expiry)[1])
        self._used.add(token)
        heapq.heappush(self._used_by_expiry, (expiry, token))
        return True

    def _expiry(self, token: str) -> int | None:
        body, _, signature = token.rpartition(".")
        expiry = body.partition(".")[0]
        if not (expiry.isdigit() and hmac.compare_digest(signature, self._sign(body))):
            return None
        return int(expiry) if int(expiry) >= self._now_ms() else None


async def _pieces(body: AsyncIterable[bytes], size: int) -> AsyncIterator[bytearray]:
    """The bytes of `body` in pieces of about `size` (the last may be shorter)."""
    piece = bytearray()
    async for chunk in body:
        piece += chunk
        if len(piece) >= size:
            yield piece
            piece = bytearray()
    if piece:
        yield piece


async def _each_on_a_thread(pieces: Iterator[bytes]) -> AsyncIterator[bytes]:
    while (piece := await asyncio.to_thread(next, pieces, None)) is not None:
        yield piece
