"""Documents as handlers see them: instances of the table's class with the system fields,
and tables named by their definitions."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from confect import (
    App,
    DatabaseReader,
    DatabaseWriter,
    Doc,
    Document,
    SchemaError,
    define_schema,
    define_table,
    v,
)
from confect.testing import ConfectTest
from effects import gen


@attrs.frozen
class Task(Document):
    title: str
    done: bool = False


@attrs.frozen
class Legacy:  # no Document base, and a field of its own named id
    id: str
    label: str


tasks = define_table(Task).index("by_title", ["title"])
legacies = define_table(Legacy)
events = define_table({"kind": v.string()})
schema = define_schema(tasks=tasks, legacies=legacies, events=events)


@pytest.fixture
def t() -> ConfectTest:
    return ConfectTest(App({}, schema))


def test_a_document_is_an_instance_of_the_table_class_with_its_system_fields(t: ConfectTest):
    @gen
    def write():
        writer = yield from DatabaseWriter
        return (yield from writer.table(tasks).insert(Task(title="write")))

    task_id = t.run(write)
    t.advance_time(5)

    @gen
    def read():
        reader = yield from DatabaseReader
        return (yield from reader.table(tasks).get(task_id))

    task = t.run(read)
    assert isinstance(task, Task) and task.title == "write" and task.done is False
    assert task.id == task._id == task_id
    assert task.creation_time == task._creation_time == t.clock.now() * 1000 - 5000
    assert repr(task).startswith(f"Task(_id={task_id!r}, _creation_time=")
    assert repr(task).endswith("title='write', done=False)")


def test_documents_equal_when_their_ids_and_fields_are(t: ConfectTest):
    @gen
    def write():
        writer = yield from DatabaseWriter
        first = yield from writer.table(tasks).insert(Task(title="same"))
        second = yield from writer.table(tasks).insert(Task(title="same"))
        return first, second

    first, second = t.run(write)

    @gen
    def read():
        reader = yield from DatabaseReader
        table = reader.table(tasks)
        return (
            (yield from table.get(first)),
            (yield from table.get(first)),
            (yield from table.get(second)),
        )

    a, again, b = t.run(read)
    assert a == again and hash(a) == hash(again)
    assert a != b  # same fields, other document
    assert a != Task(title="same")  # a document is not a value built by hand
    assert len({a, again, b}) == 2


def test_an_evolved_document_replaces_the_stored_one(t: ConfectTest):
    @gen
    def write():
        writer = yield from DatabaseWriter
        return (yield from writer.table(tasks).insert(Task(title="draft")))

    task_id = t.run(write)

    @gen
    def finish():
        reader = yield from DatabaseReader
        writer = yield from DatabaseWriter
        task = yield from reader.table(tasks).get(task_id)
        yield from writer.table(tasks).replace(task.id, attrs.evolve(task, done=True))
        return (yield from reader.table(tasks).get(task_id))

    done = t.run(finish)
    assert done.done is True and done.id == task_id


def test_a_built_value_has_no_system_fields():
    with pytest.raises(AttributeError, match="Task was not read from the database"):
        _ = Task(title="new").id


def test_a_class_with_its_own_id_field_keeps_it(t: ConfectTest):
    @gen
    def round_trip():
        writer = yield from DatabaseWriter
        reader = yield from DatabaseReader
        legacy_id = yield from writer.table(legacies).insert(Legacy(id="L-1", label="old"))
        return legacy_id, (yield from reader.table(legacies).get(legacy_id))

    legacy_id, legacy = t.run(round_trip)
    assert isinstance(legacy, Legacy) and legacy.id == "L-1" and legacy._id == legacy_id


def test_a_dict_table_gives_docs_with_the_same_system_names(t: ConfectTest):
    @gen
    def round_trip():
        writer = yield from DatabaseWriter
        reader = yield from DatabaseReader
        event_id = yield from writer.table(events).insert({"kind": "start"})
        return event_id, (yield from reader.table(events).get(event_id))

    event_id, event = t.run(round_trip)
    assert isinstance(event, Doc) and event.kind == "start" and event["kind"] == "start"
    assert event.id == event_id and event.creation_time == event._creation_time


def test_a_document_subclass_cannot_name_a_field_id():
    @attrs.frozen
    class Clash(Document):
        id: str

    with pytest.raises(SchemaError, match="field 'id' of Clash"):
        define_table(Clash)


def test_a_table_definition_outside_the_schema_is_refused(t: ConfectTest):
    stranger = define_table(Task)

    @gen
    def read() -> Any:
        reader = yield from DatabaseReader
        return (yield from reader.table(stranger).collect())

    with pytest.raises(SchemaError, match="not in the app's schema"):
        t.run(read)


def test_a_definition_under_two_names_must_be_named():
    shared = define_table({"kind": v.string()})
    ambiguous = define_schema(one=shared, two=shared)
    with pytest.raises(SchemaError, match="names two tables"):
        ambiguous.name_of(shared)
    assert ambiguous.name_of("one") == "one"
