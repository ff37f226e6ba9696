"""File storage through the live server: uploads and downloads stream (a file is never
whole in memory), and files are served so that they never run in the deployment's origin."""

import asyncio
import base64
import hashlib
import tracemalloc

import httpx
import pytest

from confect import App, Backend, define_schema
from confect.engine.sql.sqlite import SqliteEngine
from confect.model.schema import STORAGE_TABLE
from confect.server.asgi import Server
from tests.engines import engine_fixture
from tests.servers import served

APP = App({}, define_schema())


async def upload(client: httpx.AsyncClient, server: Server, content, content_type: str) -> str:
    """Upload `content` (bytes, or an async iterator of them) with an upload URL; its id."""
    token = server.backend.files.new_upload_token()
    answer = await client.post(
        f"/api/storage/upload?token={token}",
        content=content,
        headers={"content-type": content_type},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["storageId"]


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html",
        "text/html; charset=utf-8",
        "TEXT/HTML",
        "image/svg+xml",
        "application/xhtml+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
        "application/x-unknown",
    ],
)
async def test_a_file_that_a_browser_could_run_is_served_as_a_sandboxed_download(content_type):
    page = b"<html><script>fetch('/api/mutation', {method: 'POST'})</script></html>"
    server = Server(Backend(APP))
    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as client:
        storage_id = await upload(client, server, page, content_type)
        answer = await client.get(f"/api/storage/{storage_id}")
    assert answer.status_code == 200 and answer.content == page
    assert answer.headers["content-type"] == content_type
    assert answer.headers["content-disposition"] == "attachment"
    assert answer.headers["x-content-type-options"] == "nosniff"
    policy = [part.strip() for part in answer.headers["content-security-policy"].split(";")]
    assert "sandbox" in policy and "default-src 'none'" in policy  # no script, no origin
    assert answer.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    "content_type", ["image/png", "video/mp4", "audio/mpeg", "text/plain", "application/pdf"]
)
async def test_a_passive_file_is_shown_inline_still_sandboxed(content_type):
    server = Server(Backend(APP))
    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as client:
        storage_id = await upload(client, server, b"\x89PNG not really", content_type)
        answer = await client.get(f"/api/storage/{storage_id}")
    assert answer.headers["content-type"] == content_type
    assert answer.headers["content-disposition"] == "inline"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in answer.headers["content-security-policy"]


async def test_a_file_is_served_with_its_length_digest_and_caching_as_convex_serves_it():
    data = b"some bytes"
    server = Server(Backend(APP))
    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as client:
        storage_id = await upload(client, server, data, "text/plain")
        answer = await client.get(f"/api/storage/{storage_id}")
    assert answer.headers["content-length"] == str(len(data))
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert answer.headers["digest"] == f"sha-256={digest}"
    assert answer.headers["cache-control"] == "private, max-age=2592000"


SIZE = 64 << 20
PIECE = 256 << 10


