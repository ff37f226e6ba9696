"""Who runs a fiber when it resumes (`Scheduler`), and how long it runs before it lets
others run (`MaxOpsBeforeYield`)."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

from effects.context import Reference

if TYPE_CHECKING:
    from effects._internal.core import Effect
    from effects._internal.fiber import FiberRuntime
    from effects._internal.primitives import Async


class MaxOpsBeforeYield(Reference["MaxOpsBeforeYield", int], default=2048):
    """How many operations a fiber runs before it lets other fibers run (Effect's
    `MaxOpsBeforeYield`); read each time the fiber starts or resumes. Fewer is fairer, more
    is faster: `eff.provide_service(MaxOpsBeforeYield, 256)`."""


class Scheduler:
    """Runs resumed fibers: on an asyncio loop when attached, else from a local queue."""

    __slots__ = ("deferred", "loop", "pending", "queue")

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop
        self.queue: deque[tuple[FiberRuntime[Any, Any], Effect[Any, Any, Any]]] = deque()
        self.deferred: list[tuple[FiberRuntime[Any, Any], Async[Any, Any, Any]]] = []
        self.pending = 0  # fibers scheduled and not yet run

    def schedule(self, fiber: FiberRuntime[Any, Any], effect: Effect[Any, Any, Any]) -> None:
        self.pending += 1
        if self.loop is not None:
            self.loop.call_soon(self._run_one, fiber, effect)
        else:
            self.queue.append((fiber, effect))

    def _run_one(self, fiber: FiberRuntime[Any, Any], effect: Effect[Any, Any, Any]) -> None:
        self.pending -= 1
        fiber.resume_with(effect)

    def drain(self) -> None:
        """Run queued fibers until none is runnable (no-loop mode)."""
        queue = self.queue
        while queue:
            fiber, effect = queue.popleft()
            self._run_one(fiber, effect)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Move to `loop`: queued fibers and async work waiting for a loop start there."""
        self.loop = loop
        queue, self.queue = self.queue, deque()
        for fiber, effect in queue:
            loop.call_soon(self._run_one, fiber, effect)
        deferred, self.deferred = self.deferred, []
        for fiber, node in deferred:
            fiber.start_async(node)
