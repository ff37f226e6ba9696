"""Documents: a stored value plus its system fields `_id` and `_creationTime`.

A document of a table whose documents are an attrs class is an instance of that class (of
a subclass that adds the system fields), so its fields have their declared types; a
document of a dict or union table is a `Doc`, whose fields read through as attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar, cast, get_origin

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

SYSTEM_ATTRIBUTES = ("id", "creation_time")
"""The names `Document` gives the system fields, which its subclasses' fields cannot take."""


class Document:
    """The base of a table's attrs class that gives its documents typed system fields:
    `doc.id` (an `Id` of the class) and `doc.creation_time` (ms since the epoch).

    Subclassing is optional: every document read from the database has `_id` and
    `_creation_time`; this base names them so that pyright (which treats `_`-names as
    protected) types them. An instance you build yourself (to insert it) has neither.
    """

    __slots__ = ()

    if TYPE_CHECKING:
        _id: Id[Any]
        _creation_time: float

    @property
    def id(self) -> Id[Self]:
        """The document's `_id`."""
        return _system_field(self, "_id")

    @property
    def creation_time(self) -> float:
        """The document's `_creationTime`: when it was inserted, in ms since the epoch."""
        return _system_field(self, "_creation_time")


def _system_field(document: object, name: str) -> Any:
    try:
        return object.__getattribute__(document, name)
    except AttributeError:
        raise AttributeError(
            f"this {type(document).__name__} was not read from the database, so it has no {name}"
        ) from None


class _Stored:
    """The system fields of a document of an attrs class, mixed into a subclass of it
    (see `stored_class`). Two documents are equal when their ids, creation times and
    fields are."""

    __slots__ = ()

    if TYPE_CHECKING:
        _id: Id[Any]
        _creation_time: float
        _stored: Mapping[str, Value] | None

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        same = _system(self) == _system(other)
        return same and cast(bool, super().__eq__(other))

    def __hash__(self) -> int:
        return hash(tuple(_system(self).values()))

    def __repr__(self) -> str:
        fields = super().__repr__()
        open_at = fields.index("(") + 1
        system = ", ".join(f"{name}={value!r}" for name, value in _system(self).items())
        rest = fields[open_at:]
        return f"{fields[:open_at]}{system}{', ' if rest != ')' else ''}{rest}"


def _system(document: object) -> dict[str, Any]:
    return {name: getattr(document, name, None) for name in ("_id", "_creation_time")}


_STORED_CLASSES: dict[type[Any], type[Any]] = {}


def stored_class(cls: type[T]) -> type[T]:
    """The subclass of the attrs class `cls` whose instances are documents read from the
    database: `cls`'s fields plus the system fields (and, unless `cls` has fields of
    those names, `Document`'s `id` and `creation_time`)."""
    found = _STORED_CLASSES.get(cls)
    if found is None:
        names = {field.name for field in attrs.fields(cls)}
        bases: tuple[type[Any], ...] = (_Stored, cls)
        if not issubclass(cls, Document) and not names & set(SYSTEM_ATTRIBUTES):
            bases = (*bases, Document)
        namespace = {
            "__slots__": ("_id", "_creation_time", "_stored"),
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
        }
        found = _STORED_CLASSES[cls] = type(cls.__name__, bases, namespace)
    return cast(type[T], found)


def document_class_of(stored: type[Any]) -> type[Any]:
    """The user's class of a stored-document class (the class itself for any other)."""
    return stored.__mro__[1] if issubclass(stored, _Stored) else stored


@attrs.frozen
class Doc(Document, Generic[T]):
    """A document of a dict or union table: its fields `_value` (a dict) with the system
    fields `_id` and `_creation_time` (ms since the epoch), also named `id` and
    `creation_time`.

    The document's own fields read through: `doc.text` is `doc["text"]`. System names
    start with `_`, which user fields cannot, so they never hide a field (a field named
    `id` or `creation_time` is read as `doc["id"]`).

    A `Doc` read from the database keeps its stored fields (`_stored`), so returning it
    gives the document as stored: a missing field stays missing, an int64 stays one.
    """

    _id: Id[Any] = attrs.field(alias="id")
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


def is_document(value: object) -> bool:
    """Whether `value` is a document read from the database (system fields included)."""
    return isinstance(value, Doc) or (
        isinstance(value, _Stored) and getattr(value, "_id", None) is not None
    )


def document_fields(doc: object) -> dict[str, Any]:
    """The user fields of a document as a dict (no system fields)."""
    if isinstance(doc, Doc):
        value = cast(object, doc._value)  # pyright: ignore[reportPrivateUsage, reportUnknownMemberType]
        if isinstance(value, dict):
            return dict(cast(dict[str, Any], value))
        return CONVERTER.unstructure(value)
    return CONVERTER.unstructure(doc, unstructure_as=document_class_of(type(doc)))


def document_value(doc: Any) -> Value:
    """The stored Convex value of a document (see `is_document`), system fields included."""
    stored = cast("Mapping[str, Value] | None", getattr(doc, "_stored", None))
    return {
        **(document_fields(doc) if stored is None else stored),
        "_id": str(doc._id),
        "_creationTime": doc._creation_time,
    }


def user_fields(document: Mapping[str, Value]) -> dict[str, Value]:
    """A stored document's own fields, without the system ones (`_id`, `_creationTime`)."""
    return {name: value for name, value in document.items() if not name.startswith("_")}


def doc_from_stored(
    table: str, stored: dict[str, Value], validator: Validator[Any] | None, path: str = "document"
) -> Any:
    """The document of a stored document of `table`, its fields decoded by the table's
    `validator` when known: an instance of its document class (see `stored_class`), or a
    `Doc`; `DocumentDecodeError` if they do not fit."""
    id_: Id[Any] = Id(str(stored["_id"]))
    creation_time = stored.get("_creationTime")
    created = float(creation_time) if isinstance(creation_time, float) else 0.0
    fields = user_fields(stored)
    if validator is None:
        return Doc(id_, created, fields, fields)
    try:
        value = validator.decode_document(fields, path)
    except ValidationError as error:
        raise DocumentDecodeError(table=table, id=id_, message=str(error)) from None
    if isinstance(value, dict):
        return Doc(id_, created, cast(dict[str, Any], value), fields)
    set_field = object.__setattr__
    set_field(value, "_id", id_)
    set_field(value, "_creation_time", created)
    set_field(value, "_stored", fields)
    return value
