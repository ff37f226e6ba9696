"""Convex's pagination convention as a client drives it: a query taking `paginationOpts`
(`{numItems, cursor}`) and returning a page (`{page, isDone, continueCursor}`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from confect.app.paginated import PAGINATION_OPTS
from confect.model.pagination import PaginationResult

__all__ = ["PAGINATION_OPTS", "options", "page_of"]


def options(page_size: int, cursor: str | None) -> dict[str, Any]:
    """The `paginationOpts` of a page of `page_size` items from `cursor`."""
    return {"numItems": page_size, "cursor": cursor}


def page_of(result: Any) -> PaginationResult[Any]:
    """A paginated query's result as a `PaginationResult`: as its `returns` decoded it
    (`v.pagination_result(...)`), or from the page object (a query without `returns`)."""
    if isinstance(result, PaginationResult):
        return cast(PaginationResult[Any], result)
    if isinstance(result, Mapping) and {"page", "isDone", "continueCursor"} <= result.keys():
        given = cast(Mapping[str, Any], result)
        return PaginationResult(
            list(given["page"]),
            bool(given["isDone"]),
            str(given["continueCursor"]),
            given.get("pageStatus"),
        )
    raise TypeError(f"a paginated query returns a page, not {result!r}")
