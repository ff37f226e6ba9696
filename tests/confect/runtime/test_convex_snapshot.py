"""Convex's snapshot ZIP (`npx convex export` / `npx convex import`): a ZIP built by hand
from the format in convex-backend's source imports with ids, creation times and files
intact; an export in that format reads back and has the format's names and fields."""

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

import effects
from confect import (
    App,
    Backend,
    DatabaseReader,
    SchemaError,
    StorageActionWriter,
    StorageReader,
    action,
    define_schema,
    define_table,
    query,
    v,
)
from confect.engine.interface import Write
from confect.engine.memory import MemoryEngine
from confect.engine.sql.sqlite import SqliteEngine
from confect.model.ids import _base32, _legacy_footer, _varint, encode_id, is_legacy_id  # pyright: ignore[reportPrivateUsage]
from confect.runtime.convex_snapshot import export_convex_zip, import_convex_zip

SCHEMA = define_schema(
    authors=define_table({"name": v.string()}),
    posts=define_table(
        {
            "author": v.id("authors"),
            "views": v.int64(),
            "score": v.float64(),
            "blob": v.bytes(),
            "file": v.id("_storage"),
        }
    ),
)


@query(args={"id": v.id("posts")})
def post(id: str):
    db = yield from DatabaseReader
    found = yield from db.get(id)
    author = yield from db.get(found["author"])
    storage = yield from StorageReader
    url = yield from storage.get_url(found["file"])
    return {"post": found, "author": author["name"], "url": url}


@action(args={"id": v.id("_storage")})
def file_bytes(id: str):
    storage = yield from StorageActionWriter
    return (yield from storage.get(id))


APP = App({"posts:post": post, "files:bytes": file_bytes}, SCHEMA)
AUTHOR = encode_id(10001, bytes(range(16)))
POST = encode_id(10002, bytes(range(1, 17)))
FILE = encode_id(530, bytes(range(2, 18)))  # a Convex deployment's _storage number
CONTENT = b"hello, file"


def _lines(*rows: object) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def _convex_zip(path: Path) -> Path:
    """A snapshot as `npx convex export` writes it (crates/exports/src)."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("README.md", "# Welcome to your Convex snapshot export!\n")
        archive.writestr(
            "_tables/documents.jsonl",
            _lines({"name": "authors", "id": 10001}, {"name": "posts", "id": 10002}),
        )
        archive.writestr(
            "authors/documents.jsonl",
            _lines({"_id": AUTHOR, "_creationTime": 1700000000000.25, "name": "ada"}),
        )
        post_document = {
            "_id": POST,
            "_creationTime": 1700000000001.5,
            "author": AUTHOR,
            "views": 9007199254740993,
            "score": 2.0,
            "blob": {"$bytes": base64.b64encode(b"\x00\xff").decode()},
            "file": FILE,
        }
        archive.writestr("posts/documents.jsonl", _lines(post_document))
        for table in ("authors", "posts"):
            archive.writestr(f"{table}/generated_schema.jsonl", '"uniform"\n')
        metadata = {
            "_id": FILE,
            "_creationTime": 1699999999999.75,
            "sha256": base64.b64encode(hashlib.sha256(CONTENT).digest()).decode(),
            "size": len(CONTENT),
            "contentType": "text/plain",
            "internalId": "0a8f6f3c-2b7c-4d8e-9f00-1234567890ab",
        }
        archive.writestr("_storage/documents.jsonl", _lines(metadata))
        archive.writestr(f"_storage/{FILE}.txt", CONTENT)
    return path


def _read_post(backend: Backend) -> dict[str, object]:
    return effects.run_sync(backend.query(post, {"id": POST})).value  # type: ignore[return-value]


def test_a_convex_export_imports_with_ids_times_and_files(tmp_path: Path):
    backend = Backend(APP, SqliteEngine(tmp_path / "data"))
    counts = import_convex_zip(backend, _convex_zip(tmp_path / "snapshot.zip"))
    assert counts == {"authors": 1, "posts": 1, "_storage": 1}
    assert backend.numbers["posts"] == 10002 and backend.numbers["_storage"] == 530
    read = _read_post(backend)
    assert read["author"] == "ada" and isinstance(read["url"], str)
    document = read["post"]
    assert isinstance(document, dict)
    assert document["_id"] == POST and document["_creationTime"] == 1700000000001.5
    assert document["views"] == 9007199254740993 and type(document["views"]) is int
    assert document["score"] == 2.0 and type(document["score"]) is float
    assert document["blob"] == b"\x00\xff"
    assert effects.run_sync(backend.action(file_bytes, {"id": FILE})) == CONTENT
    [stored] = backend.engine.documents("_storage")
    assert stored["_creationTime"] == 1699999999999.75 and stored["contentType"] == "text/plain"


def test_an_export_in_convex_format_has_its_layout_and_reads_back(tmp_path: Path):
    source = Backend(APP, MemoryEngine())
    import_convex_zip(source, _convex_zip(tmp_path / "in.zip"))
    counts = export_convex_zip(source, tmp_path / "out.zip")
    assert counts == {"authors": 1, "posts": 1, "_storage": 1}
    with zipfile.ZipFile(tmp_path / "out.zip") as archive:
        names = set(archive.namelist())
        assert {"README.md", "_tables/documents.jsonl", "posts/generated_schema.jsonl"} <= names
        assert {"_storage/documents.jsonl", f"_storage/{FILE}.txt"} <= names
        tables = [json.loads(line) for line in archive.read("_tables/documents.jsonl").splitlines()]
        assert tables == [{"name": "authors", "id": 10001}, {"name": "posts", "id": 10002}]
        [post_line] = archive.read("posts/documents.jsonl").splitlines()
        assert b'"views":9007199254740993' in post_line and b'"score":2.0' in post_line
        assert json.loads(post_line)["blob"] == {"$bytes": "AP8="}
        [metadata] = [
            json.loads(line) for line in archive.read("_storage/documents.jsonl").splitlines()
        ]
        assert metadata["sha256"] == base64.b64encode(hashlib.sha256(CONTENT).digest()).decode()
        assert metadata["size"] == len(CONTENT) and metadata["_id"] == FILE
        assert archive.read(f"_storage/{FILE}.txt") == CONTENT
        assert archive.read("posts/generated_schema.jsonl") == b'"uniform"\n'
    target = Backend(APP, MemoryEngine())
    import_convex_zip(target, tmp_path / "out.zip")
    assert _read_post(target)["post"] == _read_post(source)["post"]
    assert effects.run_sync(target.action(file_bytes, {"id": FILE})) == CONTENT


def test_export_refuses_legacy_ids(tmp_path: Path):
    body = _varint(10001) + bytes([255] * 16)  # sums past 255: the two footers differ
    legacy_id = _base32(body + _legacy_footer(body))
    assert is_legacy_id(legacy_id)
    source = Backend(APP, MemoryEngine())
    document = {"_id": legacy_id, "_creationTime": 1.0, "name": "old"}
    source.engine.commit(source.engine.last_ts(), [], [Write("authors", legacy_id, None, document)])
    with pytest.raises(SchemaError, match="confect-py 0.1.0"):
        export_convex_zip(source, tmp_path / "out.zip")
