"""The PostgreSQL engine's own guarantees: processes sharing one deployment see, check
against and hear each other's commits, share files and the admin key, and outlive lost
connections. (Its query semantics are in tests/conformance; several live servers on one
deployment are in tests/integration/test_scale_out.py.)"""

import asyncio
import hashlib
import threading

import psycopg
import pytest
from psycopg import sql

import effects
from confect import App, Backend, SchemaError, action, define_schema, define_table, v
from confect.engine.interface import BLOB_CHUNK_BYTES, Commit, ReadRange, Write
from confect.engine.sql.postgres import PostgresEngine, split_url
from confect.model.errors import WriteConflict
from confect.model.values import prefix_range
from confect.server.asgi import Server
from tests.conformance.test_engine import APP
from tests.postgres import URL, postgres_engine

HEARD_WITHIN = 10.0  # seconds: a notice normally arrives in a millisecond


class Heard:
    """What an engine's watcher was told, with a wait for the next telling."""

    def __init__(self, engine: PostgresEngine) -> None:
        self.commits: list[Commit] = []
        self.missed = 0
        self._event = threading.Event()
        self.stop = engine.watch(self._told)

    def _told(self, commits: list[Commit]) -> None:
        if commits:
            self.commits += commits
        else:
            self.missed += 1
        self._event.set()

    def wait(self) -> None:
        assert self._event.wait(HEARD_WITHIN), "nothing was heard"
        self._event.clear()


def _add_counter(backend: Backend) -> str:
    fn = backend.resolve("t:new_counter")
    return effects.run_sync(backend.mutation(fn, fn.encode_args({}))).value


def test_commits_of_another_process_are_heard_read_and_counted(two_processes):
    first, second = two_processes
    heard = Heard(second)
    writer, reader = Backend(APP, first), Backend(APP, second)
    id_ = _add_counter(writer)
    while first.last_ts() not in [c.ts for c in heard.commits]:
        heard.wait()
    assert second.last_ts() == first.last_ts()
    assert [w.id for w in heard.commits[-1].writes] == [id_]
    fn = reader.resolve("t:counter")
    assert effects.run_sync(reader.query(fn, fn.encode_args({"id": id_}))).value == 0


def test_reads_and_commits_are_checked_against_another_process_commits_not_yet_heard(two_processes):
    first, second = two_processes
    writer = Backend(APP, first)
    Backend(APP, second)
    begin = second.last_ts()
    reads = [ReadRange("counters", "by_creation_time", *prefix_range())]
    id_ = _add_counter(writer)
    # whether or not `second` heard of it yet: once a read saw it, checks see it too
    assert second.get("counters", id_) is not None
    assert not second.is_valid(begin, reads)
    with pytest.raises(WriteConflict):  # a commit always checks against every commit
        second.commit(begin, reads, [_counter_write("other", 1)])


def _counter_write(id_: str, value: int) -> Write:
    return Write("counters", id_, None, {"value": value, "_id": id_, "_creationTime": 1.0})


def test_files_and_the_admin_key_are_shared(two_processes):
    first, second = two_processes
    sha = first.put_blob([b"shared bytes"])
    assert second.get_blob(sha) == b"shared bytes"
    second.delete_blob(sha)
    assert first.get_blob(sha) is None
    assert first.admin_key("one") == "one"
    assert second.admin_key("two") == "one"


def _blob_writers(engine: PostgresEngine) -> set[str]:
    """The processes whose blob pieces the deployment holds."""
    with psycopg.connect(URL, autocommit=True) as db:
        rows = db.execute(
            sql.SQL("SELECT DISTINCT blob FROM {}.blob_chunks").format(
                sql.Identifier(engine.schema)
            )
        ).fetchall()
    return {str(key).partition(".")[0] for (key,) in rows}


