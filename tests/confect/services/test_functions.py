"""Functions through ConfectTest: per-type services, atomicity, runners, scheduler, storage, auth."""

import pytest

import effects
from confect import (
    ConvexError,
    DatabaseReader,
    GetByIdFailure,
    NoUserIdentityFoundError,
    ServiceNotAvailable,
    ValidationError,
    refs,
)
from confect.testing import ConfectTest
from effects import Layer, Tag

from .sample_app import fns
from .sample_app.schema import Item

APP = "tests.confect.services.sample_app"


@pytest.fixture
def t() -> ConfectTest:
    return ConfectTest(APP)


def test_query_and_mutation_round_trip_documents(t: ConfectTest):
    item_id = t.mutation(fns.add, {"owner": "ann", "rank": 2, "label": "b"})
    t.mutation(fns.add, {"owner": "ann", "rank": 1, "label": "a"})
    found = t.query(fns.by_owner, {"owner": "ann"})
    assert [d.label for d in found] == ["a", "b"]
    assert isinstance(found[1], Item) and found[1]._id == item_id == found[1].id
    assert found[0]._creation_time > found[1]._creation_time  # inserted later


def test_arguments_are_validated_before_the_handler_runs(t: ConfectTest):
    with pytest.raises(ValidationError) as raised:
        t.mutation(fns.add, {"owner": "ann", "rank": "high", "label": "b"})
    assert str(raised.value) == "args.rank: expected number, got 'high'"
    assert t.query(fns.by_owner, {"owner": "ann"}) == []


def test_functions_by_path_and_refs(t: ConfectTest):
    t.mutation("fns:add", {"owner": "p", "rank": 1, "label": "x"})
    assert len(t.query("fns:by_owner", {"owner": "p"})) == 1
    r = refs(APP)
    assert r.api.fns.add.path == "fns:add"
    assert r.internal.fns.log.path == "fns:log"
    with pytest.raises(AttributeError):
        _ = r.api.fns.log  # internal functions are not in api


def test_a_failed_mutation_leaves_no_write_and_no_job(t: ConfectTest):
    from .sample_app.fns import Refused

    with pytest.raises(Refused) as raised:
        t.mutation(fns.add_then_maybe_fail, {"label": "gone", "fail": True})
    assert raised.value == Refused(why="asked to")  # decoded back from errorData
    with pytest.raises(RuntimeError, match="boom"):
        t.mutation(fns.add_then_crash, {"label": "gone too"})
    assert t.query(fns.by_owner, {"owner": "x"}) == []
    assert t.scheduled_jobs() == []


def test_declared_errors_travel_as_convex_error_data(t: ConfectTest):
    function = t.backend.resolve(fns.add_then_maybe_fail)
    from .sample_app.fns import Refused

    assert function.error_data(Refused(why="w")) == {"_tag": "Refused", "why": "w"}
    assert function.decode_error({"_tag": "Refused", "why": "w"}) == Refused(why="w")
    assert function.decode_error({"_tag": "Other"}) == ConvexError(data={"_tag": "Other"})


def test_scheduled_jobs_run_when_time_comes(t: ConfectTest):
    t.mutation(fns.add_then_maybe_fail, {"label": "later", "fail": False})
    [job] = t.scheduled_jobs()
    assert job["state"] == {"kind": "pending"} and job["name"] == "fns:log"
    assert t.finish_in_progress() == 0  # not due yet
    t.advance_time(10)
    assert t.finish_in_progress() == 1
    assert t.query(fns.logs) == ["later"]
    [job] = t.scheduled_jobs()
    assert job["state"] == {"kind": "success"} and "completedTime" in job


def test_finish_scheduled_functions_moves_the_clock(t: ConfectTest):
    t.mutation(fns.add_then_maybe_fail, {"label": "a", "fail": False})
    start = t.clock.now()
    assert t.finish_scheduled_functions() == 1
    assert t.clock.now() == start + 10
    assert t.query(fns.logs) == ["a"]


