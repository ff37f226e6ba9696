"""`run_fork`: start an effect from plain code and get a handle on the running fiber
(Effect's `Effect.runFork`)."""

from __future__ import annotations

import asyncio
from collections.abc import Generator
from typing import Any, Generic, Never

from typing_extensions import TypeVar

from effects._internal.core import Effect
from effects._internal.fiber import FiberRuntime
from effects._internal.interpreter import run_fiber
from effects._internal.scheduler import Scheduler
from effects.exit import Exit
from effects.runtime import _value_or_raise, _wait  # pyright: ignore[reportPrivateUsage]

A = TypeVar("A", covariant=True, default=Any)
E = TypeVar("E", covariant=True, default=Never)


class RunningFiber(Generic[A, E]):
    """A fiber started by `run_fork`. `await handle` (or `await handle.join()`) gives its
    value or raises its error, `await handle.exit()` its `Exit`, `await handle.interrupt()`
    stops it and waits for its finalizers; `handle.fiber` is the `Fiber`, for effects
    (`yield from handle.fiber.join()`)."""

    __slots__ = ("fiber",)

    def __init__(self, fiber: FiberRuntime[A, E]) -> None:
        self.fiber = fiber

    def poll(self) -> Exit[A, E] | None:
        """The fiber's `Exit`, or None while it runs."""
        return self.fiber.exit_value

    async def exit(self) -> Exit[A, E]:
        """Wait for the fiber to end; its `Exit`. Cancelling the wait interrupts the fiber."""
        scheduler = self.fiber.scheduler
        if scheduler.loop is None:  # forked with no loop running: go on on this one
            scheduler.attach(asyncio.get_running_loop())
        return await _wait(self.fiber)

    async def join(self) -> A:
        """Wait for the fiber to end; its value, or raise its error (as `effects.run`)."""
        return _value_or_raise(await self.exit())

    async def interrupt(self) -> Exit[A, E]:
        """Interrupt the fiber and wait until it has ended (its finalizers have run)."""
        self.fiber.interrupt_as(0)
        return await self.exit()

    def __await__(self) -> Generator[Any, None, A]:
        return self.join().__await__()

    def __repr__(self) -> str:
        return f"<RunningFiber {self.fiber!r}>"


def run_fork(effect: Effect[A, E, Any]) -> RunningFiber[A, E]:
    """Start `effect` now and return a handle on its fiber without waiting for it. Its
    synchronous steps run at once; the rest on the running event loop, or, when none is
    running, on the loop where the handle is first awaited."""
    try:
        loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    fiber: FiberRuntime[A, E] = FiberRuntime(Scheduler(loop), {})
    run_fiber(fiber, effect)
    if loop is None:
        fiber.scheduler.drain()
    return RunningFiber(fiber)


__all__ = ["RunningFiber", "run_fork"]
