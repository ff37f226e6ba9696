"""Group commit: concurrent mutations on one event loop share engine commits (and fsyncs).

While one batch is being written in a worker thread, the loop keeps running handlers;
every commit they reach meanwhile joins the next batch. Each transaction is still checked
for conflicts on its own, in arrival order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import effects
from confect.engine.interface import Engine, ReadRange, Write
from confect.model.errors import WriteConflict
from effects import Effect

Request = tuple[int, Sequence[ReadRange], Sequence[Write]]


class GroupCommitter:
    """Batches the commits of one event loop."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pending: list[tuple[Request, Any]] = []
        self._flushing = False

    def commit(
        self, begin_ts: int, reads: Sequence[ReadRange], writes: Sequence[Write]
    ) -> Effect[int, WriteConflict]:
        """Commit with the next batch; fails `WriteConflict` like `Engine.commit`."""

        def register(resume: Any) -> None:
            self._pending.append(((begin_ts, reads, writes), resume))
            if not self._flushing:
                self._flushing = True
                asyncio.get_running_loop().create_task(self._flush())

        return effects.async_(register, needs_loop=True)

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    results = await asyncio.to_thread(
                        self._engine.commit_many, [r for r, _ in batch]
                    )
                except Exception as error:  # the disk failed: every waiter learns it
                    for _, resume in batch:
                        resume(effects.die(error))
                    continue
                for (_, resume), result in zip(batch, results, strict=True):
                    resume(
                        effects.fail(result)
                        if isinstance(result, WriteConflict)
                        else effects.succeed(result)
                    )
        finally:
            self._flushing = False