def test_the_pieces_of_a_blob_whose_writer_stopped_are_dropped_by_the_next_process(two_processes):
    first, second = two_processes
    stopping = postgres_engine(first.schema)
    stopping.new_blob().write(b"x" * (BLOB_CHUNK_BYTES + 1))  # stops before keeping it
    uploading = second.new_blob()
    uploading.write(b"y" * (BLOB_CHUNK_BYTES + 1))  # still at it, in a process that lives
    stopping.close()
    assert _blob_writers(first) == {stopping.process_id, second.process_id}
    postgres_engine(first.schema).close()  # the next process to open the deployment
    assert _blob_writers(first) == {second.process_id}
    assert first.get_blob(uploading.keep()) == b"y" * (BLOB_CHUNK_BYTES + 1)


def test_blobs_an_earlier_version_stored_whole_are_cut_into_pieces(two_processes):
    first, _ = two_processes
    data = bytes(range(256)) * 10_000  # 2.56 MB: three pieces
    sha, empty = hashlib.sha256(data).hexdigest(), hashlib.sha256().hexdigest()
    with psycopg.connect(URL, autocommit=True) as db:
        db.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(first.schema)))
        db.execute("CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, data BYTEA NOT NULL)")
        db.execute("INSERT INTO blobs VALUES (%s, %s), (%s, '')", (sha, data, empty))
    upgraded = postgres_engine(first.schema)  # the new version opens the deployment
    pieces = upgraded.read_blob(sha)
    assert pieces is not None and [len(piece) for piece in pieces] == [
        BLOB_CHUNK_BYTES,
        BLOB_CHUNK_BYTES,
        len(data) - 2 * BLOB_CHUNK_BYTES,
    ]
    assert (first.get_blob(sha), first.get_blob(empty)) == (data, b"")
    upgraded.close()


def test_lost_connections_are_replaced_and_missed_commits_caught_up(two_processes):
    first, second = two_processes
    writer = Backend(APP, first)
    Backend(APP, second)
    heard = Heard(second)
    with psycopg.connect(URL, autocommit=True) as admin:
        ours = admin.execute(
            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND "
            "datname = current_database() AND application_name = %s",
            (second.application_name,),
        ).fetchall()
        assert len(ours) == 3  # reading, committing, listening
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid",
            ([p for (p,) in ours],),
        )
    with pytest.raises(psycopg.OperationalError):  # the request that meets the loss fails
        second.get("counters", "nothing")
    with pytest.raises(psycopg.OperationalError):
        second.commit(second.last_ts(), [], [_counter_write("a" * 32, 1)])
    id_ = _add_counter(writer)
    while id_ not in [w.id for c in heard.commits for w in c.writes]:
        heard.wait()  # the listener connected again and caught up
    assert second.get("counters", id_) is not None
    latest = first.last_ts()  # read first: `first` hears the next commit as soon as it lands
    assert second.commit(second.last_ts(), [], [_counter_write("b" * 32, 2)]) > latest


def test_a_schema_the_stored_documents_do_not_fit_is_refused(two_processes):
    first, second = two_processes
    _add_counter(Backend(APP, first))
    changed = define_schema(counters=define_table({"value": v.string()}))
    with pytest.raises(SchemaError, match="1 stored document"):
        second.configure(changed)


def test_the_url_names_the_schema():
    assert split_url("postgresql://h:5/db?schema=app&sslmode=disable") == (
        "postgresql://h:5/db?sslmode=disable",
        "app",
    )
    assert split_url("postgres://h/db") == ("postgres://h/db", "confect")


# --- scheduled jobs across server processes ------------------------------------------------------

RAN: list[str] = []


@action(args={"message": v.string()})
def remember(message: str):
    yield from effects.sync(lambda: RAN.append(message))


JOBS_APP = App({"jobs:remember": remember}, define_schema(notes=define_table({"text": v.string()})))


def _job(backend: Backend, state: str, run_by: str | None = None) -> str:
    fields = {
        "name": "jobs:remember",
        "args": [{"message": "once"}],
        "scheduledTime": 0.0,
        "state": {"kind": state},
    }
    if run_by is not None:
        fields["runBy"] = run_by
    return backend.in_own_transaction(lambda tx: tx.insert("_scheduled_functions", fields))


