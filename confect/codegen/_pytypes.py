"""The Python types of validators, as the generated modules write them (`list[str]`,
`Id[NotesDoc]`), with the imports they need."""

from __future__ import annotations

import json
import keyword
from typing import Any, cast

import attrs
from convex import ConvexInt64

from confect.model.validators import (
    AnyV,
    ArrayV,
    BooleanV,
    BytesV,
    DocV,
    Float64V,
    IdV,
    Int64V,
    LiteralV,
    NullV,
    ObjectV,
    OptionalV,
    PaginationOptsV,
    PaginationResultV,
    RecordV,
    StringV,
    UnionV,
    Validator,
)
from confect.model.values import MISSING

_SIMPLE: dict[type[Any], str] = {
    StringV: "str",
    Float64V: "float",
    Int64V: "int",
    BooleanV: "bool",
    NullV: "None",
    BytesV: "bytes",
    AnyV: "Any",
}


def doc_name(table: str) -> str:
    """The name of a table's document class in `docs.py`: `notes` -> `NotesDoc`."""
    return "".join(part[:1].upper() + part[1:] for part in table.split("_")) + "Doc"


def is_attribute_name(name: str) -> bool:
    """Whether `name` can be written as an attribute (`doc.name`)."""
    return name.isidentifier() and not keyword.iskeyword(name)


@attrs.define
class Imports:
    """What the generated code of one module imports: names of `typing` and `confect`,
    and classes of the app (by their module, relative to the app package) or elsewhere."""

    package: str
    typing: set[str] = attrs.field(factory=set[str])
    confect: set[str] = attrs.field(factory=set[str])
    classes: dict[type[Any], str] = attrs.field(factory=dict[type[Any], str])

    def cls(self, cls: type[Any]) -> str:
        """The name the module gives `cls` (imported under its own name, or an alias
        when two classes share one)."""
        if cls not in self.classes:
            taken = set(self.classes.values())
            name = cls.__name__
            self.classes[cls] = name if name not in taken else f"{name}_{len(taken)}"
        return self.classes[cls]

    def class_lines(self) -> list[str]:
        """The import lines of the classes, sorted as ruff's isort sorts them (absolute
        modules before relative ones)."""
        absolute: dict[str, list[str]] = {}
        relative: dict[str, list[str]] = {}
        for cls, name in self.classes.items():
            module = cls.__module__
            alias = name if name == cls.__name__ else f"{cls.__name__} as {name}"
            if module == self.package or module.startswith(self.package + "."):
                where = ".." + module.removeprefix(self.package).lstrip(".")
                relative.setdefault(where, []).append(alias)
            else:
                absolute.setdefault(module, []).append(alias)
        return [
            *(f"from {m} import {', '.join(sorted(n))}" for m, n in sorted(absolute.items())),
            *(f"from {m} import {', '.join(sorted(n))}" for m, n in sorted(relative.items())),
        ]


def python_type(validator: Validator[Any] | None, imports: Imports) -> str:
    """The type of what `validator` decodes to (`Any` for no validator)."""
    if validator is None:
        imports.typing.add("Any")
        return "Any"
    simple = _SIMPLE.get(type(validator))
    if simple is not None:
        if simple == "Any":
            imports.typing.add("Any")
        return simple
    return _composite_type(validator, imports)


def _composite_type(validator: Validator[Any], imports: Imports) -> str:
    if isinstance(validator, PaginationOptsV):
        imports.confect.add("PaginationOptions")
        return "PaginationOptions"
    if isinstance(validator, PaginationResultV):
        imports.confect.add("PaginationResult")
        return f"PaginationResult[{python_type(validator.item, imports)}]"
    if isinstance(validator, IdV):
        imports.confect.add("Id")
        return f"Id[{_table_doc(validator.table, imports)}]"
    if isinstance(validator, DocV):
        return _table_doc(validator.table, imports)
    if isinstance(validator, ArrayV):
        return f"list[{python_type(cast(ArrayV[Any], validator).item, imports)}]"
    if isinstance(validator, RecordV):
        record = cast(RecordV[Any], validator)
        return f"dict[{python_type(record.keys, imports)}, {python_type(record.values, imports)}]"
    if isinstance(validator, OptionalV):
        optional = cast(OptionalV[Any], validator)
        inner = python_type(optional.inner, imports)
        if optional.when_missing is MISSING:
            imports.confect.add("Missing")
            return _union([inner, "Missing"])
        return _union([inner, "None"])
    if isinstance(validator, UnionV):
        return _union([python_type(member, imports) for member in validator.members])
    if isinstance(validator, LiteralV):
        return _literal_type(validator, imports)
    if isinstance(validator, ObjectV):
        cls = validator.cls
        if cls is not None:
            return imports.cls(cls)
        imports.typing.add("Any")
        return "dict[str, Any]"
    imports.typing.add("Any")
    return "Any"


def _table_doc(table: str | None, imports: Imports) -> str:
    """The document type of `table`: its class in `docs.py`, or `Any` for a system table
    or an id of any table."""
    if table is None or table.startswith("_"):
        imports.typing.add("Any")
        return "Any"
    return doc_name(table)


def _literal_type(validator: LiteralV, imports: Imports) -> str:
    literal = validator.literal
    if isinstance(literal, ConvexInt64):
        literal = literal.value
    if isinstance(literal, float):  # Literal cannot hold a float
        return "float"
    imports.typing.add("Literal")
    return f"Literal[{json.dumps(literal) if isinstance(literal, str) else repr(literal)}]"


def _union(members: list[str]) -> str:
    """`A | B`, literals joined into one `Literal[...]`, `None` last."""
    unique = list(dict.fromkeys(members))
    if "Any" in unique:
        return "Any"
    literals = [
        m.removeprefix("Literal[").removesuffix("]") for m in unique if m.startswith("Literal[")
    ]
    if len(literals) > 1:
        at = next(i for i, m in enumerate(unique) if m.startswith("Literal["))
        unique = [m for m in unique if not m.startswith("Literal[")]
        unique.insert(at, f"Literal[{', '.join(literals)}]")
    none_last = [m for m in unique if m != "None"] + [m for m in unique if m == "None"]
    return " | ".join(none_last)
