"""The SQLite engine's own guarantees: durability across kill -9, restarts, schema changes,
one owner per directory, blobs on disk. (Its query semantics are in tests/conformance.)"""

import os
import random
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

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
from confect.engine.sql.sqlite import EngineLockedError, SqliteEngine
from confect.model.values import encode_key

from .durable_writer import APP as PAIRS_APP

ROOT = Path(__file__).resolve().parents[3]


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if not selector.select(timeout):
        raise TimeoutError("the writer printed nothing")
    return process.stdout.readline()


def _pairs(directory: Path) -> dict[int, set[int]]:
    engine = SqliteEngine(directory)
    try:
        Backend(PAIRS_APP, engine)
        found: dict[int, set[int]] = {}
        for _, document in engine.scan("pairs", "by_n", b"", b"\xff", False):
            found.setdefault(int(document["n"]), set()).add(int(document["half"]))
        return found
    finally:
        engine.close()


def test_acknowledged_commits_survive_kill_9_and_none_is_half_done(tmp_path: Path):
    rng = random.Random(7)
    acknowledged: set[int] = set()
    start = 0
    for _ in range(4):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.confect.engine.durable_writer",
                str(tmp_path),
                str(start),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            for _ in range(rng.randint(5, 40)):
                acknowledged.add(int(_read_line(process, timeout=30)))
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        found = _pairs(tmp_path)
        assert acknowledged <= set(found), "an acknowledged commit was lost"
        assert all(halves == {0, 1} for halves in found.values()), "a commit was half applied"
        start = max(found) + 1


@attrs.frozen
class Thing:
    name: str
    size: float


@mutation(args={"name": v.string(), "size": v.number()})
def add_thing(name: str, size: float):
    db = yield from DatabaseWriter
    return (yield from db.table("things").insert(Thing(name, size)))


def _app(table) -> App:
    return App({"things:add": add_thing}, define_schema(things=table))


def test_restart_keeps_data_numbers_and_increasing_timestamps(tmp_path: Path):
    app = _app(define_table(Thing))
    engine = SqliteEngine(tmp_path)
    backend = Backend(app, engine)
    first = effects.run_sync(backend.mutation(add_thing, {"name": "a", "size": 1.0}))
    numbers = backend.numbers
    engine.close()

    engine = SqliteEngine(tmp_path)
    backend = Backend(app, engine)
    assert backend.numbers == numbers
    assert engine.get("things", str(first.value)) is not None
    second = effects.run_sync(backend.mutation(add_thing, {"name": "b", "size": 2.0}))
    assert second.ts > first.ts
    engine.close()


def test_a_new_index_is_backfilled_and_a_removed_one_dropped(tmp_path: Path):
    engine = SqliteEngine(tmp_path)
    backend = Backend(_app(define_table(Thing)), engine)
    for name, size in [("b", 2.0), ("a", 1.0), ("c", 3.0)]:
        effects.run_sync(backend.mutation(add_thing, {"name": name, "size": size}))
    engine.close()

    engine = SqliteEngine(tmp_path)
    Backend(_app(define_table(Thing).index("by_name", ["name"])), engine)
    names = [d["name"] for _, d in engine.scan("things", "by_name", b"", b"\xff", False)]
    assert names == ["a", "b", "c"]
    engine.close()

    engine = SqliteEngine(tmp_path)
    Backend(_app(define_table(Thing)), engine)
    assert engine._db.execute("SELECT count(*) FROM entries WHERE idx = 'by_name'").fetchone() == (
        0,
    )
    engine.close()


def test_a_schema_that_stored_documents_break_is_refused_with_a_report(tmp_path: Path):
    engine = SqliteEngine(tmp_path)
    backend = Backend(_app(define_table(Thing)), engine)
    effects.run_sync(backend.mutation(add_thing, {"name": "a", "size": 1.0}))
    engine.close()

    engine = SqliteEngine(tmp_path)
    stricter = define_table({"name": v.string(), "size": v.int64()})
    with pytest.raises(
        SchemaError,
        match=r"(?s)1 stored document\(s\) do not match.*document\.size: expected int64",
    ):
        Backend(_app(stricter), engine)
    engine.close()
    engine = SqliteEngine(tmp_path)  # the data is untouched: the old schema still works
    Backend(_app(define_table(Thing)), engine)
    assert len(list(engine.scan("things", "by_creation_time", b"", b"\xff", False))) == 1
    engine.close()


def test_one_process_owns_a_directory(tmp_path: Path):
    engine = SqliteEngine(tmp_path)
    with pytest.raises(EngineLockedError):
        SqliteEngine(tmp_path)
    engine.close()
    SqliteEngine(tmp_path).close()


def test_blobs_are_files_named_by_sha256(tmp_path: Path):
    engine = SqliteEngine(tmp_path)
    sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert engine.put_blob([b"hel", b"lo"]) == sha
    assert (tmp_path / "blobs" / sha[:2] / sha).read_bytes() == b"hello"
    assert engine.get_blob(sha) == b"hello"
    engine.delete_blob(sha)
    assert engine.get_blob(sha) is None
    with pytest.raises(ValueError):
        engine.get_blob("../escape")
    engine.close()


def test_a_blob_cut_off_while_written_is_gone_when_the_directory_is_opened_again(
    tmp_path: Path,
):
    engine = SqliteEngine(tmp_path)
    engine.new_blob().write(b"half an upload")  # the process stops before keeping it
    assert list((tmp_path / "blobs" / "incoming").iterdir())
    engine.close()
    SqliteEngine(tmp_path).close()
    assert not list((tmp_path / "blobs" / "incoming").iterdir())


