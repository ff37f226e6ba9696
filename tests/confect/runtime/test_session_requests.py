"""A mutation sent over the sync protocol runs once per (sessionId, requestId): a client
resending it after a reconnect gets the recorded answer, on every engine, across a restart
and across server processes; records go after a while."""

import asyncio
import contextlib
import json
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from typer.testing import CliRunner

import effects
from confect import (
    App,
    Backend,
    DatabaseWriter,
    SchemaError,
    define_schema,
    define_table,
    mutation,
    v,
)
from confect.cli import cli
from confect.engine.interface import Engine, Write
from confect.engine.sql.sqlite import SqliteEngine
from confect.model.schema import SESSION_REQUESTS_TABLE
from confect.runtime.execution import MutationResult
from confect.runtime.session_requests import SessionRequest
from confect.runtime.snapshot import export_snapshot, import_snapshot
from confect.server.asgi import Server
from confect.server.protocol import decode_ts
from tests.raw_http import post
from tests.servers import served

SCHEMA = define_schema(transfers=define_table({"note": v.string()}))
RUNS: list[str] = []  # each run of a handler (what a commit alone does not show)


class Gate:
    """Holds the racing mutations until both are inside their transactions."""

    barrier: threading.Barrier | None = None


@mutation(args={"note": v.string()})
def transfer(note: str):
    RUNS.append(note)
    db = yield from DatabaseWriter
    return (yield from db.table("transfers").insert({"note": note}))


@mutation(args={"note": v.string()})
def transfer_together(note: str):
    RUNS.append(note)
    barrier = Gate.barrier
    assert barrier is not None
    barrier.wait(timeout=30)  # handlers run on worker threads: both wait here at once
    db = yield from DatabaseWriter
    return (yield from db.table("transfers").insert({"note": note}))


@mutation(args={"note": v.string()})
def refused(note: str):
    RUNS.append(note)
    raise ValueError("not today")
    yield  # a generator, as handlers are


@mutation(args={"note": v.string()})
def statement(note: str):
    """Returns more than a document may hold (1 MiB): its record still holds it."""
    RUNS.append(note)
    return note * (1 << 20)
    yield


APP = App(
    {
        "bank:transfer": transfer,
        "bank:transfer_together": transfer_together,
        "bank:refused": refused,
        "bank:statement": statement,
    },
    SCHEMA,
)


@pytest.fixture(autouse=True)
def _fresh_runs() -> Iterator[None]:
    RUNS.clear()
    yield
    Gate.barrier = None


# --- a client speaking the protocol --------------------------------------------------------------


@contextlib.asynccontextmanager
async def session(address: str, session_id: str) -> AsyncIterator[Any]:
    """A connection that has sent its Connect for `session_id`."""
    async with websockets.connect(f"ws://{address}/api/sync", max_size=None) as socket_:
        connect = {
            "type": "Connect",
            "sessionId": session_id,
            "connectionCount": 0,
            "lastCloseReason": "InitialConnect",
        }
        await socket_.send(json.dumps(connect))
        yield socket_


async def received(socket_: Any, kind: str) -> dict[str, Any]:
    """The next message of type `kind` (pings and others skipped, a bounded number)."""
    for _ in range(100):
        message = json.loads(await asyncio.wait_for(socket_.recv(), 10))
        if message["type"] == kind:
            return message
        if message["type"] == "FatalError":
            raise AssertionError(f"the server ended the connection: {message['error']}")
    raise AssertionError(f"no {kind} among 100 messages")


async def send_mutation(
    socket_: Any, request_id: int, path: str = "bank:transfer", note: str = "rent"
) -> None:
    mutation_ = {
        "type": "Mutation",
        "requestId": request_id,
        "udfPath": path,
        "args": [{"note": note}],
    }
    await socket_.send(json.dumps(mutation_))


