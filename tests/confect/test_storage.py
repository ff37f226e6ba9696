"""File storage through the live server: how files are served (never as something that runs
in the deployment's origin)."""

import base64
import hashlib

import httpx
import pytest

from confect import App, Backend, define_schema
from confect.server.app import Server
from tests.confect.test_server import served

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
