"""Running effects: `run_sync`, `run` and their `_exit` forms, and the `Fiber` they start.

A run starts a fiber (`effects._internal.fiber`) with an empty context and runs it
synchronously until it ends or meets an asynchronous effect. `run_sync` then finishes it
on a private event loop (refused inside a running loop); `run` on the running one.
"""

from __future__ import annotations

import asyncio
import types
from typing import Any, Never, cast

from typing_extensions import TypeVar

from effects._internal.core import Effect
from effects._internal.fiber import FiberRuntime
from effects._internal.interpreter import exception_for, run_fiber
from effects._internal.scheduler import MaxOpsBeforeYield, Scheduler
from effects.cause import Die, is_runtime_file
from effects.errors import AsyncInSyncError, Interrupted
from effects.exit import Exit, Failure, Success

__all__ = [
    "Fiber",
    "FiberRuntime",
    "MaxOpsBeforeYield",
    "Scheduler",
    "run",
    "run_exit",
    "run_sync",
    "run_sync_exit",
]

A = TypeVar("A", covariant=True, default=Any)
E = TypeVar("E", covariant=True, default=Never)


def run_sync_exit(effect: Effect[A, E, Any]) -> Exit[A, E]:
    """Run `effect` and return its `Exit`. Synchronous effects run with no event loop;
    asynchronous ones on a private loop (refused inside a running loop)."""
    fiber: Any = FiberRuntime(None, {})
    run_fiber(fiber, effect)
    exit_ = fiber._exit
    return exit_ if exit_ is not None else _finish_sync(fiber)


def _finish_sync(fiber: Any) -> Exit[Any, Any]:
    """Finish a fiber that `run_sync` started and that has suspended."""
    scheduler = fiber.scheduler
    scheduler.drain()
    if fiber._exit is not None:
        return fiber._exit
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_finish_on_loop(scheduler, fiber))
    fiber.interrupt_as(0)
    scheduler.drain()
    raise AsyncInSyncError(
        "run_sync cannot run an asynchronous effect inside a running event loop: "
        "use `await effects.run(effect)` instead"
    )


async def _finish_on_loop(scheduler: Scheduler, fiber: FiberRuntime[Any, Any]) -> Exit[Any, Any]:
    if not scheduler.deferred and scheduler.pending == 0:
        return Failure(
            Die(RuntimeError("the effect is suspended and nothing can resume it (deadlock)"))
        )
    scheduler.attach(asyncio.get_running_loop())
    return await _wait(fiber)


async def _wait(fiber: FiberRuntime[Any, Any]) -> Exit[Any, Any]:
    if fiber.exit_value is not None:
        return fiber.exit_value
    future: asyncio.Future[Exit[Any, Any]] = asyncio.get_running_loop().create_future()

    def on_exit(exit_: Exit[Any, Any]) -> None:
        if not future.done():
            future.set_result(exit_)

    fiber.add_observer(on_exit)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        fiber.interrupt_as(0)
        await future
        raise


async def run_exit(effect: Effect[A, E, Any], *, timeout: float | None = None) -> Exit[A, E]:
    """Run `effect` on the running event loop and return its `Exit`. Cancelling the
    awaiting task interrupts the effect (its finalizers run); so does `timeout` (seconds),
    after which this raises Python's builtin `TimeoutError`. An effect that finishes without suspending
    costs no timer."""
    scheduler = Scheduler(asyncio.get_running_loop())
    fiber: FiberRuntime[Any, Any] = FiberRuntime(scheduler, {})
    run_fiber(fiber, effect)
    if fiber.exit_value is not None or timeout is None:
        return cast("Exit[A, E]", await _wait(fiber))
    async with asyncio.timeout(timeout):
        return cast("Exit[A, E]", await _wait(fiber))


def run_sync(effect: Effect[A, E, Any]) -> A:
    """Run `effect`; return its value or raise its error (typed error, defect or `Interrupted`)."""
    fiber: Any = FiberRuntime(None, {})  # run_sync_exit inlined: this is every run_sync's path
    run_fiber(fiber, effect)
    exit_ = fiber._exit
    if type(exit_) is Success:
        return exit_.value
    return _value_or_raise(exit_ if exit_ is not None else _finish_sync(fiber))


async def run(effect: Effect[A, E, Any], *, timeout: float | None = None) -> A:
    """Run `effect` on the running event loop; return its value or raise its error
    (Python's builtin `TimeoutError` past `timeout` seconds, as `run_exit`)."""
    return _value_or_raise(await run_exit(effect, timeout=timeout))


def _value_or_raise(exit_: Exit[A, Any]) -> A:
    if isinstance(exit_, Success):
        return exit_.value
    cause = cast("Failure[Any]", exit_).cause
    if cause.is_interrupted_only():
        raise Interrupted()
    exc = exception_for(cause)
    _strip_runtime_frames(exc)
    raise exc


def _strip_runtime_frames(exc: BaseException) -> None:
    """Drop the interpreter's own frames from a traceback so users see their code."""
    kept: list[types.TracebackType] = []
    tb = exc.__traceback__
    while tb is not None:
        if not is_runtime_file(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    rebuilt: types.TracebackType | None = None
    for entry in reversed(kept):
        rebuilt = types.TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    exc.__traceback__ = rebuilt


Fiber = FiberRuntime