async def answered(socket_: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The next MutationResponse, and the Transition that follows it."""
    response = await received(socket_, "MutationResponse")
    return response, await received(socket_, "Transition")


def _run(backend: Backend, session_id: str, note: str, request_id: int = 0) -> MutationResult:
    """`bank:transfer` as request `request_id` of session `session_id`."""
    args = transfer.encode_args({"note": note})
    request = SessionRequest(session_id, request_id)
    return effects.run_sync(backend.mutation(transfer, args, None, request))


def _record(backend: Backend, session_id: str, note: str) -> Any:
    return _run(backend, session_id, note).value


def notes(engine: Engine) -> list[str]:
    return [str(document["note"]) for document in engine.documents("transfers")]


def assert_reflected(response: dict[str, Any], transition: dict[str, Any]) -> None:
    """The transition after a mutation's response reaches the mutation's ts (or the client
    waits for ever)."""
    assert decode_ts(transition["endVersion"]["ts"]) >= decode_ts(response["ts"])


# --- once, however often it is sent --------------------------------------------------------------


async def test_a_mutation_resent_after_a_reconnect_is_answered_from_its_record(engine: Engine):
    session_id = str(uuid.uuid4())
    async with served(Server(Backend(APP, engine))) as address:
        async with session(address, session_id) as first:
            await send_mutation(first, request_id=0)
            original, transition = await answered(first)
        assert original["success"] is True
        assert_reflected(original, transition)
        async with session(address, session_id) as again:
            await send_mutation(again, request_id=0)
            repeat, transition = await answered(again)
    assert (repeat["result"], repeat["ts"]) == (original["result"], original["ts"])
    assert repeat["success"] is True and repeat["requestId"] == 0
    assert_reflected(repeat, transition)
    assert transition["startVersion"]["querySet"] == 0  # from the new connection's version
    assert notes(engine) == ["rent"] and RUNS == ["rent"]


async def test_the_next_request_and_another_session_run_on_their_own(engine: Engine):
    async with served(Server(Backend(APP, engine))) as address:
        async with session(address, str(uuid.uuid4())) as client:
            await send_mutation(client, request_id=0, note="rent")
            first, _ = await answered(client)
            await send_mutation(client, request_id=1, note="rent")
            second, _ = await answered(client)
        async with session(address, str(uuid.uuid4())) as other:
            await send_mutation(other, request_id=0, note="rent")
            third, _ = await answered(other)
    assert len({first["result"], second["result"], third["result"]}) == 3
    assert notes(engine) == ["rent", "rent", "rent"]


async def test_two_resends_racing_on_two_connections_apply_once(engine: Engine):
    Gate.barrier = threading.Barrier(2)
    session_id = str(uuid.uuid4())
    async with (
        served(Server(Backend(APP, engine))) as address,
        session(address, session_id) as one,
        session(address, session_id) as other,
    ):
        for socket_ in (one, other):
            await send_mutation(socket_, request_id=7, path="bank:transfer_together")
        (a, reflected_a), (b, reflected_b) = await asyncio.gather(answered(one), answered(other))
    # both ran, inside their transactions, at once (each held on the event loop past 50 ms
    # first, so stopped there and run again on a worker thread: more runs than calls)
    assert RUNS.count("rent") >= 2
    assert (a["success"], b["success"]) == (True, True)
    assert (a["result"], a["ts"]) == (b["result"], b["ts"])  # the loser retried, found the record
    assert_reflected(a, reflected_a)
    assert_reflected(b, reflected_b)
    assert notes(engine) == ["rent"]


async def test_a_failed_mutation_leaves_no_record_and_a_repeat_runs_it_again():
    """As in Convex: only a committed mutation is recorded (a failed one committed nothing)."""
    session_id = str(uuid.uuid4())
    async with served(Server(Backend(APP))) as address:
        for _ in range(2):
            async with session(address, session_id) as client:
                await send_mutation(client, request_id=0, path="bank:refused")
                response, _ = await answered(client)
                assert response["success"] is False and "not today" in response["errorMessage"]
    assert RUNS == ["rent", "rent"]


async def test_a_result_larger_than_a_document_is_recorded_all_the_same():
    session_id = str(uuid.uuid4())
    async with served(Server(Backend(APP))) as address:
        for _ in range(2):
            async with session(address, session_id) as client:
                await send_mutation(client, request_id=0, path="bank:statement", note="ab")
                response, _ = await answered(client)
                assert response["success"] is True and len(response["result"]) == 2 << 20
    assert RUNS == ["ab"]


async def test_a_mutation_over_http_or_before_connect_is_not_recorded():
    backend = Backend(APP)
    async with (
        served(Server(backend)) as address,
        websockets.connect(f"ws://{address}/api/sync") as unnamed,
    ):
        await send_mutation(unnamed, request_id=0)
        await answered(unnamed)
        status, _ = await post(
            address, "/api/mutation", {"path": "bank:transfer", "args": {"note": "x"}}
        )
        assert status == 200
    assert notes(backend.engine) == ["rent", "x"]
    assert list(backend.engine.documents(SESSION_REQUESTS_TABLE)) == []


async def test_a_connect_without_a_uuid_or_a_mutation_without_a_request_number_is_refused():
    async with served(Server(Backend(APP))) as address:
        async with session(address, "not a uuid") as client:
            fatal = json.loads(await asyncio.wait_for(client.recv(), 10))
            assert fatal["type"] == "FatalError" and "sessionId must be a UUID" in fatal["error"]
        for request_id in ("0", -1, 2**32, 1.0, None):
            async with session(address, str(uuid.uuid4())) as client:
                await send_mutation(client, request_id)  # pyright: ignore[reportArgumentType]
                fatal = json.loads(await asyncio.wait_for(client.recv(), 10))
                assert fatal["type"] == "FatalError" and "requestId" in fatal["error"]
    assert RUNS == []


# --- across a restart and across processes -------------------------------------------------------


async def test_a_resend_after_a_restart_of_the_sqlite_engine_gets_the_recorded_answer(
    tmp_path: Path,
):
    session_id = str(uuid.uuid4())
    engine = SqliteEngine(tmp_path)
    async with (
        served(Server(Backend(APP, engine))) as address,
        session(address, session_id) as client,
    ):
        await send_mutation(client, request_id=3)
        original, _ = await answered(client)
    engine.close()
    engine = SqliteEngine(tmp_path)  # the server starts again on its data
    try:
        async with (
            served(Server(Backend(APP, engine))) as address,
            session(address, session_id) as client,
        ):
            await send_mutation(client, request_id=3)
            repeat, transition = await answered(client)
        assert (repeat["result"], repeat["ts"]) == (original["result"], original["ts"])
        assert_reflected(repeat, transition)
        assert notes(engine) == ["rent"] and RUNS == ["rent"]
    finally:
        engine.close()


async def test_a_resend_to_another_process_of_the_deployment_gets_the_recorded_answer(
    two_processes: tuple[Engine, Engine],
):
    first, second = two_processes
    session_id = str(uuid.uuid4())
    async with (
        served(Server(Backend(APP, first))) as one,
        served(Server(Backend(APP, second))) as other,
    ):
        async with session(one, session_id) as client:
            await send_mutation(client, request_id=0)
            original, _ = await answered(client)
        async with session(other, session_id) as client:  # the client reconnects elsewhere
            await send_mutation(client, request_id=0)
            repeat, transition = await answered(client)
    assert (repeat["result"], repeat["ts"]) == (original["result"], original["ts"])
    assert_reflected(repeat, transition)  # the other process caught up with the record's commit
    assert notes(second) == ["rent"] and RUNS == ["rent"]


def test_a_process_answering_from_another_ones_record_has_caught_up_with_its_commit(
    two_processes: tuple[Engine, Engine],
):
    """A resend right after the commit, before the other process has (usually) heard of
    it: the answer waits until it has, so the transition that follows can reach its ts."""
    first, second = two_processes
    one, other = Backend(APP, first), Backend(APP, second)
    for request_id in range(5):
        original = _run(one, "s", "rent", request_id)
        repeat = _run(other, "s", "rent", request_id)
        assert (repeat.value, repeat.ts) == (original.value, original.ts)
        assert second.last_ts() >= original.ts
    assert RUNS == ["rent"] * 5


async def test_resends_racing_through_two_processes_apply_once(
    two_processes: tuple[Engine, Engine],
):
    Gate.barrier = threading.Barrier(2)
    first, second = two_processes
    session_id = str(uuid.uuid4())
    async with (
        served(Server(Backend(APP, first))) as address_one,
        served(Server(Backend(APP, second))) as address_other,
        session(address_one, session_id) as one,
        session(address_other, session_id) as other,
    ):
        for socket_ in (one, other):
            await send_mutation(socket_, request_id=0, path="bank:transfer_together")
        (a, reflected_a), (b, reflected_b) = await asyncio.gather(answered(one), answered(other))
    assert (a["result"], a["ts"]) == (b["result"], b["ts"])
    assert_reflected(a, reflected_a)
    assert_reflected(b, reflected_b)
    assert notes(first) == ["rent"]


# --- pruning -------------------------------------------------------------------------------------


def test_records_older_than_the_kept_time_are_pruned_a_chunk_at_a_time():
    now = [1_800_000_000.0]
    backend = Backend(APP, now=lambda: now[0])
    for name in ("a", "b", "c"):
        _record(backend, name, "early")
    now[0] += 50
    _record(backend, "d", "late")
    now[0] += 20  # the first three are 70 s old, the last 20 s
    assert backend.prune_session_requests(60, limit=2) == 2
    assert backend.prune_session_requests(60, limit=2) == 1
    assert backend.prune_session_requests(60, limit=2) == 0
    kept = [d["sessionId"] for d in backend.engine.documents(SESSION_REQUESTS_TABLE)]
    assert kept == ["d"]
    _record(backend, "a", "early")  # its record is gone: sent again, it runs again
    _record(backend, "d", "late")  # still recorded: answered, not run
    assert RUNS == ["early", "early", "early", "late", "early"]


async def test_the_server_prunes_old_records_periodically():
    now = [1_800_000_000.0]
    backend = Backend(APP, now=lambda: now[0])
    _record(backend, "old", "rent")
    server = Server(backend, keep_session_requests=60, prune_every=0.01)
    pruned = asyncio.Event()

    def notice(ts: int, writes: list[Write], cause: object) -> None:
        if any(w.table == SESSION_REQUESTS_TABLE and w.new is None for w in writes):
            pruned.set()

    backend.commit_listeners.append(notice)
    async with served(server):  # the server prunes while it serves
        now[0] += 61
        await asyncio.wait_for(pruned.wait(), 10)
    assert list(backend.engine.documents(SESSION_REQUESTS_TABLE)) == []


# --- a system table no one else sees -------------------------------------------------------------


def test_records_are_hidden_from_apps_exports_and_listings(tmp_path: Path):
    backend = Backend(APP)
    _record(backend, "s", "rent")
    with pytest.raises(SchemaError):
        backend.schema.table(SESSION_REQUESTS_TABLE)
    assert SESSION_REQUESTS_TABLE not in backend.schema.visible_tables
    counts = export_snapshot(backend, tmp_path / "snap")
    assert SESSION_REQUESTS_TABLE not in counts
    assert SESSION_REQUESTS_TABLE not in json.loads((tmp_path / "snap" / "tables.json").read_text())
    assert not (tmp_path / "snap" / "documents" / f"{SESSION_REQUESTS_TABLE}.jsonl").exists()
    target = Backend(APP)
    assert import_snapshot(target, tmp_path / "snap")["transfers"] == 1


def test_confect_data_does_not_list_the_records(tmp_path: Path):
    app = tmp_path / "bank"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "schema.py").write_text(
        "from confect import define_schema, define_table, v\n"
        "schema = define_schema(transfers=define_table({'note': v.string()}))\n"
    )
    engine = SqliteEngine(app / ".confect")
    backend = Backend(App({"bank:transfer": transfer}, SCHEMA), engine)
    _record(backend, "s", "rent")
    engine.close()
    listing = CliRunner().invoke(cli, ["data", str(app)])
    assert listing.exit_code == 0, listing.output
    assert "transfers" in listing.output and SESSION_REQUESTS_TABLE not in listing.output
    refused = CliRunner().invoke(cli, ["data", str(app), SESSION_REQUESTS_TABLE])
    assert refused.exit_code == 2 and "no table" in refused.output
