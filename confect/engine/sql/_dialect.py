"""What differs between the SQL that the SQLite and the PostgreSQL engines send: the
shared statements (`_statements`) are written once, with `?` placeholders, and spelled in
each engine's dialect by these few choices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs


@attrs.frozen
class Dialect:
    """How one database spells what the shared statements need."""

    placeholder: str
    """A query parameter: `?` (sqlite3) or `%s` (psycopg)."""
    bytes_type: str
    """The column type of index keys: raw bytes, compared bytewise."""
    byte_order: str
    """What follows a text column that must sort as its UTF-8 bytes (search terms)."""
    table_options: str
    """What follows each `CREATE TABLE (...)` of the shared tables."""
    body: str
    """How a query reads a stored body (`{}`: the column)."""
    binds_lists: bool
    """Whether a list is one parameter (`= ANY(%s)`) rather than one per element."""

    def spell(self, statement: str) -> str:
        """`statement`, written with `?` placeholders, in this dialect."""
        return statement if self.placeholder == "?" else statement.replace("?", self.placeholder)

    def one_of(self, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A condition that a column is one of `values` (what follows the column, with `?`
        placeholders), and its parameters."""
        if self.binds_lists:
            return "= ANY(?)", [list(values)]
        return f"IN ({','.join('?' * len(values))})", list(values)


SQLITE = Dialect(
    placeholder="?",
    bytes_type="BLOB",
    byte_order="",  # SQLite compares text as its bytes
    table_options=" WITHOUT ROWID",
    # a body read as bytes that are not UTF-8 is then a corrupt document (named when it is
    # decoded), not an error of the whole statement
    body="CAST({} AS BLOB)",
    binds_lists=False,
)

POSTGRES = Dialect(
    placeholder="%s",
    bytes_type="BYTEA",
    byte_order=' COLLATE "C"',
    table_options="",
    body="{}",
    binds_lists=True,
)
