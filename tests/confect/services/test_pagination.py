"""Pagination as Convex's clients drive it: `paginationOpts` in, `{page, isDone,
continueCursor}` out, end cursors honoured exactly, read limits, split cursors, one
paginate per function, the journal a query run leaves, and paginated search queries."""

from typing import Any

import pytest

import effects
from confect import MultiplePaginatedQueriesError, PaginationOptions, PaginationResult, v
from confect.runtime.execution import QueryResult
from confect.testing import ConfectTest

from .sample_app import fns, pages

APP = "tests.confect.services.sample_app"


@pytest.fixture
def t() -> ConfectTest:
    t = ConfectTest(APP)
    for rank in range(1, 6):
        t.mutation(fns.add, {"owner": "ann", "rank": rank, "label": f"a{rank}"})
    return t


def _page(t: ConfectTest, order: str = "asc", **opts: Any) -> dict[str, Any]:
    options = {"cursor": None, **opts}
    return t.query(pages.page, {"owner": "ann", "order": order, "paginationOpts": options})


def _labels(result: dict[str, Any]) -> list[str]:
    return [d["label"] for d in result["page"]]


def test_a_page_reaches_the_client_in_convex_shape(t: ConfectTest):
    result = _page(t, numItems=2)
    assert set(result) == {"page", "isDone", "continueCursor"}
    assert _labels(result) == ["a1", "a2"] and result["isDone"] is False


def test_a_full_last_page_is_not_done_then_an_empty_page_is(t: ConfectTest):
    first = _page(t, numItems=5)
    assert len(first["page"]) == 5 and not first["isDone"]
    last = _page(t, numItems=5, cursor=first["continueCursor"])
    assert last["page"] == [] and last["isDone"] is True


def test_a_finished_query_has_a_non_empty_cursor_in_either_order(t: ConfectTest):
    for order in ("asc", "desc"):
        done = _page(t, order, numItems=10)
        assert done["isDone"] and done["continueCursor"]
        again = _page(t, order, numItems=10, cursor=done["continueCursor"])
        assert again["page"] == [] and again["isDone"]


def test_an_end_cursor_gives_exactly_the_documents_up_to_it(t: ConfectTest):
    first = _page(t, "desc", numItems=2)
    assert _labels(first) == ["a5", "a4"]
    t.mutation(fns.add, {"owner": "ann", "rank": 4.5, "label": "new"})
    t.mutation(fns.add, {"owner": "ann", "rank": 6, "label": "newest"})
    pinned = _page(t, "desc", numItems=1, endCursor=first["continueCursor"])
    assert _labels(pinned) == ["newest", "a5", "new", "a4"]  # numItems is ignored
    assert pinned["continueCursor"] == first["continueCursor"] and not pinned["isDone"]
    rest = _page(t, "desc", numItems=1, cursor=first["continueCursor"], endCursor=None)
    assert _labels(rest) == ["a3"]


def test_an_end_cursor_at_the_end_is_done(t: ConfectTest):
    done = _page(t, numItems=10)
    middle = _page(t, numItems=2)
    rest = _page(t, numItems=1, cursor=middle["continueCursor"], endCursor=done["continueCursor"])
    assert _labels(rest) == ["a3", "a4", "a5"] and rest["isDone"]


def test_maximum_rows_read_ends_a_page_early(t: ConfectTest):
    args = {"owner": "ann", "above": 3}
    result = t.query(
        pages.page_above,
        {**args, "paginationOpts": {"numItems": 5, "cursor": None, "maximumRowsRead": 2}},
    )
    # two rows read (ranks 1 and 2), neither above 3: an empty page, not done
    assert result["page"] == [] and not result["isDone"]
    assert result["pageStatus"] == "SplitRequired"
    rest = t.query(
        pages.page_above,
        {**args, "paginationOpts": {"numItems": 5, "cursor": result["continueCursor"]}},
    )
    assert _labels(rest) == ["a4", "a5"] and rest["isDone"]


def test_maximum_bytes_read_ends_a_page_early(t: ConfectTest):
    result = _page(t, numItems=5, maximumBytesRead=1)
    assert _labels(result) == ["a1"] and not result["isDone"]
    assert result["pageStatus"] == "SplitRequired"


def test_a_bad_cursor_fails_with_invalid_cursor(t: ConfectTest):
    with pytest.raises(Exception, match="InvalidCursor"):
        _page(t, numItems=1, cursor="not a cursor")


def test_two_paginated_queries_in_one_function_fail_as_convex_fails_them(t: ConfectTest):
    with pytest.raises(MultiplePaginatedQueriesError, match="multiple paginated queries"):
        t.query(pages.two_pages, {"owner": "ann"})


def test_a_pagination_result_validator_decodes_into_pagination_result(t: ConfectTest):
    result = t.query(pages.typed_page, {"owner": "ann", "paginationOpts": PaginationOptions(2)})
    assert isinstance(result, PaginationResult)
    assert [d.label for d in result.page] == ["a1", "a2"] and not result.is_done


def test_pagination_opts_decode_into_pagination_options():
    decoded = v.pagination_opts().decode(
        {"numItems": 3.0, "cursor": None, "endCursor": "c", "maximumRowsRead": 7.0, "id": 1.0}
    )
    assert decoded == PaginationOptions(3, None, "c", maximum_rows_read=7, id=1.0)
    with pytest.raises(Exception, match="whole number"):
        v.pagination_opts().decode({"numItems": 2.5, "cursor": None})


