"""The admin endpoints (confect/server/admin.py): only with the admin key, bad requests
answered with what was wrong, and an import's writes seen by the next query."""

import contextlib
import gzip
import io
import tarfile
import zipfile
from collections.abc import AsyncIterator

import httpx
import pytest

from confect import (
    App,
    Backend,
    DatabaseReader,
    DatabaseWriter,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.runtime import snapshot
from confect.server import admin
from confect.server.asgi import Server
from tests.servers import served

SCHEMA = define_schema(items=define_table({"name": v.string()}))
KEY = "the-admin-key"
ADMIN = {"Authorization": f"Convex {KEY}"}


@query()
def names():
    db = yield from DatabaseReader
    return [item["name"] for item in (yield from db.table("items").collect())]


@mutation(args={"name": v.string()})
def add(name: str):
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"name": name})


@contextlib.asynccontextmanager
async def client() -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of a served deployment of the items app, admin key `KEY`."""
    app = App({"items:names": names, "items:add": add}, SCHEMA)
    async with (
        served(Server(Backend(app), admin_key=KEY)) as address,
        httpx.AsyncClient(base_url=f"http://{address}") as http,
    ):
        yield http


async def call(http: httpx.AsyncClient, path: str, args: dict) -> object:
    answer = (await http.post("/api/function", json={"path": path, "args": args})).json()
    return answer["value"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/tables"),
        ("GET", "/api/tables/items/documents"),
        ("GET", "/api/export/zip"),
        ("POST", "/api/import?format=zip"),
    ],
)
async def test_every_admin_endpoint_needs_the_admin_key(method: str, path: str):
    async with client() as http:
        for headers in ({}, {"Authorization": "Convex wrong"}):
            refused = await http.request(method, path, headers=headers)
            assert refused.status_code == 401
            assert refused.json()["code"] == "Unauthenticated"


async def test_tables_and_their_newest_documents():
    async with client() as http:
        for name in ("a", "b", "c"):
            await call(http, "items:add", {"name": name})
        tables = (await http.get("/api/tables", headers=ADMIN)).json()["tables"]
        assert {"name": "items", "documents": 3} in tables
        newest = (await http.get("/api/tables/items/documents?limit=2", headers=ADMIN)).json()
        assert [document["name"] for document in newest["documents"]] == ["c", "b"]
        missing = await http.get("/api/tables/nope/documents", headers=ADMIN)
        assert missing.status_code == 404 and "no table 'nope'" in missing.json()["message"]
        for limit in ("0", "x", "100000"):
            bad = await http.get(f"/api/tables/items/documents?limit={limit}", headers=ADMIN)
            assert bad.status_code == 400 and "limit must be" in bad.json()["message"]


async def test_an_export_imported_into_another_deployment_is_seen_by_its_next_query():
    async with client() as source:
        await call(source, "items:add", {"name": "kept"})
        exported = await source.get("/api/export/confect", headers=ADMIN)
        assert exported.status_code == 200 and exported.headers["confect-documents"] == "1"
    async with client() as target:
        assert await call(target, "items:names", {}) == []  # cached now
        imported = await target.post(
            "/api/import?format=confect", headers=ADMIN, content=exported.content
        )
        assert imported.json() == {"numWritten": 1}
        assert await call(target, "items:names", {}) == ["kept"]
        again = await target.post(
            "/api/import?format=confect", headers=ADMIN, content=exported.content
        )
        assert again.status_code == 400 and "not empty" in again.json()["message"]


@pytest.mark.parametrize("format_", ["zip", "confect"])
async def test_a_body_that_is_no_snapshot_is_a_bad_request(format_: str):
    async with client() as http:
        bad = await http.post(
            f"/api/import?format={format_}", headers=ADMIN, content=b"not a snapshot"
        )
        assert bad.status_code == 400
        assert f"not a {format_} snapshot" in bad.json()["message"]


async def test_an_unknown_format_is_a_bad_request():
    async with client() as http:
        for method, path in (("GET", "/api/export/csv"), ("POST", "/api/import?format=csv")):
            bad = await http.request(method, path, headers=ADMIN, content=b"")
            assert bad.status_code == 400 and "unknown snapshot format 'csv'" in bad.text
        assert (await http.post("/api/import", headers=ADMIN)).json()["code"] == "BadRequest"


def _zip_with_padding(padding: int) -> bytes:
    """A Convex ZIP of one item, and a README of `padding` zeros (it compresses to little)."""
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("items/documents.jsonl", '{"name": "bomb"}\n')
        archive.writestr("README.md", bytes(padding))
    return packed.getvalue()


def _tar_with_padding(padding: int) -> bytes:
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w") as archive:
        member = tarfile.TarInfo("padding")
        member.size = padding
        archive.addfile(member, io.BytesIO(bytes(padding)))
    return packed.getvalue()


@pytest.mark.parametrize(
    ("format_", "archive"), [("zip", _zip_with_padding), ("confect", _tar_with_padding)]
)
async def test_a_snapshot_that_unpacks_past_the_bound_is_refused_before_unpacking(
    monkeypatch: pytest.MonkeyPatch, format_: str, archive
):
    monkeypatch.setattr(admin, "MAX_UNPACKED_BYTES", 10_000)
    async with client() as http:
        refused = await http.post(
            f"/api/import?format={format_}", headers=ADMIN, content=archive(20_000)
        )
        assert refused.status_code == 413, refused.text
        assert "unpacks to" in refused.json()["message"]
        assert await call(http, "items:names", {}) == []


async def test_a_compressed_tar_is_no_confect_snapshot():
    """The CLI sends the snapshot's tar uncompressed; a compressed one could unpack to
    anything before its members' sizes are known."""
    async with client() as source:
        await call(source, "items:add", {"name": "kept"})
        exported = (await source.get("/api/export/confect", headers=ADMIN)).content
    async with client() as target:
        refused = await target.post(
            "/api/import?format=confect", headers=ADMIN, content=gzip.compress(exported)
        )
        assert refused.status_code == 400
        assert "not a confect snapshot" in refused.json()["message"]
        assert await call(target, "items:names", {}) == []


