"""The queries one sync connection subscribes to, by the client's query ids: which shared
query (`QueryKey`) each id asks for, which of those may have new results, and what was
last sent for each id, so that a refresh tells the client only what changed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from confect.runtime.logs import wire_lines
from confect.server.calls import Caller, Outcome, RequestError
from confect.server.protocol import U32
from confect.server.protocol.server import StateModification, state_modification
from confect.server.query_cache import QueryKey, query_key
from confect.server.subscriptions import Subscriptions

REFRESH_BATCH = 64
"""Queries a refresh runs side by side before the other connections get a turn."""
MAX_REFRESH_ROUNDS = 100
"""Refreshes in a row while commits keep changing results, before a transition goes out."""


class QuerySet:
    """A connection's subscribed queries. `on_dirty` is called when a commit may have
    changed the result of one of them (the connection then asks for `changes`)."""

    def __init__(self, subscriptions: Subscriptions, on_dirty: Callable[[], None]) -> None:
        self._subscriptions = subscriptions
        self._on_dirty = on_dirty
        self._queries: dict[U32, tuple[QueryKey, Any]] = {}  # id -> (key, wire args)
        self._ids: dict[QueryKey, set[U32]] = {}  # the ids subscribed to each key
        self._dirty: set[QueryKey] = set()  # keys whose results may have changed
        self._sent: dict[U32, Outcome] = {}  # id -> the outcome last sent

    def __len__(self) -> int:
        return len(self._queries)

    def _wake(self, key: QueryKey) -> None:
        self._dirty.add(key)
        self._on_dirty()

    def add(
        self, query_id: U32, path: str, args: Any, caller: Caller, journal: str | None = None
    ) -> None:
        """Subscribe `query_id` to the query at `path` with wire `args`, called by `caller`
        (its page ending where `journal` says, if given); its result goes out with the
        next `changes`."""
        key = query_key(path, args, caller, journal)
        self._queries[query_id] = (key, args)
        ids = self._ids.get(key)
        if ids is None:
            ids = self._ids[key] = set()
            self._subscriptions.subscribe(key, self._wake)
        ids.add(query_id)
        self._dirty.add(key)

    def remove(self, query_id: U32) -> None:
        """Unsubscribe `query_id` (if it is subscribed)."""
        self._sent.pop(query_id, None)
        entry = self._queries.pop(query_id, None)
        if entry is None:
            return
        key = entry[0]
        ids = self._ids[key]
        ids.discard(query_id)
        if not ids:
            del self._ids[key]
            self._dirty.discard(key)
            self._subscriptions.unsubscribe(key, self._wake)

    def call_as(self, caller: Caller) -> None:
        """Subscribe every query again as called by `caller` (the connection authenticated);
        every result is sent again, under the new identity."""
        self.close()
        queries, self._queries, self._ids, self._dirty = self._queries, {}, {}, set()
        for query_id, (old_key, args) in queries.items():
            self.add(query_id, old_key[0], args, caller, old_key[4])
        self._sent.clear()

    def close(self) -> None:
        """Unsubscribe from every shared query (the connection ended)."""
        for key in self._ids:
            self._subscriptions.unsubscribe(key, self._wake)

    async def changes(self, caller: Caller) -> list[StateModification]:
        """Fresh results of the queries that may have changed, until none has (or for
        MAX_REFRESH_ROUNDS): what changed for the client."""
        modifications: list[StateModification] = []
        for _ in range(MAX_REFRESH_ROUNDS):
            if not self._dirty:
                break  # every result is current as of now: the transition can say so
            modifications += await self._refresh(caller)
        return modifications

    async def _refresh(self, caller: Caller) -> list[StateModification]:
        """Fresh results of the queries whose keys are dirty. REFRESH_BATCH queries run at
        a time (side by side, on the workers), and the event loop has a turn between
        batches, so a connection with many queries never holds up the others."""
        modifications: list[StateModification] = []
        dirty, self._dirty = list(self._dirty), set()
        for start in range(0, len(dirty), REFRESH_BATCH):
            if start:
                await asyncio.sleep(0)  # the other connections' turn
            batch = [key for key in dirty[start : start + REFRESH_BATCH] if self._ids.get(key)]
            if len(batch) == 1:  # the common case: no tasks to gather
                outcomes = [await self._result(batch[0], caller)]
            else:
                outcomes = await asyncio.gather(*(self._result(key, caller) for key in batch))
            for key, outcome in zip(batch, outcomes, strict=True):
                for query_id in sorted(self._ids.get(key, ())):  # removed meanwhile: none
                    if not _same(self._sent.get(query_id), outcome):
                        self._sent[query_id] = outcome
                        modifications.append(state_modification(query_id, outcome))
                self._follow_journal(key, outcome)
        return modifications

    def _follow_journal(self, key: QueryKey, outcome: Outcome) -> None:
        """Move the ids of `key` to the journal its run left, as Convex's query journal:
        their later runs end the page where this one ended, so a page grows with inserts
        instead of pushing documents to the next page. Their result is this outcome."""
        if not outcome.success or outcome.journal == key[4] or key not in self._ids:
            return
        pinned: QueryKey = (*key[:4], outcome.journal)
        ids = self._ids.pop(key)
        self._dirty.discard(key)
        self._subscriptions.unsubscribe(key, self._wake)
        if pinned not in self._ids:
            self._ids[pinned] = set()
            self._subscriptions.subscribe(pinned, self._wake, seed=outcome)
        self._ids[pinned] |= ids
        for query_id in ids:
            self._queries[query_id] = (pinned, self._queries[query_id][1])
        self._dirty.add(pinned)  # current (seeded) or run: unchanged results are not sent

    async def _result(self, key: QueryKey, caller: Caller) -> Outcome:
        args = self._queries[next(iter(self._ids[key]))][1]
        try:
            return await self._subscriptions.result(key, args, caller)
        except RequestError as error:
            return Outcome(False, error_message=error.message)


def _same(sent: Outcome | None, outcome: Outcome) -> bool:
    """Whether the client already has this result (shared outcomes are often the very
    same object, which makes the comparison instant)."""
    if sent is None:
        return False
    if sent is outcome:
        return True
    before = (
        sent.success,
        sent.value,
        sent.error_message,
        sent.error_data,
        wire_lines(sent.log_lines),
        sent.journal,
    )
    after = (
        outcome.success,
        outcome.value,
        outcome.error_message,
        outcome.error_data,
        wire_lines(outcome.log_lines),
        outcome.journal,
    )
    # `==` takes True for 1.0 and 1.0 for 1: equal values are confirmed as JSON, types and all
    return before == after and json.dumps(before) == json.dumps(after)
