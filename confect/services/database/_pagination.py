"""Reading one page of a query, as Convex's `paginate`: from a cursor to an end cursor
exactly (the caller's `end_cursor`, else a reactive query's journal), or to `num_items`
documents, or as far as the read limits allow; the page's end is recorded as the journal.

A cursor is opaque: the base64 of a marker and the scan key of the page's last document
(a search query's: its search key, so its pages follow relevance), or of the end marker
(past the last document in either order), so it is never empty.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING, TypeVar

import attrs

from confect.model.documents import doc_from_stored
from confect.model.errors import InvalidCursorError, ValidationError
from confect.model.pagination import PageStatus, PaginationOptions, PaginationResult
from confect.model.values import value_size
from confect.runtime.transaction import MAX_READ_BYTES, MAX_READS
from confect.services.database._search import MAX_SEARCH_RESULTS, search_results

if TYPE_CHECKING:
    from confect.services.database._query import Query

D = TypeVar("D")
_KEY = b"k"  # a cursor after the document with this scan key
_END = b"e"  # a cursor at the end of the query
END_CURSOR = base64.urlsafe_b64encode(_END).decode()
MAX_PAGE_LEN = 8192


@attrs.frozen
class _Position:
    """Where a cursor points: after the document with `key`, or (key None) at the end."""

    key: bytes | None


def check_options(options: PaginationOptions) -> None:
    """Refuse what Convex refuses before reading."""
    if options.num_items < 1:
        raise ValidationError(
            path="paginate.num_items", message=f"must be at least 1, got {options.num_items}"
        )
    if options.maximum_rows_read == 0 or options.maximum_bytes_read == 0:
        raise ValidationError(
            path="paginate",
            message="maximumRowsRead and maximumBytesRead must be greater than 0",
        )


def read_page(query: Query[D], options: PaginationOptions) -> PaginationResult[D]:
    """The page of `query` that `options` ask for; its end becomes the journal."""
    tx = query.tx
    end_cursor = options.end_cursor if options.end_cursor is not None else tx.journal_in
    start = None if options.cursor is None else _position(options.cursor)
    end = None if end_cursor is None else _position(end_cursor)
    if query.search is not None:
        result = _read_search(query, start, end, options)
    else:
        result = _read(query, _bounded(query, start, end), options, end is not None)
    if end_cursor is not None:
        assert end is not None
        result = attrs.evolve(result, is_done=end.key is None, continue_cursor=end_cursor)
    tx.record_page_end(result.continue_cursor)
    return result


def _read(
    query: Query[D], bounded: Query[D], options: PaginationOptions, to_end: bool
) -> PaginationResult[D]:
    """Up to `num_items` documents of `bounded` (every one, `to_end`), ending early at
    the read limits (then "SplitRequired"), with a split cursor halfway through the rows
    read once there are more than two, as Convex's index ranges give."""
    page: list[D] = []
    read: list[bytes] = []
    size = 0

    def ended(cursor: str, status: PageStatus | None = None) -> PaginationResult[D]:
        rows_limit = min(options.maximum_rows_read or MAX_READS, MAX_READS)
        bytes_limit = min(options.maximum_bytes_read or MAX_READ_BYTES, MAX_READ_BYTES)
        near = len(read) > _soft(rows_limit) or size > _soft(bytes_limit)
        split = _cursor(read[len(read) // 2]) if len(read) > 2 else None
        return _ended(page, cursor, status, split, near)

    if bounded.lo >= bounded.hi:
        return ended(END_CURSOR)
    scan = query.tx.scan_keyed(
        query.table, query.index, bounded.lo, bounded.hi, query.order_ == "desc"
    )
    for key, document in scan:
        read.append(key)
        size += value_size(document)
        if all(f(document) for f in query.filters):
            page.append(doc_from_stored(query.table, document, query.validator))
        if to_end:
            continue
        if len(page) == options.num_items:
            return ended(_cursor(key))
        if _over(len(read), options.maximum_rows_read) or _over(size, options.maximum_bytes_read):
            return ended(_cursor(key), "SplitRequired")
    return ended(END_CURSOR)


def _read_search(
    query: Query[D], start: _Position | None, end: _Position | None, options: PaginationOptions
) -> PaginationResult[D]:
    """Up to `num_items` of the search's results after `start` (every one up to `end`, if
    given), in relevance order. As Convex's, a search page has no split cursor, and its
    soft limits are those of the search (1024 results) and the transaction's bytes."""
    page: list[D] = []
    size = 0

    def ended(cursor: str) -> PaginationResult[D]:
        near = len(page) > _soft(MAX_SEARCH_RESULTS) or size > _soft(MAX_READ_BYTES)
        return _ended(page, cursor, None, None, near)

    for key, document in search_results(query):
        if start is not None and (start.key is None or key <= start.key):
            continue
        if end is not None and end.key is not None and key > end.key:
            break
        size += value_size(document)
        page.append(doc_from_stored(query.table, document, query.validator))
        if end is None and len(page) == options.num_items:
            return ended(_cursor(key))
    return ended(END_CURSOR)


def _ended(
    page: list[D], cursor: str, status: PageStatus | None, split: str | None, near: bool
) -> PaginationResult[D]:
    """The page that ends at `cursor`: "SplitRecommended" when nothing else ended it but
    it read past Convex's soft limits (`near`: three quarters of the hard ones) or holds
    over three quarters of 8192 documents."""
    if status is None and (near or len(page) > _soft(MAX_PAGE_LEN)):
        status = "SplitRecommended"
    return PaginationResult(page, cursor == END_CURSOR, cursor, status, split)


def _soft(limit: int) -> int:
    return limit * 3 // 4


def _over(count: int, limit: int | None) -> bool:
    return limit is not None and count >= limit


def _bounded(query: Query[D], start: _Position | None, end: _Position | None) -> Query[D]:
    """`query` narrowed to the documents after `start` up to and with `end`."""
    lo, hi = query.lo, query.hi
    ascending = query.order_ == "asc"
    if start is not None:
        if start.key is None:
            lo = hi  # after the end: nothing
        elif ascending:
            lo = max(lo, start.key + b"\x00")
        else:
            hi = min(hi, start.key)
    if end is not None and end.key is not None:
        if ascending:
            hi = min(hi, end.key + b"\x00")
        else:
            lo = max(lo, end.key)
    return attrs.evolve(query, lo=lo, hi=hi)


def _cursor(key: bytes) -> str:
    return base64.urlsafe_b64encode(_KEY + key).decode()


def _position(cursor: str) -> _Position:
    try:
        raw = base64.urlsafe_b64decode(cursor.encode())
    except (binascii.Error, ValueError):
        raise InvalidCursorError(cursor=cursor) from None
    if raw == _END:
        return _Position(None)
    if raw[:1] != _KEY:
        raise InvalidCursorError(cursor=cursor)
    return _Position(raw[1:])
