"""The reads of both SQL engines, written once over the one thing that differs: how a
shared statement's rows are fetched (`SqlReads._query`)."""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from confect.engine.interface import Document, Engine
from confect.engine.sql._statements import SCAN_CHUNK, Statements
from confect.engine.sql._stored import document_from_json, scan_in_chunks


class SqlReads(Engine):
    """`get`, `scan` and `search_candidates` of an engine that stores documents in the
    shared tables (`_statements`)."""

    _sql: ClassVar[Statements]

    @abc.abstractmethod
    def _query(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows of `statement` (one of `_sql`'s) with `params`, all fetched."""

    def get(self, table: str, id_: str) -> Document | None:
        rows = self._query(self._sql.body, (id_, table))
        return document_from_json(rows[0][0], table, id_) if rows else None

    def scan(
        self, table: str, index: str, lo: bytes, hi: bytes, descending: bool
    ) -> Iterator[tuple[bytes, Document]]:
        query = self._sql.scan_descending if descending else self._sql.scan_ascending

        def fetch(lo: bytes, hi: bytes) -> list[tuple[Any, ...]]:
            return self._query(query, (table, index, lo, hi))

        return scan_in_chunks(fetch, table, lo, hi, descending, SCAN_CHUNK)

    def search_candidates(self, table: str, index: str, terms: Sequence[str]) -> set[str]:
        if not terms:
            return set()
        query, params = self._sql.search(table, index, terms)
        return {str(row[0]) for row in self._query(query, params)}
