"""The dashboard's endpoints on a live server: only with the admin key, pages of a big
table read without reading the table, writes through the deployment's commit path (a
subscribed query hears them), typed refusals of bad input, and the live channel."""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import websockets

import effects
from confect import (
    App,
    Backend,
    Crons,
    DatabaseWriter,
    define_schema,
    define_table,
    load_app,
    mutation,
    v,
)
from confect.engine.interface import Document, Engine
from confect.server.asgi import Server
from confect.server.dashboard import live as live_channel
from tests.servers import served

ADMIN = "the-admin-key"
AUTH = {"authorization": f"Convex {ADMIN}"}
NOTES = load_app("examples.notes")


@pytest.fixture
def server() -> Server:
    return Server(Backend(NOTES), admin_key=ADMIN)


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        served(server) as address,
        httpx.AsyncClient(base_url=f"http://{address}") as client,
    ):
        yield client


async def call(client: httpx.AsyncClient, name: str, body: dict | None = None) -> dict:
    answer = await client.post(f"/_dashboard/api/{name}", json=body or {}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    return answer.json()


def add_notes(server: Server, count: int, author: str = "ann") -> None:
    """`count` notes, committed at once (past a mutation's write limit)."""

    def insert(tx):
        for i in range(count):
            fields = {"author": author, "text": f"note {i}", "tags": [], "pinned": False}
            tx.insert_system("notes", fields)

    server.backend.in_own_transaction(insert)


@pytest.mark.parametrize("header", [None, "Convex wrong-key", "Bearer not-a-token", ADMIN])
async def test_every_endpoint_refuses_a_caller_without_the_admin_key(client, header):
    headers = {} if header is None else {"authorization": header}
    for name in ("tables", "documents", "insert", "run", "deployment"):
        answer = await client.post(f"/_dashboard/api/{name}", json={}, headers=headers)
        assert answer.status_code == 401, answer.text
        assert answer.json()["code"] == "Unauthenticated"


async def test_a_server_without_an_admin_key_refuses_every_key():
    server = Server(Backend(NOTES))
    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as c:
        answer = await c.post("/_dashboard/api/tables", json={}, headers=AUTH)
    assert answer.status_code == 401


async def test_the_root_and_the_dashboard_page_are_served_without_a_key(client):
    root = await client.get("/")
    assert root.status_code == 200 and 'href="/_dashboard"' in root.text
    page = await client.get("/_dashboard")
    assert page.status_code == 200 and "dashboard.js" in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    script = await client.get("/_dashboard/static/dashboard.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]


async def test_tables_show_their_schema_and_indexes(client):
    tables = {t["name"]: t for t in (await call(client, "tables"))["tables"]}
    notes = tables["notes"]
    assert (
        notes["document"]
        == "{ author: string; text: string; tags: Array<string>; pinned: boolean }"
    )
    assert {"name": "by_author", "fields": ["author"]} in notes["indexes"]
    assert notes["search_indexes"][0]["search_field"] == "text"
    assert tables["_storage"]["system"] and not notes["system"]
    assert "_session_requests" not in tables  # hidden, as from the app


class Counting:
    """Wraps an engine's `scan`: how many documents were read from it."""

    def __init__(self, engine: Engine) -> None:
        self.read = 0
        self._scan = engine.scan
        engine.scan = self.scan  # type: ignore[method-assign]

    def scan(self, *args) -> Iterator[tuple[bytes, Document]]:
        for item in self._scan(*args):
            self.read += 1
            yield item


async def test_pages_of_a_table_of_100000_documents_read_a_page_each(server, client):
    add_notes(server, 100_000)
    counting = Counting(server.backend.engine)
    first = await call(client, "documents", {"table": "notes", "limit": 50})
    assert [d["text"] for d in first["documents"][:2]] == ["note 99999", "note 99998"]
    assert counting.read <= 51
    second = await call(client, "documents", {"table": "notes", "cursor": first["cursor"]})
    assert second["documents"][0]["text"] == "note 99949"
    assert counting.read <= 102
    # a filter that matches nothing reads a bounded stretch, and says where to go on
    before = counting.read
    none = await call(
        client, "documents", {"table": "notes", "field": {"path": "text", "value": "no such"}}
    )
    assert none["documents"] == [] and none["cursor"] is not None
    assert none["scanned"] == counting.read - before <= 5000


async def test_documents_in_an_index_range_oldest_first(server, client):
    add_notes(server, 3, "ann")
    add_notes(server, 2, "bob")
    bobs = await call(
        client,
        "documents",
        {"table": "notes", "index": "by_author", "eq": ["bob"], "order": "asc"},
    )
    assert [(d["author"], d["text"]) for d in bobs["documents"]] == [
        ("bob", "note 0"),
        ("bob", "note 1"),
    ]
    assert bobs["cursor"] is None
    after_ann = await call(
        client,
        "documents",
        {"table": "notes", "index": "by_author", "lower": {"op": "gt", "value": "ann"}},
    )
    assert {d["author"] for d in after_ann["documents"]} == {"bob"}


@pytest.mark.parametrize(
    ("name", "body", "status", "says"),
    [
        ("documents", {"table": "nope"}, 404, "no table named 'nope'"),
        ("documents", {"table": "notes", "index": "by_nothing"}, 400, "no index 'by_nothing'"),
        ("documents", {"table": "notes", "limit": "50"}, 400, "request.limit"),
        ("documents", {"table": "notes", "limit": 0}, 400, "limit must be from 1"),
        ("documents", {"table": "notes", "extra": 1}, 400, "extra"),
        ("documents", {"table": "notes", "cursor": "%%%"}, 400, "cursor"),
        ("documents", {"table": "notes", "eq": ["a", True, 1, 2]}, 400, "too many values"),
        ("documents", {"table": "notes", "lower": {"op": "lt", "value": 1}}, 400, "gt or gte"),
        ("documents", {"table": "notes", "upper": {"op": "gt", "value": 1}}, 400, "lt or lte"),
        ("documents", {"table": "notes", "lower": {"op": "near", "value": 1}}, 400, "op"),
        ("insert", {"table": "notes", "document": {"text": "no author"}}, 400, "author"),
        ("insert", {"table": "_storage", "document": {}}, 400, "system table"),
        ("replace", {"table": "notes", "id": "nope", "document": {}}, 400, "nope"),
        ("run", {"path": "notes:nothing"}, 404, "Could not find function"),
        ("run", {"path": "notes:list_by_author", "args": {"author": 1}}, 400, "author"),
        ("jobs", {"state": "sleeping"}, 400, "state must be one of"),
        ("cancel_job", {"id": "nope"}, 404, "no scheduled function"),
        ("delete_file", {"id": "nope"}, 404, "no file 'nope'"),
        ("nothing", {}, 404, "no dashboard endpoint"),
    ],
)
async def test_bad_input_is_a_typed_refusal_naming_what_is_wrong(client, name, body, status, says):
    answer = await client.post(f"/_dashboard/api/{name}", json=body, headers=AUTH)
    assert answer.status_code == status, answer.text
    assert says in answer.json()["message"]
    assert answer.json()["code"] in ("BadRequest", "NotFound", "FunctionNotFound")


async def test_a_body_that_is_not_a_json_object_is_refused(client):
    answer = await client.post("/_dashboard/api/documents", content=b"[1]", headers=AUTH)
    assert answer.status_code == 400 and answer.json()["code"] == "BadJsonBody"


async def test_insert_edit_delete_commit_as_mutations_do(server, client):
    heard: list[set[str]] = []
    server.backend.subscribe_commits(
        lambda ts, writes, cause: heard.append({w.table for w in writes})
    )
    document = {"author": "ann", "text": "hello", "tags": ["a"], "pinned": False}
    inserted = (await call(client, "insert", {"table": "notes", "document": document}))["id"]
    page = await call(client, "documents", {"table": "notes"})
    stored = page["documents"][0]
    assert stored["_id"] == inserted and stored["text"] == "hello"
    await call(
        client,
        "replace",
        {"table": "notes", "id": inserted, "document": {**stored, "text": "edited"}},
    )
    listed = effects.run_sync(server.backend.query("notes:list_by_author", {"author": "ann"}))
    assert [n["text"] for n in listed.value] == ["edited"]
    await call(client, "delete", {"table": "notes", "ids": [inserted]})
    assert (await call(client, "documents", {"table": "notes"}))["documents"] == []
    assert heard == [{"notes"}, {"notes"}, {"notes"}]


async def test_functions_are_listed_with_their_validators_and_run_as_a_user(client):
    listed = {f["path"]: f for f in (await call(client, "functions"))["functions"]}
    assert listed["notes:add"] == {
        "path": "notes:add",
        "kind": "mutation",
        "visibility": "public",
        "args": "{ text: string; tags?: Array<string> }",
        "returns": 'Id<"notes">',
    }
    assert listed["digest:make_digest"]["visibility"] == "internal"
    anonymous = await call(client, "run", {"path": "notes:add", "args": {"text": "hi"}})
    assert not anonymous["success"] and anonymous["error"]
    ann = {"subject": "ann", "name": "Ann"}
    added = await call(
        client, "run", {"path": "notes:add", "args": {"text": "hi"}, "identity": ann}
    )
    assert added["success"], added
    found = await call(client, "run", {"path": "notes:list_by_author", "args": {"author": "ann"}})
    assert [n["text"] for n in found["value"]] == ["hi"]


async def test_a_scheduled_job_is_listed_and_canceled(client):
    ann = {"subject": "ann"}
    scheduled = await call(
        client,
        "run",
        {
            "path": "notes:schedule_digest",
            "args": {"author": "ann", "delay_seconds": 3600},
            "identity": ann,
        },
    )
    assert scheduled["success"], scheduled
    pending = (await call(client, "jobs", {"state": "pending"}))["jobs"]
    assert [(j["id"], j["name"], j["args"]) for j in pending] == [
        (scheduled["value"], "digest:make_digest", {"author": "ann"})
    ]
    await call(client, "cancel_job", {"id": scheduled["value"]})
    assert (await call(client, "jobs", {"state": "pending"}))["jobs"] == []
    (job,) = (await call(client, "jobs"))["jobs"]
    assert job["state"] == "canceled"
    again = await client.post(
        "/_dashboard/api/cancel_job", json={"id": scheduled["value"]}, headers=AUTH
    )
    assert again.status_code == 400 and "canceled, not pending" in again.json()["message"]


@mutation(args={"message": v.string()})
def record(message: str):
    db = yield from DatabaseWriter
    yield from db.table("records").insert({"message": message})


async def test_crons_are_listed_with_their_schedule_and_next_run():
    crons = Crons()
    crons.interval("tick", record, {"message": "t"}, minutes=5)
    crons.cron("weekdays", "30 9 * * 1-5", record, {"message": "w"})
    schema = define_schema(records=define_table({"message": v.string()}))
    now = 1_800_000_000.0
    server = Server(
        Backend(App({"jobs:record": record}, schema, crons), now=lambda: now), admin_key=ADMIN
    )
    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as c:
        listed = (await call(c, "crons"))["crons"]
    assert listed == [
        {
            "name": "tick",
            "schedule": "every 300 s",
            "function": "jobs:record",
            "args": {"message": "t"},
            "next_run": now * 1000 + 300_000,
        },
        {
            "name": "weekdays",
            "schedule": "cron 30 9 * * 1-5 (UTC)",
            "function": "jobs:record",
            "args": {"message": "w"},
            "next_run": crons.jobs["weekdays"].next_after(now * 1000),
        },
    ]


async def test_files_are_listed_uploaded_and_deleted(client):
    url = (await call(client, "upload_url"))["url"]
    uploaded = await client.post(url, content=b"hello", headers={"content-type": "text/plain"})
    storage_id = uploaded.json()["storageId"]
    (listed,) = (await call(client, "files"))["files"]
    assert listed["id"] == storage_id and listed["size"] == 5
    assert listed["content_type"] == "text/plain"
    assert listed["sha256"] == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert listed["url"].endswith(f"/api/storage/{storage_id}")
    assert (await client.get(f"/api/storage/{storage_id}")).content == b"hello"
    await call(client, "delete_file", {"id": storage_id})
    assert (await call(client, "files"))["files"] == []


async def test_the_deployment_says_what_serves(client):
    info = await call(client, "deployment")
    assert info["engine"] == "memory" and info["tables"] == 3


async def test_environment_variables_are_set_listed_and_unset_together(client):
    changes = [{"name": "API_URL", "value": "https://x.test"}, {"name": "MODE", "value": "dev"}]
    assert (await call(client, "set_environment", {"changes": changes}))["count"] == 2
    listed = (await call(client, "environment"))["variables"]
    assert listed == [
        {"name": "API_URL", "value": "https://x.test"},
        {"name": "MODE", "value": "dev"},
    ]
    await call(client, "set_environment", {"changes": [{"name": "MODE", "value": None}]})
    assert [v["name"] for v in (await call(client, "environment"))["variables"]] == ["API_URL"]
    bad = [{"name": "OK", "value": "1"}, {"name": "9 bad", "value": "x"}]
    answer = await client.post(
        "/_dashboard/api/set_environment", json={"changes": bad}, headers=AUTH
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "EnvironmentVariableNameInvalid"
    assert "9 bad" in answer.json()["message"]
    assert [v["name"] for v in (await call(client, "environment"))["variables"]] == ["API_URL"]


async def test_the_live_channel_tells_of_calls_and_commits_after_signing_in(client):
    base = str(client.base_url).replace("http", "ws")
    await client.post("/api/query", json={"path": "notes:list_by_author", "args": {"author": "x"}})
    async with websockets.connect(f"{base}/_dashboard/api/live") as live:
        await live.send(json.dumps({"admin_key": ADMIN}))
        backlog = json.loads(await live.recv())
        assert backlog["type"] == "call" and backlog["call"]["path"] == "notes:list_by_author"
        assert json.loads(await live.recv()) == {"type": "ready"}
        document = {"author": "ann", "text": "live", "tags": [], "pinned": False}
        await call(client, "insert", {"table": "notes", "document": document})
        assert json.loads(await live.recv()) == {"type": "commit", "tables": ["notes"]}
        await call(client, "run", {"path": "notes:list_by_author", "args": {"author": "ann"}})
        ran = json.loads(await live.recv())["call"]
        assert (ran["kind"], ran["path"], ran["success"]) == ("query", "notes:list_by_author", True)


async def test_the_live_channel_closes_on_a_wrong_key(client):
    base = str(client.base_url).replace("http", "ws")
    async with websockets.connect(f"{base}/_dashboard/api/live") as live:
        await live.send(json.dumps({"admin_key": "wrong"}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await live.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001


async def test_the_live_channel_closes_a_socket_that_never_signs_in(client, monkeypatch):
    monkeypatch.setattr(live_channel, "SIGN_IN_SECONDS", 0.05)
    base = str(client.base_url).replace("http", "ws")
    async with websockets.connect(f"{base}/_dashboard/api/live") as live:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(live.recv(), 30)  # the bound only ends a failing test
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001


async def test_the_live_channel_refuses_a_binary_sign_in(client):
    base = str(client.base_url).replace("http", "ws")
    async with websockets.connect(f"{base}/_dashboard/api/live") as live:
        await live.send(json.dumps({"admin_key": ADMIN}).encode())
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await live.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001
