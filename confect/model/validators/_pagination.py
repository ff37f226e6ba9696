"""The validators of Convex's pagination shapes: `v.pagination_opts()`
(`paginationOptsValidator`) and `v.pagination_result(item)` (`paginationResultValidator`),
which decode into `PaginationOptions` and `PaginationResult`."""

from __future__ import annotations

from typing import Any, cast

from confect.model.errors import ValidationError
from confect.model.pagination import PaginationOptions, PaginationResult
from confect.model.validators._base import Validator
from confect.model.validators._classes import (
    ArrayV,
    BooleanV,
    Float64V,
    LiteralV,
    NullV,
    ObjectV,
    OptionalV,
    StringV,
    UnionV,
)
from confect.model.values import MISSING, Value

_CURSOR = UnionV(StringV(), NullV())


class PaginationOptsV(ObjectV[PaginationOptions]):
    """`{numItems, cursor, endCursor?, id?, maximumRowsRead?, maximumBytesRead?}` (numbers
    as Convex has them), decoded into `PaginationOptions`; counts must be whole numbers."""

    def __init__(self) -> None:
        super().__init__(
            {
                "numItems": Float64V(),
                "cursor": _CURSOR,
                "endCursor": OptionalV(_CURSOR),
                "id": OptionalV(Float64V()),
                "maximumRowsRead": OptionalV(Float64V()),
                "maximumBytesRead": OptionalV(Float64V()),
            }
        )

    def encode(self, value: Any, path: str = "value") -> Value:
        if isinstance(value, PaginationOptions):
            value = {
                "numItems": value.num_items,
                "cursor": value.cursor,
                "endCursor": value.end_cursor,
                "id": value.id,
                "maximumRowsRead": value.maximum_rows_read,
                "maximumBytesRead": value.maximum_bytes_read,
            }
        return super().encode(value, path)

    def decode(self, value: Value, path: str = "value") -> PaginationOptions:
        given = cast(dict[str, Any], ObjectV(self.fields).decode(value, path))
        return PaginationOptions(
            num_items=_count(given["numItems"], f"{path}.numItems"),
            cursor=given["cursor"],
            end_cursor=_present(given, "endCursor"),
            maximum_rows_read=_count_or_none(
                _present(given, "maximumRowsRead"), f"{path}.maximumRowsRead"
            ),
            maximum_bytes_read=_count_or_none(
                _present(given, "maximumBytesRead"), f"{path}.maximumBytesRead"
            ),
            id=_present(given, "id"),
        )

    def describe(self) -> str:
        return "pagination_opts()"


class PaginationResultV(ObjectV[PaginationResult[Any]]):
    """`{page, isDone, continueCursor, splitCursor?, pageStatus?}` with `item` validating
    each of the page's values, decoded into `PaginationResult`."""

    def __init__(self, item: Validator[Any]) -> None:
        super().__init__(
            {
                "page": ArrayV(item),
                "isDone": BooleanV(),
                "continueCursor": StringV(),
                "splitCursor": OptionalV(_CURSOR),
                "pageStatus": OptionalV(
                    UnionV(LiteralV("SplitRecommended"), LiteralV("SplitRequired"), NullV())
                ),
            }
        )
        self.item = item

    def encode(self, value: Any, path: str = "value") -> Value:
        if isinstance(value, PaginationResult):
            result = cast(PaginationResult[Any], value)
            value = {
                "page": result.page,
                "isDone": result.is_done,
                "continueCursor": result.continue_cursor,
                "pageStatus": result.page_status,
                "splitCursor": result.split_cursor,
            }
        return super().encode(value, path)

    def decode(self, value: Value, path: str = "value") -> PaginationResult[Any]:
        given = cast(dict[str, Any], ObjectV(self.fields).decode(value, path))
        return PaginationResult(
            given["page"],
            given["isDone"],
            given["continueCursor"],
            _present(given, "pageStatus"),
            _present(given, "splitCursor"),
        )

    def describe(self) -> str:
        return f"pagination_result({self.item.describe()})"


def _present(given: dict[str, Any], name: str) -> Any:
    """An optional field's value, None when it is missing or null (both mean "not given")."""
    value = given.get(name)
    return None if value is MISSING else value


def _count(number: float, path: str) -> int:
    if number != int(number):
        raise ValidationError(path=path, message=f"expected a whole number, got {number!r}")
    return int(number)


def _count_or_none(number: float | None, path: str) -> int | None:
    return None if number is None else _count(number, path)
