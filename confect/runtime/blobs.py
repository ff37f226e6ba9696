"""When the bytes of a deleted file may go: once no transaction could still read the file.

A transaction reads as of the commit it began at, so a file deleted by a later commit is
still there for it. The blob (shared by every file with the same bytes) is deleted once
every transaction that began before the delete has finished, and only if no other file
holds the same bytes (`StorageFiles.collect` checks that).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from confect.engine.interface import Write
from confect.model.schema import STORAGE_TABLE
from confect.services.file_store import StorageFiles, blob_key


class BlobCollector:
    """The open transactions of one deployment, and the blobs waiting for them to finish.
    Thread-safe: user code runs on worker threads."""

    def __init__(self, files: StorageFiles) -> None:
        self._files = files
        self._lock = threading.Lock()
        self._open: dict[int, int] = {}  # begin ts -> transactions still reading
        self._doomed: list[tuple[int, str]] = []  # (ts of the delete, sha256)

    def began(self, begin_ts: int) -> None:
        """A transaction reading as of commit `begin_ts` began."""
        with self._lock:
            self._open[begin_ts] = self._open.get(begin_ts, 0) + 1

    def finished(self, begin_ts: int) -> None:
        """A transaction that began at `begin_ts` will read no more."""
        with self._lock:
            left = self._open.get(begin_ts, 0) - 1
            if left > 0:
                self._open[begin_ts] = left
            else:
                self._open.pop(begin_ts, None)
            self._collect()

    def committed(self, ts: int, writes: Sequence[Write]) -> None:
        """Commit `ts` made `writes`: the blobs of the files it deleted wait their turn."""
        with self._lock:
            for write in writes:
                if write.table == STORAGE_TABLE and write.new is None and write.old is not None:
                    self._doomed.append((ts, blob_key(str(write.old["sha256"]))))
            self._collect()

    def _collect(self) -> None:
        """Delete the blobs no open transaction could still read. Hold `_lock`."""
        if not self._doomed:
            return
        oldest = min(self._open, default=None)
        keep: list[tuple[int, str]] = []
        for ts, sha in self._doomed:
            if oldest is not None and oldest < ts:
                keep.append((ts, sha))
                continue
            self._files.collect(sha)
        self._doomed = keep
