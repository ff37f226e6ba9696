"""Calling functions: arguments as keywords or as one dict, through refs made at import."""

import pytest

from confect import load_app, refs
from confect.testing import ConfectTest

from .calls_app import notes

APP = "tests.confect.app.calls_app"


def test_runners_and_the_scheduler_take_keywords_through_refs_made_at_import() -> None:
    t = ConfectTest(APP)
    assert t.action(notes.add_twice, author="ann") == 2
    assert t.query(notes.count, author="ann") == 2
    t.finish_scheduled_functions()
    assert t.query(notes.count, {"author": "ann"}) == 3
    assert refs(APP).api.notes.add is notes.add


def test_arguments_go_as_keywords_or_one_dict_not_both() -> None:
    t = ConfectTest(APP)
    assert t.mutation(notes.add, author="bo") == 1
    assert t.mutation("notes:add", {"author": "bo"}) == 2
    with pytest.raises(TypeError, match="not both"):
        t.query("notes:count", {"author": "bo"}, author="bo")
    with pytest.raises(TypeError, match="not positionally"):
        t.query(notes.count, "bo")  # pyright: ignore[reportCallIssue, reportArgumentType]


def test_refs_used_while_their_app_imports_are_an_error() -> None:
    with pytest.raises(RuntimeError, match="while its modules were being imported"):
        load_app("tests.confect.app.eager_refs_app")
