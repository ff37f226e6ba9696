"""Reactive queries: one shared execution per (function, arguments, identity), re-run when a
commit writes into what it read.

A commit marks the queries it touched stale (comparing its writes with the read ranges of
the indexes it wrote, see `ReadIndex`) and wakes the connections subscribed to them, naming
the query; each connection then asks for fresh results of those queries only, and identical
subscriptions share one re-run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from confect.engine.interface import ReadRange, Write
from confect.runtime.deployment import Subscription
from confect.server.calls import Caller, ClientCalls, Outcome
from confect.server.query_cache import QueryKey

Wake = Callable[[QueryKey], None]
"""How a connection hears that one of its queries (by key) may have a new result."""
IndexKeys = Callable[[Write, str], list[bytes]]
"""The keys in an index (by name) of the document a write changed, before and after."""


class SharedQuery:
    """One query execution's latest outcome, and who is subscribed to it."""

    __slots__ = ("key", "outcome", "reads", "running", "stale", "subscribers")

    def __init__(self, key: QueryKey) -> None:
        self.key = key
        self.outcome: Outcome | None = None
        self.running: asyncio.Future[Outcome] | None = None
        self.stale = True
        self.subscribers: set[Wake] = set()
        # the ranges under watch, by table and index (empty while stale or failed)
        self.reads: dict[tuple[str, str], list[ReadRange]] = {}


class ReadIndex:
    """Which shared queries read which index ranges, by table and index: a commit's writes
    are compared with the ranges of the indexes they touch only, so a commit costs in
    proportion to the queries reading what it wrote, not to every subscription."""

    def __init__(self) -> None:
        # table -> index -> the queries reading ranges of it
        self._readers: dict[str, dict[str, set[SharedQuery]]] = {}
        self.failed: set[SharedQuery] = set()  # no read set: any commit may change them

    def watch(self, shared: SharedQuery, outcome: Outcome) -> None:
        """Watch what `outcome` read (or, for a failure, everything)."""
        self.forget(shared)
        if not outcome.success:
            self.failed.add(shared)
            return
        for read in outcome.reads:
            shared.reads.setdefault((read.table, read.index), []).append(read)
        for table, index in shared.reads:
            self._readers.setdefault(table, {}).setdefault(index, set()).add(shared)

    def forget(self, shared: SharedQuery) -> None:
        self.failed.discard(shared)
        for table, index in shared.reads:
            indexes = self._readers[table]
            readers = indexes[index]
            readers.discard(shared)
            if not readers:
                del indexes[index]
                if not indexes:
                    del self._readers[table]
        shared.reads = {}

    def touched(self, writes: Sequence[Write], index_keys: IndexKeys) -> set[SharedQuery]:
        """The queries that read a range one of `writes` lands in (failed ones too)."""
        found = set(self.failed)
        for write in writes:
            indexes = self._readers.get(write.table)
            if not indexes:
                continue
            for index, readers in indexes.items():
                keys = index_keys(write, index)
                for shared in readers:
                    if shared in found:
                        continue
                    if any(
                        read.contains(key)
                        for read in shared.reads[(write.table, index)]
                        for key in keys
                    ):
                        found.add(shared)
        return found


class Subscriptions:
    """All subscribed queries of a server; they hear of commits between `start` and `stop`."""

    def __init__(self, calls: ClientCalls) -> None:
        self._calls = calls
        self._queries: dict[QueryKey, SharedQuery] = {}
        self._reads = ReadIndex()
        self._commits: Subscription | None = None

    def start(self) -> None:
        """Hear the deployment's commits, to mark stale the queries they touch."""
        if self._commits is None:
            self._commits = self._calls.deployment.subscribe_commits(self._on_commit)

    def stop(self) -> None:
        """Hear commits no more."""
        if self._commits is not None:
            self._commits.remove()
            self._commits = None

    def subscribe(self, key: QueryKey, wake: Wake, seed: Outcome | None = None) -> None:
        """Have `wake` hear of `key`'s new results. A query nobody runs yet may be `seed`ed
        with an outcome known to be its own (a run at the same ts under another journal
        that ended where this key's journal does): it is then watched, not run."""
        shared = self._queries.get(key)
        if shared is None:
            shared = self._queries[key] = SharedQuery(key)
            if seed is not None and seed.success and seed.ts is not None:
                shared.outcome = seed
                shared.stale = self._calls.deployment.invalidated_since(seed.reads, seed.ts)
                self._reads.watch(shared, seed)
        shared.subscribers.add(wake)

    def unsubscribe(self, key: QueryKey, wake: Wake) -> None:
        shared = self._queries.get(key)
        if shared is None:
            return
        shared.subscribers.discard(wake)
        if not shared.subscribers:
            self._reads.forget(shared)
            del self._queries[key]

    async def result(self, key: QueryKey, raw_args: Any, caller: Caller) -> Outcome:
        """The query's current outcome: cached if nothing it read changed (and, if it read
        real time, it is still young: see `QueryCache.timely`), else run once for every
        subscriber that asks meanwhile. Raises `RequestError` for bad requests."""
        shared = self._queries.get(key)
        if shared is None:  # nobody subscribes (any more): run it on its own
            shared = SharedQuery(key)
        fresh = False  # whether a run finished since this call began: its outcome serves
        while True:
            running = shared.running
            if running is not None:  # a fresh run is under way: its outcome is the answer
                await asyncio.wait({running})
                if not running.cancelled() and running.exception() is not None:
                    raise running.exception()  # pyright: ignore[reportGeneralTypeIssues]
                fresh = not running.cancelled()
                continue
            outcome = shared.outcome
            if (
                not shared.stale
                and outcome is not None
                and (fresh or self._calls.cache.timely(outcome))
            ):
                return outcome
            await self._run(shared, key, raw_args, caller)
            fresh = True

    async def _run(self, shared: SharedQuery, key: QueryKey, raw_args: Any, caller: Caller) -> None:
        shared.stale = False
        running = shared.running = asyncio.get_running_loop().create_future()
        try:
            outcome = await self._calls.call(key[0], raw_args, caller, "query", journal=key[4])
        except asyncio.CancelledError:
            shared.stale = True
            running.cancel()  # whoever waited for this run starts its own
            raise
        except Exception as error:
            shared.stale = True
            running.set_exception(error)
            running.exception()  # marked retrieved: waiters (if any) re-raise it themselves
            raise
        finally:
            shared.running = None
        shared.outcome = outcome
        if self._queries.get(key) is shared:
            self._reads.watch(shared, outcome)
        if outcome.success and outcome.ts is not None:
            # a commit may have landed after the run checked its reads
            deployment = self._calls.deployment
            shared.stale = shared.stale or deployment.invalidated_since(outcome.reads, outcome.ts)
        running.set_result(outcome)

    def invalidate_all(self) -> None:
        """Mark every query stale and wake its subscribers (after the app was reloaded)."""
        for shared in self._queries.values():
            self._mark_stale(shared)

    def _mark_stale(self, shared: SharedQuery) -> None:
        shared.stale = True
        self._reads.forget(shared)
        for wake in list(shared.subscribers):
            wake(shared.key)

    def _on_commit(self, ts: int, writes: list[Write]) -> None:
        for shared in self._reads.touched(writes, self._calls.deployment.index_keys):
            if not shared.stale:
                self._mark_stale(shared)
