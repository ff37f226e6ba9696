"""What engines whose store one process owns share (memory, SQLite): no other process
commits, so this process's commit log is every commit since the engine opened the store,
there is no one to watch, and the shared secret needs sharing with no one."""

from __future__ import annotations

import abc
import secrets
import threading
from collections.abc import Callable, Sequence

from confect.engine.interface import Commit, CommitLog, CommitRequest, CommitWatcher, Engine
from confect.engine.occ import accept_batch
from confect.engine.records import latest_creation_time
from confect.model.errors import WriteConflict


class SingleProcessEngine(Engine):
    """An engine that alone writes its store: commits are checked and logged in memory,
    under one lock, and written by `_store`."""

    def __init__(self, last_ts: int = 0, last_creation: float = 0.0) -> None:
        """`last_ts`, `last_creation`: the latest commit's ts and `_creationTime` in the
        store as opened (0 for a new one)."""
        self._ts = last_ts
        self._creation = last_creation
        self._log = CommitLog(known_after=last_ts)
        self._lock = threading.RLock()
        # Made per engine, not per process: an engine is the store's one owner while it is
        # open (a reopened store is a restarted server, whose old upload URLs lapse).
        self._secret = secrets.token_bytes(32)

    @abc.abstractmethod
    def _store(self, commits: list[Commit], last_creation: float) -> None:
        """Write `commits` (accepted, in order) to the store; `last_creation`
        is the latest creation time handed out once they are in (hold `_lock`)."""

    def commit_many(self, requests: Sequence[CommitRequest]) -> list[int | WriteConflict]:
        with self._lock:
            results, accepted = accept_batch(requests, self._log, self._ts, self.catalog)
            if accepted:
                creation = latest_creation_time(accepted, self._creation)
                self._store(accepted, creation)
                for commit in accepted:
                    self._log.append(commit)
                self._ts = accepted[-1].ts
                self._creation = creation
            return results

    def last_ts(self) -> int:
        return self._ts

    def commits_since(self, ts: int) -> list[Commit] | None:
        return self._log.since(ts, self._ts)

    def next_creation_time(self, now_ms: float) -> float:
        with self._lock:  # handlers on several threads take creation times at once
            self._creation = max(now_ms, self._creation + 0.001)
            return self._creation

    def watch(self, watcher: CommitWatcher) -> Callable[[], None]:
        """No other process commits: `watcher` is never told anything."""
        return lambda: None

    def shared_secret(self) -> bytes:
        """A secret made when this engine opened the store: no other process serves it."""
        return self._secret

    def is_running(self, process_id: str) -> bool:
        """Never: whoever served this store before this engine opened it has stopped."""
        return False