def test_a_query_cannot_write_and_says_why(t: ConfectTest):
    with pytest.raises(ServiceNotAvailable, match="DatabaseWriter is not available in a query"):
        t.query(fns.writes_in_a_query)
    with pytest.raises(ServiceNotAvailable, match="DatabaseReader is not available in an action"):
        t.action(fns.action_reads_db)


def test_query_runner_in_a_mutation_sees_its_writes(t: ConfectTest):
    assert t.mutation(fns.runs_a_query_after_writing) == 1


def test_a_failed_sub_mutation_rolls_back_only_itself(t: ConfectTest):
    t.mutation(fns.sub_mutations)
    assert [d.label for d in t.query(fns.by_owner, {"owner": "x"})] == ["kept"]
    assert [j["args"] for j in t.scheduled_jobs()] == [[{"message": "kept"}]]


def test_auth_identity_and_anonymous_calls(t: ConfectTest):
    with pytest.raises(NoUserIdentityFoundError):
        t.query(fns.me)
    alice = t.with_identity(subject="alice", name="Alice")
    assert alice.query(fns.me) == {
        "subject": "alice",
        "token": "https://confect.test|alice",
        "name": "Alice",
    }


def test_actions_use_runners_and_keep_the_identity(t: ConfectTest):
    result = t.with_identity(subject="bob").action(fns.action_calls_everything)
    assert result == {"items": 1, "me": "bob"}


def test_storage_stores_serves_and_deletes_files(t: ConfectTest):
    stored = t.action(fns.store_file, {"data": b"hello"})
    assert stored["size"] == 5.0 and stored["same"] is True
    assert stored["url"].endswith(f"/api/storage/{stored['id']}")
    assert (
        t.backend.engine.get_blob(
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        )
        == b"hello"
    )
    assert t.action(fns.delete_file, {"file_id": stored["id"]}) is True
    assert (
        t.backend.engine.get_blob(
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        )
        is None
    )


def test_ctx_object_gives_the_services(t: ConfectTest):
    assert t.mutation(fns.with_ctx) == "via ctx"


def test_run_executes_any_effect_against_the_database(t: ConfectTest):
    t.mutation(fns.add, {"owner": "r", "rank": 1, "label": "x"})
    count = t.run(lambda: DatabaseReader.flat_map(lambda db: db.table("items").collect()).map(len))
    assert count == 1


def test_get_by_id_fails_typed_for_a_missing_document(t: ConfectTest):
    item_id = t.mutation(fns.add, {"owner": "g", "rank": 1, "label": "x"})
    t.run(lambda: effects.gen(_delete)(item_id))
    with pytest.raises(GetByIdFailure):
        t.run(lambda: DatabaseReader.flat_map(lambda db: db.table("items").get(item_id)))


def _delete(item_id: str):
    from confect import DatabaseWriter

    db = yield from DatabaseWriter
    yield from db.table("items").delete(item_id)


class Greeter(Tag["Greeter", "GreeterService"]):
    pass


class GreeterService:
    def __init__(self, word: str) -> None:
        self.word = word


def test_with_layer_swaps_a_single_service(t: ConfectTest):
    from confect import Auth
    from confect.services.auth import AuthService, UserIdentity

    fake = UserIdentity.from_claims({"sub": "mock", "iss": "tests"})
    mocked = t.with_layer(Layer.succeed(Auth, AuthService(fake)))
    assert mocked.query(fns.me)["subject"] == "mock"
    with_greeter = t.with_layer(Layer.succeed(Greeter, GreeterService("hi")))
    assert with_greeter.run(Greeter.map(lambda g: g.word)) == "hi"


async def test_async_twins(t: ConfectTest):
    await t.amutation(fns.add, {"owner": "as", "rank": 1, "label": "x"})
    assert len(await t.aquery(fns.by_owner, {"owner": "as"})) == 1
    assert await t.aaction(fns.whoami) is None


def test_reads_first_ranges_filters_unique_and_normalize_id(t: ConfectTest):
    for rank, label in [(1, "a"), (2, "b"), (3, "c")]:
        t.mutation(fns.add, {"owner": "o", "rank": rank, "label": label})
    assert t.query(fns.reads_variety, {"owner": "o"}) == {
        "first": "a",
        "high": ["b", "c"],
        "filtered": ["b", "c"],
        "unique": "b",
        "normalized": True,
        "not_items": None,
    }
    from confect import NotUniqueError

    with pytest.raises(NotUniqueError):
        t.query(fns.not_unique)


