"""Pagination's values, as Convex's `PaginationOptions` and `PaginationResult`: what a
paginated query takes (`paginationOpts`) and what `paginate` gives (sent as
`{page, isDone, continueCursor}`, with `pageStatus` and `splitCursor` when Convex gives
them)."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

import attrs

from confect.model.wire import WIRE_NAME

PageStatus = Literal["SplitRecommended", "SplitRequired"]
T = TypeVar("T")


@attrs.frozen
class PaginationOptions:
    """Where a page starts (`cursor`; None: at the beginning) and how it ends: at
    `end_cursor` exactly if given (the reactive clients pin their pages' ends with it),
    else after `num_items` documents, or earlier once `maximum_rows_read` documents or
    `maximum_bytes_read` bytes were read. `id` is the client's own (usePaginatedQuery's)."""

    num_items: int
    cursor: str | None = None
    end_cursor: str | None = None
    maximum_rows_read: int | None = None
    maximum_bytes_read: int | None = None
    id: float | None = None


@attrs.frozen
class PaginationResult(Generic[T]):
    """One page: `page`, whether the query is exhausted (`is_done`), the cursor to continue
    from (`continue_cursor`, never empty); `page_status` "SplitRequired" when a read limit
    ended the page early, "SplitRecommended" when it read close to the limits; and
    `split_cursor`, a cursor about halfway through the page (once it read more than two
    documents of an index), where a client may split it in two."""

    page: list[T]
    is_done: bool = attrs.field(metadata={WIRE_NAME: "isDone"})
    continue_cursor: str = attrs.field(metadata={WIRE_NAME: "continueCursor"})
    page_status: PageStatus | None = attrs.field(default=None, metadata={WIRE_NAME: "pageStatus"})
    split_cursor: str | None = attrs.field(default=None, metadata={WIRE_NAME: "splitCursor"})