async def test_an_import_that_fails_part_way_leaves_the_deployment_empty():
    """Its first batch of documents committed before a later document broke the schema:
    they are deleted again, and the import can be tried again."""
    good = "".join('{"name": "n"}\n' for _ in range(snapshot.BATCH + 1))
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("items/documents.jsonl", good + '{"name": 5}\n')
    async with client() as http:
        refused = await http.post(
            "/api/import?format=zip", headers=ADMIN, content=packed.getvalue()
        )
        assert refused.status_code == 400 and "does not match the schema" in refused.text
        tables = (await http.get("/api/tables", headers=ADMIN)).json()["tables"]
        assert {"name": "items", "documents": 0} in tables
        assert await call(http, "items:names", {}) == []
        packed = io.BytesIO()
        with zipfile.ZipFile(packed, "w") as archive:
            archive.writestr("items/documents.jsonl", good)
        again = await http.post("/api/import?format=zip", headers=ADMIN, content=packed.getvalue())
        assert again.json() == {"numWritten": snapshot.BATCH + 1}


async def test_a_snapshot_line_longer_than_any_document_is_refused_unread(
    monkeypatch: pytest.MonkeyPatch,
):
    """A line is read up to `MAX_LINE_BYTES`, not whole: a ZIP of one line of gigabytes
    compresses to little, and would otherwise be held in memory."""
    long_name = "x" * 2000
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as archive:
        archive.writestr("items/documents.jsonl", f'{{"name": "{long_name}"}}\n')
    async with client() as source:
        await call(source, "items:add", {"name": long_name})
        exported = (await source.get("/api/export/confect", headers=ADMIN)).content
    monkeypatch.setattr(snapshot, "MAX_LINE_BYTES", 1000)
    async with client() as http:
        for format_, body in (("zip", packed.getvalue()), ("confect", exported)):
            refused = await http.post(f"/api/import?format={format_}", headers=ADMIN, content=body)
            assert refused.status_code == 400, refused.text
            assert "line 1 is over 1000 bytes" in refused.json()["message"]
        assert await call(http, "items:names", {}) == []