def test_patch_merges_replace_swaps_and_writes_are_validated(t: ConfectTest):
    item_id = t.mutation(fns.add, {"owner": "p", "rank": 1, "label": "x"})
    assert t.mutation(fns.patch_and_replace, {"id": item_id}) == ["patched", "other", "replaced"]
    with pytest.raises(ValidationError, match=r"document\.label: required field is missing"):
        t.mutation(fns.remove_required_field, {"id": item_id})
    with pytest.raises(ValidationError, match=r"document\.rank: expected number, got 'high'"):
        t.mutation(fns.insert_bad_document)


def test_return_values_are_validated(t: ConfectTest):
    with pytest.raises(ValidationError, match="return value: expected string, got 5"):
        t.query(fns.returns_wrong_type)


def test_transaction_write_limit_is_a_typed_error(t: ConfectTest, monkeypatch: pytest.MonkeyPatch):
    from confect import TransactionLimitError
    from confect.runtime import transaction

    monkeypatch.setattr(transaction, "MAX_WRITES", 5)
    t.mutation(fns.write_many, {"n": 5})
    with pytest.raises(TransactionLimitError, match="more than 5 documents"):
        t.mutation(fns.write_many, {"n": 6})
    assert len(t.query(fns.logs)) == 5  # the failed mutation wrote nothing


def test_a_failure_shows_the_users_code_lines(t: ConfectTest):
    import traceback

    with pytest.raises(RuntimeError) as raised:
        t.mutation(fns.add_then_crash, {"label": "x"})
    frames = [frame.filename for frame in traceback.extract_tb(raised.value.__traceback__)]
    assert frames[-1].endswith("sample_app/fns.py")  # the raise in the handler is the last line
    assert frames.count(frames[-1]) == 1


def test_crons_compute_their_next_runs():
    import datetime as dt

    from confect import Crons, SchemaError

    crons = Crons()
    crons.interval("tick", fns.log, {"message": "t"}, minutes=5)
    crons.cron("quarter", "*/15 9-17 * * 1-5", fns.log)
    crons.daily("nightly", fns.log, hour_utc=3, minute_utc=30)
    start = dt.datetime(2026, 11, 27, 16, 50, tzinfo=dt.UTC).timestamp() * 1000  # a Friday
    assert crons.jobs["tick"].next_after(start) == start + 300_000

    def at(ms: float) -> dt.datetime:
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)

    quarter = crons.jobs["quarter"]
    assert at(quarter.next_after(start)) == dt.datetime(2026, 11, 27, 17, 0, tzinfo=dt.UTC)
    moment = start
    for _ in range(5):  # 17:00, 17:15, 17:30, 17:45, then Monday morning
        moment = quarter.next_after(moment)
    assert at(moment) == dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)  # Monday
    assert at(crons.jobs["nightly"].next_after(start)) == dt.datetime(
        2026, 11, 28, 3, 30, tzinfo=dt.UTC
    )
    with pytest.raises(SchemaError, match="two cron jobs"):
        crons.daily("nightly", fns.log)
    with pytest.raises(SchemaError, match="not a valid cron expression"):
        crons.cron("bad", "61 * * * *", fns.log)


def test_a_deleted_files_blob_waits_for_transactions_that_could_still_read_it(t: ConfectTest):
    stored = t.action(fns.store_file, {"data": b"kept a while"})
    sha = t.run(lambda: _metadata(stored["id"]))["sha256"]
    reader = t.backend.new_transaction()  # began before the delete: may still read the file
    t.action(fns.delete_file, {"file_id": stored["id"]})
    assert t.backend.engine.get_blob(sha) == b"kept a while"
    t.backend.finish(reader)
    assert t.backend.engine.get_blob(sha) is None


def _metadata(file_id: str):
    from confect import StorageReader

    return StorageReader.flat_map(lambda storage: storage.get_metadata(file_id))
