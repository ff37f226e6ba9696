"""Each call of a function is a span named by its kind and path, with its outcome and its
retries; the calls its runners make are its child spans."""

import pytest

import effects
from confect import (
    App,
    DatabaseReader,
    DatabaseWriter,
    QueryRunner,
    Scheduler,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.testing import ConfectTest
from effects import Tracer
from effects.tracing import RecordingTracer


class Refused(effects.TaggedError):
    pass


SCHEMA = define_schema(items=define_table({"n": v.number()}))


@query()
def count():
    db = yield from DatabaseReader
    return float(len((yield from db.table("items").collect())))


@mutation()
def add_after_counting():
    runner = yield from QueryRunner
    seen = yield from runner.run_query(count, {})
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"n": seen})
    return seen


@mutation()
def refuse():
    yield from effects.fail(Refused())


RACER: list[ConfectTest] = []  # a commit racing `add_racing`, made once from inside it


@mutation()
def add_racing():
    db = yield from DatabaseReader
    seen = len((yield from db.table("items").collect()))
    if RACER:
        yield from effects.sync(lambda: RACER.pop().mutation(add_after_counting))
    writer = yield from DatabaseWriter
    yield from writer.table("items").insert({"n": float(seen)})


@mutation()
def schedule_adding():
    scheduler = yield from Scheduler
    yield from scheduler.run_after(0, add_after_counting, {})


APP = App(
    {
        "items:schedule_adding": schedule_adding,
        "items:count": count,
        "items:add_after_counting": add_after_counting,
        "items:refuse": refuse,
        "items:add_racing": add_racing,
    },
    SCHEMA,
)


@pytest.fixture
def recorder() -> RecordingTracer:
    return RecordingTracer()


@pytest.fixture
def t(recorder: RecordingTracer) -> ConfectTest:
    return ConfectTest(APP).with_layer(Tracer.layer(recorder))


def test_a_query_is_a_span_named_by_kind_and_path_that_ends_ok(
    t: ConfectTest, recorder: RecordingTracer
):
    assert t.query(count) == 0
    [span] = recorder.spans
    assert span.name == "query items:count"
    assert span.attributes == {"confect.function": "items:count", "confect.kind": "query"}
    assert (span.kind, span.status, span.parent) == ("server", "ok", None)
    assert span.end is not None and span.end >= span.start


def test_a_query_run_by_a_mutation_is_the_mutations_child_span(
    t: ConfectTest, recorder: RecordingTracer
):
    t.mutation(add_after_counting)
    outer = recorder.named("mutation items:add_after_counting")
    inner = recorder.named("query items:count")
    assert inner.parent is outer and inner.trace_id == outer.trace_id
    assert (outer.status, inner.status, inner.kind) == ("ok", "ok", "internal")


def test_a_failing_mutation_ends_its_span_with_error(t: ConfectTest, recorder: RecordingTracer):
    with pytest.raises(Refused):
        t.mutation(refuse)
    span = recorder.named("mutation items:refuse")
    assert span.status == "error" and span.error is not None and "Refused" in span.error


def test_a_mutation_run_again_after_a_conflict_counts_its_retries(
    t: ConfectTest, recorder: RecordingTracer
):
    RACER.append(t)
    t.mutation(add_racing)
    assert recorder.named("mutation items:add_racing").attributes["confect.retries"] == 1
    assert "confect.retries" not in recorder.named("mutation items:add_after_counting").attributes


def test_a_scheduled_job_is_a_span_of_its_own(t: ConfectTest, recorder: RecordingTracer):
    t.mutation(schedule_adding)
    t.finish_scheduled_functions()
    job = recorder.named("mutation items:add_after_counting")
    assert (job.parent, job.status) == (None, "ok")
    assert recorder.named("query items:count").parent is job
