"""Functions through ConfectTest: per-type services, atomicity, runners, scheduler, storage, auth."""

import pytest

import effects
from confect import (
    ConvexError,
    DatabaseReader,
    Doc,
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

APP = "tests.confect.sample_app"


@pytest.fixture
def t() -> ConfectTest:
    return ConfectTest(APP)


def test_query_and_mutation_round_trip_documents(t: ConfectTest):
    item_id = t.mutation(fns.add, {"owner": "ann", "rank": 2, "label": "b"})
    t.mutation(fns.add, {"owner": "ann", "rank": 1, "label": "a"})
    found = t.query(fns.by_owner, {"owner": "ann"})
    assert [d.label for d in found] == ["a", "b"]
    assert isinstance(found[1], Doc) and found[1]._id == item_id
    assert isinstance(found[1]._value, Item)
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
