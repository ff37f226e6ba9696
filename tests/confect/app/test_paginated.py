"""`@paginated_query` and `@internal_paginated_query`: the arguments are the declared ones
plus `paginationOpts`, the handler gets them as `pagination_opts`, the result is validated
as `v.pagination_result(item)`."""

from typing import Any

import pytest

from confect import (
    PaginationOptions,
    PaginationResult,
    SchemaError,
    ValidationError,
    paginated_query,
    v,
)
from confect.testing import ConfectTest
from tests.confect.services.sample_app import fns, pages

APP = "tests.confect.services.sample_app"


@pytest.fixture
def t() -> ConfectTest:
    t = ConfectTest(APP)
    for rank in (3, 1, 5, 2, 4):
        t.mutation(fns.add, {"owner": "ann", "rank": rank, "label": f"a{rank}"})
    t.mutation(fns.add, {"owner": "bob", "rank": 1, "label": "b1"})
    return t


def _all_pages(t: ConfectTest, function: Any, args: dict[str, Any]) -> list[PaginationResult]:
    results: list[PaginationResult] = []
    cursor = None
    while not results or not results[-1].is_done:
        options = {"numItems": 2, "cursor": cursor}
        results.append(t.query(function, {**args, "paginationOpts": options}))
        cursor = results[-1].continue_cursor
    return results


def test_a_paginated_query_pages_to_the_end_with_its_own_arguments(t: ConfectTest):
    results = _all_pages(t, pages.owned, {"owner": "ann"})
    assert all(isinstance(result, PaginationResult) for result in results)
    assert [[d.label for d in r.page] for r in results] == [["a1", "a2"], ["a3", "a4"], ["a5"]]


def test_an_internal_paginated_query_validates_each_item(t: ConfectTest):
    results = _all_pages(t, pages.labels, {})
    assert [label for r in results for label in r.page] == ["a3", "a1", "a5", "a2", "a4", "b1"]
    assert pages.labels.visibility == "internal" and pages.owned.visibility == "public"


def test_a_paginated_query_takes_pagination_options_as_python_values(t: ConfectTest):
    result = t.query(pages.owned, {"owner": "ann", "paginationOpts": PaginationOptions(4)})
    assert [d.label for d in result.page] == ["a1", "a2", "a3", "a4"]
    assert result.split_cursor is not None  # its returns validator keeps splitCursor


def test_a_paginated_query_needs_its_pagination_opts(t: ConfectTest):
    with pytest.raises(ValidationError, match="paginationOpts"):
        t.query(pages.owned, {"owner": "ann"})


def test_a_paginated_query_declares_its_arguments_and_result_for_clients():
    assert pages.owned.args is not None
    assert set(pages.owned.args.fields) == {"owner", "paginationOpts"}
    assert pages.owned.returns is not None
    assert pages.owned.returns.describe() == v.pagination_result(v.doc("items")).describe()
    assert pages.owned.name.endswith("owned") and pages.owned.handler.__doc__


def test_declaring_pagination_opts_yourself_is_a_schema_error():
    with pytest.raises(SchemaError, match="paginationOpts"):
        paginated_query(args={"paginationOpts": v.pagination_opts()}, item=v.string())


def test_a_handler_must_take_pagination_opts_and_its_own_arguments():
    decorate = paginated_query(args={"owner": v.string()}, item=v.string())
    with pytest.raises(SchemaError, match="paginationOpts"):
        decorate(lambda owner: None)
    with pytest.raises(SchemaError, match="no args validator"):
        decorate(lambda owner, pagination_opts, extra: None)