async def _pieces_of_a_large_file(sha: "hashlib._Hash"):
    """SIZE bytes in pieces, made as they are sent (so the test holds one at a time)."""
    for n in range(SIZE // PIECE):
        piece = hashlib.sha256(str(n).encode()).digest() * (PIECE // 32)
        sha.update(piece)
        yield piece


engine = engine_fixture("sqlite", "postgres")  # not memory: its files are whole in memory


async def test_a_large_upload_and_download_go_through_the_server_in_bounded_memory(engine):
    server = Server(Backend(APP, engine))
    sent = hashlib.sha256()
    tracemalloc.start()
    try:
        async with (
            served(server) as address,
            httpx.AsyncClient(base_url=f"http://{address}", timeout=60) as client,
        ):
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            storage_id = await upload(
                client, server, _pieces_of_a_large_file(sent), "application/octet-stream"
            )
            uploading = tracemalloc.get_traced_memory()[1] - before
            tracemalloc.reset_peak()
            before = tracemalloc.get_traced_memory()[0]
            received, size = hashlib.sha256(), 0
            async with client.stream("GET", f"/api/storage/{storage_id}") as answer:
                assert answer.status_code == 200
                async for chunk in answer.aiter_raw():
                    received.update(chunk)
                    size += len(chunk)
            downloading = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert uploading < SIZE / 8, f"uploading took {uploading / 2**20:.1f} MiB"
    assert downloading < SIZE / 8, f"downloading took {downloading / 2**20:.1f} MiB"
    assert (size, received.hexdigest()) == (SIZE, sent.hexdigest())
    files = server.backend.files
    metadata = server.backend.in_own_transaction(lambda tx: files.metadata(tx, storage_id))
    assert metadata is not None
    assert (metadata["sha256"], metadata["size"]) == (sent.hexdigest(), SIZE)
    assert answer.headers["digest"] == f"sha-256={base64.b64encode(sent.digest()).decode()}"


def test_a_file_stored_as_a_file_with_the_same_bytes_is_deleted_keeps_the_bytes():
    backend = Backend(APP)
    files = backend.files
    old = files.store(b"same bytes", "text/plain", backend.in_own_transaction)

    def delete_the_old_file_first(insert):
        backend.in_own_transaction(
            lambda tx: tx.delete(STORAGE_TABLE, tx.get(STORAGE_TABLE, old))
        )  # its blob is collected now, unless a file is being stored with it
        return backend.in_own_transaction(insert)

    new = files.store(b"same bytes", "text/plain", delete_the_old_file_first)
    metadata = backend.in_own_transaction(lambda tx: files.metadata(tx, new))
    assert metadata is not None
    assert backend.engine.get_blob(metadata["sha256"]) == b"same bytes"


async def test_an_upload_over_the_limit_is_refused_and_nothing_of_it_is_kept(tmp_path, monkeypatch):
    from confect.server import asgi as app

    monkeypatch.setattr(app, "MAX_UPLOAD_BYTES", 2 * PIECE)
    engine = SqliteEngine(tmp_path)
    server = Server(Backend(APP, engine))

    async def three_pieces():
        for _ in range(3):
            yield b"x" * PIECE

    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as client:
        token = server.backend.files.new_upload_token()
        answer = await client.post(f"/api/storage/upload?token={token}", content=three_pieces())
        assert (answer.status_code, answer.json()["code"]) == (413, "RequestTooLarge")
        answer = await client.post(f"/api/storage/upload?token={token}", content=b"small")
        assert answer.status_code == 200  # the URL was not used up
    assert not list((tmp_path / "blobs" / "incoming").iterdir())
    engine.close()


async def test_uploads_past_the_limit_at_once_are_refused_until_one_ends(monkeypatch):
    server = Server(Backend(APP))
    files = server.backend.files
    files.max_uploads = 2
    release, begun = asyncio.Event(), asyncio.Event()
    blobs_made = []
    new_blob = files.engine.new_blob

    def counted_new_blob():
        blobs_made.append(None)
        if len(blobs_made) == 2:
            begun.set()
        return new_blob()

    monkeypatch.setattr(files.engine, "new_blob", counted_new_blob)

    async def held_back():
        yield b"the first part, "
        await release.wait()
        yield b"the rest"

    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as client:
        held = [asyncio.ensure_future(upload(client, server, held_back(), "text/plain"))]
        held.append(asyncio.ensure_future(upload(client, server, held_back(), "text/plain")))
        await asyncio.wait_for(begun.wait(), 10)
        token = files.new_upload_token()
        answer = await client.post(f"/api/storage/upload?token={token}", content=b"one more")
        assert (answer.status_code, answer.json()["code"]) == (503, "TooManyUploads")
        release.set()
        await asyncio.wait_for(asyncio.gather(*held), 10)
        answer = await client.post(f"/api/storage/upload?token={token}", content=b"one more")
        assert answer.status_code == 200


async def test_a_storage_document_holds_the_sha256_in_base64_as_convex_clients_see_it():
    server = Server(Backend(APP))
    backend = server.backend
    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as client:
        storage_id = await upload(client, server, b"some bytes", "text/plain")
    document = backend.in_own_transaction(lambda tx: tx.get(STORAGE_TABLE, storage_id))
    assert document is not None
    assert document["sha256"] == base64.b64encode(hashlib.sha256(b"some bytes").digest()).decode()
    # storage.getMetadata gives hex, as Convex's does (its FileMetadata type says so)
    metadata = backend.in_own_transaction(lambda tx: backend.files.metadata(tx, storage_id))
    assert metadata is not None and metadata["sha256"] == hashlib.sha256(b"some bytes").hexdigest()


async def test_a_storage_document_written_with_a_hex_sha256_still_serves_its_file(tmp_path):
    server = Server(Backend(APP, SqliteEngine(tmp_path)))
    backend = server.backend
    hex_sha = backend.engine.put_blob(iter([b"from before"]))
    storage_id = backend.in_own_transaction(
        lambda tx: tx.insert(STORAGE_TABLE, {"sha256": hex_sha, "size": 11.0})
    )
    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as client:
        answer = await client.get(f"/api/storage/{storage_id}")
    assert answer.status_code == 200 and answer.content == b"from before"
    backend.in_own_transaction(
        lambda tx: tx.delete(STORAGE_TABLE, tx.get(STORAGE_TABLE, storage_id))
    )
    assert backend.engine.get_blob(hex_sha) is None  # collected like any other
