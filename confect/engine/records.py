"""What engines store and exchange: documents, the index ranges a transaction read, the
writes of a commit, and commits."""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from confect.model.values import Value

Document = dict[str, Value]
"""A stored document: Convex values under its fields, `_id` and `_creationTime` included."""


@attrs.frozen
class ReadRange:
    """A read of the keys in [lo, hi) of one index: the unit of conflict detection."""

    table: str
    index: str
    lo: bytes
    hi: bytes

    def contains(self, key: bytes) -> bool:
        return self.lo <= key < self.hi


@attrs.frozen
class Write:
    """A document's change in one commit: `old` None for an insert, `new` None for a delete."""

    table: str
    id: str
    old: Document | None
    new: Document | None


@attrs.frozen
class Commit:
    """The writes one transaction committed, at `ts` (ns)."""

    ts: int
    writes: tuple[Write, ...]


def latest_creation_time(commits: Iterable[Commit], at_least: float) -> float:
    """The latest `_creationTime` the documents `commits` write have, or `at_least` if that
    is later: where an engine's next creation time must start from."""
    latest = at_least
    for commit in commits:
        for write in commit.writes:
            created = write.new["_creationTime"] if write.new is not None else None
            if isinstance(created, float) and created > latest:
                latest = created
    return latest
