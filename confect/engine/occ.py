"""Optimistic concurrency: a commit names the index ranges its transaction read, and fails
with `WriteConflict` if a commit after the transaction began wrote a document whose key
falls in one of them. The recent commits a check needs are kept in a `CommitLog`."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Sequence

from confect.engine.catalog import IndexCatalog, index_key
from confect.engine.records import Commit, ReadRange, Write
from confect.model.errors import WriteConflict
from confect.model.schema import SESSION_REQUESTS_TABLE

CommitRequest = tuple[int, Sequence[ReadRange], Sequence[Write]]
"""A transaction to commit: the ts it began at, what it read, what it wrote."""


def conflicts(reads: Iterable[ReadRange], commits: Iterable[Commit], catalog: IndexCatalog) -> bool:
    """Whether any write of `commits` lands in any of `reads`."""
    by_table: dict[str, list[ReadRange]] = {}
    for read in reads:
        by_table.setdefault(read.table, []).append(read)
    for commit in commits:
        for write in commit.writes:
            ranges = by_table.get(write.table)
            if not ranges:
                continue
            fields = catalog.fields[write.table]
            for document in (write.old, write.new):
                if document is None:
                    continue
                for read in ranges:
                    if read.contains(index_key(document, read.index, fields.get(read.index, ()))):
                        return True
    return False


def accept_batch(
    requests: Sequence[CommitRequest], log: CommitLog, last_ts: int, catalog: IndexCatalog
) -> tuple[list[int | WriteConflict], list[Commit]]:
    """Check each request of a batch against the commits since it began and the batch
    members before it; give each accepted one that writes a new ts. Returns each request's
    outcome (its ts, or the conflict) and the accepted commits, to apply in order."""
    results: list[int | WriteConflict] = []
    accepted: list[Commit] = []
    ts = last_ts
    for begin_ts, reads, writes in requests:
        since = log.since(begin_ts, last_ts) if reads else []
        if reads and (since is None or conflicts(reads, [*since, *accepted], catalog)):
            results.append(WriteConflict())
            continue
        if writes:
            ts = max(ts + 1, time.time_ns())
            accepted.append(Commit(ts, _with_commit_ts(writes, ts)))
        results.append(ts)
    return results, accepted


def _with_commit_ts(writes: Sequence[Write], ts: int) -> tuple[Write, ...]:
    """`writes`, with each new session request record given the ts of the commit that
    writes it: what a repeat of its request is answered with, known only now."""
    return tuple(
        Write(w.table, w.id, w.old, {**w.new, "ts": ts})
        if w.table == SESSION_REQUESTS_TABLE and w.new is not None and w.old is None
        else w
        for w in writes
    )


class CommitLog:
    """The recent commits of this process, for conflict checks (oldest are forgotten)."""

    def __init__(self, size: int = 10_000, known_after: int = 0) -> None:
        """`known_after`: the ts of the last commit made before this log (a restarted
        engine's): what came before it is not known."""
        self._log: deque[Commit] = deque(maxlen=size)
        self._floor = known_after  # commits at or before this ts may be missing

    def forget(self, ts: int) -> None:
        """Drop every commit: those up to `ts` are no longer known (some were missed)."""
        self._log.clear()
        self._floor = ts

    def append(self, commit: Commit) -> None:
        self._log.append(commit)

    def since(self, ts: int, last_ts: int) -> list[Commit] | None:
        """Commits after `ts`; None if some of them were forgotten."""
        if ts >= last_ts:
            return []
        if ts < self._floor or (len(self._log) == self._log.maxlen and self._log[0].ts > ts):
            return None
        newer: list[Commit] = []
        for commit in reversed(self._log):
            if commit.ts <= ts:
                break
            newer.append(commit)
        newer.reverse()
        return newer
