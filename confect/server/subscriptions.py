"""Reactive queries: one shared execution per (function, arguments, identity), re-run when a
commit writes into what it read.

A commit marks the queries it touched stale (comparing its writes with each query's read
ranges, index range by index range) and wakes the connections subscribed to them; each
connection then asks for fresh results, and identical subscriptions share one re-run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from confect.engine.base import Commit, Write, conflicts
from confect.server.calls import Caller, Functions, Outcome
from confect.server.query_cache import QueryKey


class SharedQuery:
    """One query execution's latest outcome, and who is subscribed to it."""

    def __init__(self) -> None:
        self.outcome: Outcome | None = None
        self.running: asyncio.Future[Outcome] | None = None
        self.stale = True
        self.subscribers: set[Callable[[], None]] = set()


class Subscriptions:
    """All subscribed queries of a server."""

    def __init__(self, functions: Functions) -> None:
        self._functions = functions
        self._queries: dict[QueryKey, SharedQuery] = {}
        functions.backend.commit_listeners.append(self._on_commit)

    def subscribe(self, key: QueryKey, wake: Callable[[], None]) -> None:
        self._queries.setdefault(key, SharedQuery()).subscribers.add(wake)

    def unsubscribe(self, key: QueryKey, wake: Callable[[], None]) -> None:
        shared = self._queries.get(key)
        if shared is None:
            return
        shared.subscribers.discard(wake)
        if not shared.subscribers:
            del self._queries[key]

    def is_stale(self, key: QueryKey) -> bool:
        shared = self._queries.get(key)
        return shared is None or shared.stale or shared.running is not None

    async def result(self, key: QueryKey, raw_args: Any, caller: Caller) -> Outcome:
        """The query's current outcome: cached if nothing it read changed, else run once
        for every subscriber that asks meanwhile. Raises `RequestError` for bad requests."""
        shared = self._queries.setdefault(key, SharedQuery())
        while True:
            running = shared.running
            if running is not None:  # a fresh run is under way: its outcome is the answer
                await asyncio.wait({running})
                if not running.cancelled() and running.exception() is not None:
                    raise running.exception()  # pyright: ignore[reportGeneralTypeIssues]
                continue
            if not shared.stale and shared.outcome is not None:
                return shared.outcome
            await self._run(shared, key, raw_args, caller)

    async def _run(self, shared: SharedQuery, key: QueryKey, raw_args: Any, caller: Caller) -> None:
        shared.stale = False
        running = shared.running = asyncio.get_running_loop().create_future()
        try:
            outcome = await self._functions.call(key[0], raw_args, caller, "query")
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
        if outcome.success and outcome.ts is not None:
            # a commit may have landed after the run checked its reads
            engine = self._functions.backend.engine
            shared.stale = shared.stale or not engine.is_valid(outcome.ts, outcome.reads)
        running.set_result(outcome)

    def invalidate_all(self) -> None:
        """Mark every query stale and wake its subscribers (after the app was reloaded)."""
        for shared in self._queries.values():
            shared.stale = True
            for wake in list(shared.subscribers):
                wake()

    def _on_commit(self, ts: int, writes: list[Write]) -> None:
        commit = [Commit(ts, tuple(writes))]
        catalog = self._functions.backend.engine.catalog
        for shared in self._queries.values():
            outcome = shared.outcome
            if shared.stale or outcome is None:
                continue
            if not outcome.success or conflicts(outcome.reads, commit, catalog):
                shared.stale = True
                for wake in list(shared.subscribers):
                    wake()
