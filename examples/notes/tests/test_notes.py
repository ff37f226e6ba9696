"""The notes app, tested with ConfectTest (the `confect_test` fixture comes from confect's
pytest plugin)."""

import pytest

from confect import GetByIdFailure, NoUserIdentityFoundError
from confect.testing import ConfectTest
from effects import Layer

from ..digest import Summarizer, SummarizerService
from ..notes import (
    NotAllowed,
    add,
    digests,
    edit,
    list_by_author,
    page,
    remove,
    schedule_digest,
    search,
)
from ..schema import Note


def test_add_and_list(confect_test: ConfectTest):
    alice = confect_test.with_identity(subject="alice", name="Alice")
    alice.mutation(add, {"text": "hi"})
    alice.mutation(add, {"text": "there", "tags": ["x"]})
    notes = confect_test.query(list_by_author, {"author": "alice"})
    assert [n.text for n in notes] == ["there", "hi"]  # newest first
    assert notes[0].tags == ["x"]


def test_adding_needs_a_signed_in_user(confect_test: ConfectTest):
    with pytest.raises(NoUserIdentityFoundError):
        confect_test.mutation(add, {"text": "anonymous"})
    assert confect_test.query(list_by_author, {"author": ""}) == []


def test_only_the_author_can_edit(confect_test: ConfectTest):
    note_id = confect_test.with_identity(subject="alice").mutation(add, {"text": "mine"})
    with pytest.raises(NotAllowed) as refused:
        confect_test.with_identity(subject="bob").mutation(edit, {"note_id": note_id, "text": "x"})
    assert refused.value.reason == "only the author can edit a note"
    confect_test.with_identity(subject="alice").mutation(
        edit, {"note_id": note_id, "text": "edited"}
    )
    assert confect_test.query(list_by_author, {"author": "alice"})[0].text == "edited"


def test_remove_then_edit_fails_typed(confect_test: ConfectTest):
    alice = confect_test.with_identity(subject="alice")
    note_id = alice.mutation(add, {"text": "short-lived"})
    alice.mutation(remove, {"note_id": note_id})
    with pytest.raises(GetByIdFailure):
        alice.mutation(edit, {"note_id": note_id, "text": "x"})


def test_search_finds_by_words_and_prefix(confect_test: ConfectTest):
    alice = confect_test.with_identity(subject="alice")
    alice.mutation(add, {"text": "buy oat milk"})
    alice.mutation(add, {"text": "call the plumber"})
    confect_test.with_identity(subject="bob").mutation(add, {"text": "milk the cows"})
    # as relevant as each other: the newest first, as Convex orders them
    assert [n.text for n in confect_test.query(search, {"text": "milk"})] == [
        "milk the cows",
        "buy oat milk",
    ]
    [plumber] = confect_test.query(search, {"text": "plum"})
    assert plumber.text == "call the plumber" and isinstance(plumber, Note)
    assert [n.author for n in confect_test.query(search, {"text": "milk", "author": "bob"})] == [
        "bob"
    ]


def test_pages(confect_test: ConfectTest):
    alice = confect_test.with_identity(subject="alice")
    for i in range(5):
        alice.mutation(add, {"text": f"note {i}"})
    first = confect_test.query(page, {"num_items": 2})
    second = confect_test.query(page, {"num_items": 2, "cursor": first["continue_cursor"]})
    third = confect_test.query(page, {"num_items": 2, "cursor": second["continue_cursor"]})
    assert first["page"] + second["page"] + third["page"] == [f"note {i}" for i in range(5)]
    assert third["is_done"] and not first["is_done"]


def test_digest_action_runs_later_with_a_fake_summarizer(confect_test: ConfectTest):
    class FakeSummarizer(SummarizerService):
        def summarize(self, texts: list[str]) -> str:
            return "|".join(texts)

    t = confect_test.with_layer(Layer.succeed(Summarizer, FakeSummarizer()))
    alice = t.with_identity(subject="alice")
    alice.mutation(add, {"text": "one"})
    alice.mutation(add, {"text": "two"})
    t.mutation(schedule_digest, {"author": "alice", "delay_seconds": 3600})
    assert t.query(digests, {"author": "alice"}) == []
    t.finish_scheduled_functions()
    assert t.query(digests, {"author": "alice"}) == ["two|one"]


def test_the_real_summarizer_from_the_app_layer():
    t = ConfectTest("examples.notes")
    t.with_identity(subject="alice").mutation(add, {"text": "a b c"})
    t.mutation(schedule_digest, {"author": "alice", "delay_seconds": 1})
    t.finish_scheduled_functions()
    assert t.query(digests, {"author": "alice"}) == ["1 notes, 3 words"]
