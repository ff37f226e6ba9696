"""The shared statements as the PostgreSQL engine sends them: a psycopg connection as the
SQL core uses it, and the reads that also tell the latest commit's ts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, LiteralString, cast

import psycopg

from confect.engine.sql._dialect import POSTGRES
from confect.engine.sql._statements import Statements

SQL = Statements.of(POSTGRES)


def literal(statement: str) -> LiteralString:
    """A statement of the shared ones, which are made of literals only (no value is ever
    formatted into one), as psycopg's guard against SQL injection asks."""
    return cast(LiteralString, statement)


def with_latest(query: str, order: str = "") -> LiteralString:
    """`query`, its rows each with the latest commit's ts (one row of nulls but that when
    nothing is found): checking a query's reads then needs no second round trip unless a
    commit it has not heard of yet could have been read (`PostgresEngine.is_valid`)."""
    return literal(
        "SELECT m.latest, r.* FROM (SELECT max(ts) AS latest FROM commits) m "
        f"LEFT JOIN LATERAL ({query}) r ON true{order}"
    )


WITH_LATEST: dict[str, LiteralString] = {
    SQL.body: with_latest(SQL.body),
    SQL.scan_ascending: with_latest(SQL.scan_ascending, " ORDER BY r.key ASC"),
    SQL.scan_descending: with_latest(SQL.scan_descending, " ORDER BY r.key DESC"),
}
"""The fixed reads, made once; a search is made as it comes."""


class Database:
    """A psycopg connection as the shared statements use it (`_core.Database`)."""

    def __init__(self, db: psycopg.Connection[Any]) -> None:
        self._db = db

    def execute(self, statement: str, params: Sequence[Any] = (), /) -> Iterable[Any]:
        return self._db.execute(literal(statement), params or None)

    def executemany(self, statement: str, rows: Iterable[Sequence[Any]], /) -> None:
        with self._db.cursor() as cursor:
            cursor.executemany(literal(statement), rows)