def test_range_reads_use_the_index_not_a_table_scan(tmp_path: Path):
    engine = SqliteEngine(tmp_path)
    Backend(_app(define_table(Thing).index("by_name", ["name"])), engine)
    plan = engine._db.execute(
        "EXPLAIN QUERY PLAN SELECT e.key, d.body FROM entries e JOIN documents d ON d.id = e.id "
        "WHERE e.tbl = ? AND e.idx = ? AND e.key >= ? AND e.key < ? ORDER BY e.key",
        ("things", "by_name", encode_key(("a",)), encode_key(("b",))),
    ).fetchall()
    text = " ".join(str(row[-1]) for row in plan)
    assert "SEARCH e USING PRIMARY KEY" in text and "SCAN e" not in text
    engine.close()


# --- the scheduler across restarts ---------------------------------------------------------------


@mutation(args={"message": v.string()})
def record(message: str):
    db = yield from DatabaseWriter
    yield from db.table("records").insert({"message": message})


def _scheduler_app(crons=None) -> App:
    from confect import Crons

    schema = define_schema(records=define_table({"message": v.string()}))
    app = App({"records:record": record}, schema, crons or Crons())
    return app


def _records(engine: SqliteEngine) -> list[str]:
    return [
        str(d["message"])
        for _, d in engine.scan("records", "by_creation_time", b"", b"\xff", False)
    ]


def test_pending_jobs_survive_a_restart_and_run_once(tmp_path: Path):
    now = [1_800_000_000.0]
    engine = SqliteEngine(tmp_path)
    backend = Backend(_scheduler_app(), engine, now=lambda: now[0])
    from confect.services.scheduler import SchedulerService

    scheduler = SchedulerService(
        backend.in_own_transaction, backend.resolve_for_scheduling, backend.now_ms
    )
    effects.run_sync(scheduler.run_after(60, record, {"message": "later"}))
    engine.close()  # the process stops before the job is due

    now[0] += 61
    engine = SqliteEngine(tmp_path)
    backend = Backend(_scheduler_app(), engine, now=lambda: now[0])
    assert effects.run_sync(backend.tick()) == 1
    assert effects.run_sync(backend.tick()) == 0
    assert _records(engine) == ["later"]
    engine.close()


def test_an_action_job_cut_off_by_a_restart_is_marked_failed(tmp_path: Path):
    engine = SqliteEngine(tmp_path)
    backend = Backend(_scheduler_app(), engine)
    job_id = backend.in_own_transaction(
        lambda tx: tx.insert(
            "_scheduled_functions",
            {
                "name": "records:record",
                "args": [{"message": "x"}],
                "scheduledTime": 0.0,
                "state": {"kind": "inProgress"},
            },
        )
    )
    engine.close()

    engine = SqliteEngine(tmp_path)
    Backend(_scheduler_app(), engine)  # recovery runs as the backend starts
    job = engine.get("_scheduled_functions", job_id)
    assert job is not None and job["state"] == {
        "kind": "failed",
        "error": "interrupted: the server stopped while it ran",
    }
    engine.close()


def test_crons_fire_on_schedule_and_never_twice_across_restarts(tmp_path: Path):
    from confect import Crons

    crons = Crons()
    crons.interval("heartbeat", record, {"message": "beat"}, minutes=1)
    now = [1_800_000_000.0]
    engine = SqliteEngine(tmp_path)
    backend = Backend(_scheduler_app(crons), engine, now=lambda: now[0])
    assert backend.enqueue_due_crons() == 0
    now[0] += 60
    assert backend.enqueue_due_crons() == 1  # enqueued, then the process dies before running it
    engine.close()

    engine = SqliteEngine(tmp_path)
    backend = Backend(_scheduler_app(crons), engine, now=lambda: now[0])
    assert effects.run_sync(backend.tick()) == 1  # the enqueued run, and no second one
    assert _records(engine) == ["beat"]
    now[0] += 60
    assert effects.run_sync(backend.tick()) == 1
    assert _records(engine) == ["beat", "beat"]
    engine.close()


def test_a_new_search_index_is_backfilled(tmp_path: Path):
    engine = SqliteEngine(tmp_path)
    backend = Backend(_app(define_table(Thing)), engine)
    effects.run_sync(backend.mutation(add_thing, {"name": "red apple", "size": 1.0}))
    engine.close()

    engine = SqliteEngine(tmp_path)
    Backend(_app(define_table(Thing).search_index("by_words", search_field="name")), engine)
    assert len(engine.search_candidates("things", "by_words", ["app"])) == 1
    assert engine.search_candidates("things", "by_words", ["pear"]) == set()
    engine.close()


def test_a_read_as_of_a_commit_from_before_a_restart_is_refused(tmp_path: Path):
    from confect.model.errors import TimestampTooOldError

    engine = SqliteEngine(tmp_path)
    backend = Backend(_scheduler_app(), engine)
    effects.run_sync(backend.mutation(record, record.encode_args({"message": "first"})))
    before = engine.last_ts()
    effects.run_sync(backend.mutation(record, record.encode_args({"message": "second"})))
    engine.close()

    engine = SqliteEngine(tmp_path)  # its log of commits starts with this process
    backend = Backend(_scheduler_app(), engine)
    with pytest.raises(TimestampTooOldError):
        backend.new_transaction(at_ts=before)
    engine.close()