def test_an_action_job_runs_on_one_process_only(two_processes):
    first, second = two_processes
    RAN.clear()
    a, b = Backend(JOBS_APP, first), Backend(JOBS_APP, second)
    job_id = _job(a, "pending")
    (seen_by_a,) = a.pending_jobs()
    assert effects.run_sync(b.tick()) == 1
    # `a` saw the job pending before `b` took it: its claim fails and it runs nothing
    effects.run_sync(a.jobs.run(seen_by_a))
    assert RAN == ["once"]
    job = first.get("_scheduled_functions", job_id)
    assert job is not None and job["state"] == {"kind": "success"}


def test_recovery_spares_the_jobs_of_live_processes(two_processes):
    first, second = two_processes
    a = Backend(JOBS_APP, first)
    runner = postgres_engine(first.schema)  # a third process, running the job
    job_id = _job(a, "inProgress", run_by=runner.process_id)
    Backend(JOBS_APP, second)  # starts while the runner lives: leaves its job be
    job = second.get("_scheduled_functions", job_id)
    assert job is not None and job["state"] == {"kind": "inProgress"}
    runner.close()  # the process running it stops
    Backend(JOBS_APP, second)  # the next process to start marks the job failed
    job = second.get("_scheduled_functions", job_id)
    assert job is not None and job["state"]["kind"] == "failed"


def test_an_upload_url_from_one_process_is_taken_by_another_once(two_processes):
    first, second = two_processes
    issued = Backend(APP, first).files.new_upload_token()
    taker = Backend(APP, second).files
    assert taker.take_upload_token(issued)
    assert not taker.take_upload_token(issued)


async def test_a_serving_process_recovers_the_jobs_of_one_that_stopped(two_processes):
    first, second = two_processes
    runner = postgres_engine(first.schema)  # a third process, running the job
    job_id = _job(Backend(JOBS_APP, first), "inProgress", run_by=runner.process_id)
    server = Server(Backend(JOBS_APP, second), recover_every=0.05)
    failed = asyncio.Event()

    def notice(ts: int, writes: list[Write], cause: object) -> None:
        if any(w.id == job_id and w.new and w.new["state"]["kind"] == "failed" for w in writes):
            failed.set()

    server.backend.commit_listeners.append(notice)
    scheduler = asyncio.create_task(server.run_scheduler())
    try:
        runner.close()  # stops while the job runs
        await asyncio.wait_for(failed.wait(), HEARD_WITHIN)
    finally:
        scheduler.cancel()


def test_deployments_in_one_database_commit_without_waiting_for_each_other(two_processes):
    first, _ = two_processes
    other = postgres_engine()  # another deployment: another schema of the same database
    try:
        Backend(APP, first)
        Backend(APP, other)
        with psycopg.connect(URL, autocommit=True) as holder, holder.transaction():
            holder.execute("SET lock_timeout = '10s'")
            # take `first`'s commit lock, as a commit of one of its processes would
            holder.execute("SELECT pg_advisory_xact_lock(%s, %s)", first.commit_lock)
            done = threading.Event()
            committing = threading.Thread(
                target=lambda: (
                    other.commit(other.last_ts(), [], [_counter_write("c" * 32, 1)]),
                    done.set(),
                )
            )
            committing.start()
            assert done.wait(HEARD_WITHIN), "a commit waited for another deployment's lock"
            blocked = threading.Event()
            waiting = threading.Thread(
                target=lambda: (
                    first.commit(first.last_ts(), [], [_counter_write("d" * 32, 1)]),
                    blocked.set(),
                )
            )
            waiting.start()
            assert not blocked.wait(0.2)  # its own deployment's commits do wait for it
        waiting.join(HEARD_WITHIN)
        assert blocked.is_set()
    finally:
        other.drop()
