"""Documents: a stored value plus its system fields, as `Doc[T]` in Python code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast, get_origin

import attrs
import cattrs

from confect.model.errors import DocumentDecodeError, ValidationError
from confect.model.ids import Id

if TYPE_CHECKING:
    from confect.model.validators import Validator
    from confect.model.values import Value

T = TypeVar("T")

CONVERTER = cattrs.Converter()
"""Turns attrs documents into plain Convex-shaped dicts (`unstructure`)."""
# an `Id[Post]` field holds the id string as it is (cattrs would take Id[Post] for a
# collection of Post, a str being iterable)
CONVERTER.register_unstructure_hook_func(
    lambda hint: hint is Id or get_origin(hint) is Id, lambda id_: id_
)


@attrs.frozen
class Doc(Generic[T]):
    """A document read from the database: `_value` (your attrs class or a dict) with the
    system fields `_id` and `_creation_time` (ms since the epoch).

    The document's own fields read through: `doc.text` is `doc._value.text`. System names
    start with `_`, which user fields cannot, so they never hide a field.

    A `Doc` read from the database keeps its stored fields (`_stored`), so returning it
    gives the document as stored: a missing field stays missing, an int64 stays one.
    """

    _id: Id[T] = attrs.field(alias="id")
    _creation_time: float = attrs.field(alias="creation_time")
    _value: T = attrs.field(alias="value")
    _stored: Mapping[str, Value] | None = attrs.field(
        alias="stored", default=None, eq=False, repr=False
    )

    def __getattr__(self, name: str) -> Any:
        value = object.__getattribute__(self, "_value")
        if isinstance(value, dict):
            try:
                return cast(dict[str, Any], value)[name]
            except KeyError:
                raise AttributeError(name) from None
        return getattr(value, name)

    def __getitem__(self, name: str) -> Any:
        if name == "_id":
            return self._id
        if name == "_creationTime":
            return self._creation_time
        return document_fields(self)[name]


def document_fields(doc: Doc[Any]) -> dict[str, Any]:
    """The user fields of `doc` as a dict (no system fields)."""
    value = doc._value  # pyright: ignore[reportPrivateUsage]
    if isinstance(value, dict):
        return dict(value)  # pyright: ignore[reportUnknownArgumentType]
    return CONVERTER.unstructure(value)


def document_value(doc: Doc[Any]) -> Value:
    """The stored Convex value of `doc`, system fields included."""
    stored = doc._stored  # pyright: ignore[reportPrivateUsage]
    return {
        **(document_fields(doc) if stored is None else stored),
        "_id": str(doc._id),  # pyright: ignore[reportPrivateUsage]
        "_creationTime": doc._creation_time,  # pyright: ignore[reportPrivateUsage]
    }


def user_fields(document: Mapping[str, Value]) -> dict[str, Value]:
    """A stored document's own fields, without the system ones (`_id`, `_creationTime`)."""
    return {name: value for name, value in document.items() if not name.startswith("_")}


def doc_from_stored(
    table: str, stored: dict[str, Value], validator: Validator[Any] | None, path: str = "document"
) -> Doc[Any]:
    """The `Doc` of a stored document of `table`, its fields decoded by the table's
    `validator` (into its document class, if it has one) when known;
    `DocumentDecodeError` if they do not fit."""
    id_ = str(stored["_id"])
    creation_time = stored.get("_creationTime")
    fields = user_fields(stored)
    if validator is None:
        value: Any = fields
    else:
        try:
            value = validator.decode(fields, path)
        except ValidationError as error:
            raise DocumentDecodeError(table=table, id=id_, message=str(error)) from None
    created = float(creation_time) if isinstance(creation_time, float) else 0.0
    return Doc(Id(id_), created, value, fields)