def _run(t: ConfectTest, journal: str | None, **opts: Any) -> QueryResult:
    function = t.backend.resolve(pages.page)
    args = function.encode_args(
        {"owner": "ann", "order": "desc", "paginationOpts": {"cursor": None, **opts}}
    )
    return effects.run_sync(t.backend.query(function, args, journal=journal))


def test_a_query_run_records_its_page_end_as_its_journal(t: ConfectTest):
    first = _run(t, None, numItems=2)
    assert isinstance(first.value, dict)
    assert first.journal == first.value["continueCursor"]
    t.mutation(fns.add, {"owner": "ann", "rank": 6, "label": "a6"})
    # run again with its journal, page one grows instead of pushing a4 to page two
    again = _run(t, first.journal, numItems=2)
    assert isinstance(again.value, dict)
    assert [d["label"] for d in again.value["page"]] == ["a6", "a5", "a4"]
    assert again.journal == first.journal


def test_an_end_cursor_in_the_arguments_outranks_the_journal(t: ConfectTest):
    whole = _run(t, None, numItems=10)
    first = _run(t, None, numItems=2)
    pinned = _run(t, first.journal, numItems=2, endCursor=whole.journal)
    assert isinstance(pinned.value, dict) and len(pinned.value["page"]) == 5


def test_a_bad_journal_fails_with_invalid_cursor(t: ConfectTest):
    with pytest.raises(Exception, match="InvalidCursor"):
        _run(t, "bad journal", numItems=2)


def test_a_page_of_more_than_two_rows_has_a_split_cursor_halfway(t: ConfectTest):
    assert "splitCursor" not in _page(t, numItems=2)
    whole = _page(t, numItems=4)
    assert _labels(whole) == ["a1", "a2", "a3", "a4"] and "pageStatus" not in whole
    split = whole["splitCursor"]  # after the third row read, as Convex's index ranges put it
    before = _page(t, numItems=1, endCursor=split)
    after = _page(t, numItems=1, cursor=split, endCursor=whole["continueCursor"])
    assert _labels(before) == ["a1", "a2", "a3"] and _labels(after) == ["a4"]


def test_a_page_that_read_past_three_quarters_of_its_row_limit_recommends_a_split(
    t: ConfectTest,
):
    near = _page(t, numItems=3, maximumRowsRead=3)
    assert _labels(near) == ["a1", "a2", "a3"] and near["pageStatus"] == "SplitRecommended"
    assert "pageStatus" not in _page(t, numItems=3, maximumRowsRead=4)


# inserted out of relevance order: most relevant for "milk" first, then by creation time
_RELEVANT = [
    "milk milk milk",
    "milk milk",
    "milk",
    "oat milk with honey",
    "buy milk and bread today",
]


@pytest.fixture
def searchable(t: ConfectTest) -> ConfectTest:
    for label in ("milk", "bread and butter", "buy milk and bread today", "milk milk milk"):
        t.mutation(fns.add, {"owner": "bob", "rank": 0, "label": label})
    for label in ("oat milk with honey", "milk milk"):
        t.mutation(fns.add, {"owner": "bob", "rank": 0, "label": label})
    return t


def _search(t: ConfectTest, **opts: Any) -> dict[str, Any]:
    options = {"cursor": None, **opts}
    return t.query(pages.search_page, {"text": "milk", "paginationOpts": options})


def test_a_paginated_search_pages_through_its_results_in_relevance_order(
    searchable: ConfectTest,
):
    pages_seen: list[list[str]] = []
    cursor = None
    while True:
        result = _search(searchable, numItems=2, cursor=cursor)
        pages_seen.append(_labels(result))
        if result["isDone"]:
            break
        cursor = result["continueCursor"]
    assert pages_seen == [_RELEVANT[0:2], _RELEVANT[2:4], _RELEVANT[4:]]
    assert "splitCursor" not in result  # Convex does not split a search query's pages


def test_a_search_page_resumes_after_its_last_result_despite_writes(searchable: ConfectTest):
    first = _search(searchable, numItems=2)
    searchable.mutation(fns.add, {"owner": "bob", "rank": 0, "label": "milk milk milk milk"})
    rest = _search(searchable, numItems=10, cursor=first["continueCursor"])
    assert _labels(rest) == _RELEVANT[2:] and rest["isDone"]


def test_a_search_page_with_an_end_cursor_gives_the_results_up_to_it(searchable: ConfectTest):
    first = _search(searchable, numItems=3)
    searchable.mutation(fns.add, {"owner": "bob", "rank": 0, "label": "milk milk extra"})
    pinned = _search(searchable, numItems=1, endCursor=first["continueCursor"])
    assert _labels(pinned) == ["milk milk milk", "milk milk", "milk milk extra", "milk"]
    assert pinned["continueCursor"] == first["continueCursor"] and not pinned["isDone"]


def test_a_search_page_is_invalidated_by_a_write_it_would_find(searchable: ConfectTest):
    function = searchable.backend.resolve(pages.search_page)
    args = function.encode_args({"text": "milk", "paginationOpts": {"numItems": 2, "cursor": None}})
    seen = effects.run_sync(searchable.backend.query(function, args))
    assert not searchable.backend.invalidated_since(seen.reads, seen.ts)
    searchable.mutation(fns.add, {"owner": "bob", "rank": 0, "label": "milk milk milk milk"})
    assert searchable.backend.invalidated_since(seen.reads, seen.ts)
    again = effects.run_sync(searchable.backend.query(function, args, journal=seen.journal))
    assert isinstance(again.value, dict)
    assert [d["label"] for d in again.value["page"]] == ["milk milk milk milk", *_RELEVANT[:2]]
