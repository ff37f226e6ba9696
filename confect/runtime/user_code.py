"""Where the code of an app's functions runs, and for how long it may.

A test harness runs handlers inline (`Inline`). A server (`WorkerThreads`) makes sure
that no handler can hold up the other clients, whatever it does (spin in plain Python,
sleep, wait on a blocking library), and that each call keeps to its limit (Convex's: about
1 s of user code for queries and mutations, 10 minutes for actions); a commit is not user
code and is never cut short.

- Actions (and HTTP actions) run on worker threads: they may wait on I/O for minutes.
- Queries and mutations run first on the event loop, where nearly all finish in well under
  a millisecond: handing each to a thread and back would cost about 0.1 ms and halve the
  server's throughput (measured in `benchmarks/server_bench.py`). One that holds the loop
  past INLINE_SECONDS (50 ms) is stopped by a signal and run again from its start on a
  worker thread. That is safe because they are transactions: a stopped run commits
  nothing, exactly as when a commit conflicts and the handler runs again.

Why threads, not processes: handlers read the engine and build their writes in memory,
and a process per call would have to ship every read and write across. A thread cannot
be killed, so a call over its limit is answered at once with Convex's timeout error and
its thread is retired: `CallTimedOut` is raised inside it at its next Python instruction
(a loop of effects or of plain Python stops there; a thread blocked in a C call stops
when the call returns), and a fresh thread takes its place in the pool.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import effects
from confect.runtime._worker_threads import (
    Answers,
    Job,
    Pool,
    Watchdog,
    from_exit,
    in_worker_thread,
)
from effects import Effect, TaggedError
from effects.effect import with_fiber
from effects.fiber import FiberRuntime
from effects.runtime import AsyncInSyncError


class MovedOffLoop(TaggedError):
    """A query's or mutation's user code ran on the event loop past INLINE_SECONDS (or
    needed the loop) and was stopped there: its caller runs it again from the start, in a
    new transaction, with `off_loop=True`."""


class UserCode(Protocol):
    """Runs the user code of one call (a handler with its services) of a function type.
    A query or mutation may fail `MovedOffLoop` unless `off_loop`."""

    def run(
        self, effect: Effect[Any, Any, Any], kind: str, off_loop: bool = False
    ) -> Effect[Any, Any, Any]: ...


class Inline:
    """User code runs where its caller runs, with no limit (tests, tools)."""

    def run(
        self, effect: Effect[Any, Any, Any], kind: str, off_loop: bool = False
    ) -> Effect[Any, Any, Any]:
        return effect


class WorkerThreads:
    """User code as a server runs it: queries and mutations inline first (moved to a pool
    of worker threads past INLINE_SECONDS), actions on a pool of their own (they may wait
    on I/O for minutes); each call with its kind's limit."""

    def __init__(
        self,
        transaction_seconds: float = 1.0,
        action_seconds: float = 600.0,
        transaction_threads: int = 64,
        action_threads: int = 256,
    ) -> None:
        self._watchdog = Watchdog(on_tick=_preemption.overdue)
        self._transactions = Pool("confect-tx", transaction_threads, self._watchdog)
        self._actions = Pool("confect-action", action_threads, self._watchdog)
        self._seconds = {"query": transaction_seconds, "mutation": transaction_seconds}
        self._action_seconds = action_seconds

    def run(
        self, effect: Effect[Any, Any, Any], kind: str, off_loop: bool = False
    ) -> Effect[Any, Any, Any]:
        if in_worker_thread():
            return effect  # a call made by user code: part of the caller's run
        # the run happens in a fiber of its own (inline or on a thread): it starts with the
        # caller's FiberRef values (its tracing span, log annotations), as a fork would
        return with_fiber(
            lambda caller: self._hand_off(_with_refs_of(caller, effect), kind, off_loop)
        )

    def _hand_off(
        self, effect: Effect[Any, Any, Any], kind: str, off_loop: bool
    ) -> Effect[Any, Any, Any]:
        self._watchdog.start()
        seconds = self._seconds.get(kind)
        pool = self._transactions
        if seconds is None:
            seconds, pool = self._action_seconds, self._actions
        elif not off_loop and _preemption.ready():
            return effects.suspend(lambda: _preemption.run(effect))

        def register(resume: Callable[[Effect[Any, Any, Any]], None]) -> Any:
            job = Job(effect, seconds, Answers.of(asyncio.get_running_loop()), resume)
            pool.submit(job)
            return job.cancel

        return effects.async_(register, needs_loop=True)

    def close(self) -> None:
        """Stop the idle threads (running calls go on until they end or time out)."""
        self._transactions.close()
        self._actions.close()
        self._watchdog.close()


def _with_refs_of(
    caller: FiberRuntime[Any, Any], effect: Effect[Any, Any, Any]
) -> Effect[Any, Any, Any]:
    """`effect`, first setting in the fiber that runs it the FiberRef values `caller` has."""
    refs = caller.fiber_refs
    if not refs:
        return effect
    values = dict(refs)

    def seed(fiber: FiberRuntime[Any, Any]) -> Effect[Any, Any, Any]:
        for ref, value in values.items():
            fiber.set_ref(ref, value)
        return effect

    return with_fiber(seed)


INLINE_SECONDS = 0.05
"""How long a query's or mutation's user code may hold the event loop before it is moved to
a worker thread: the longest it can hold up other clients (PERFORMANCE.md's 50 ms)."""


class Preempted(BaseException):
    """Raised on the main thread (by SIGUSR1's handler) in user code that has held the
    event loop past INLINE_SECONDS."""


class _InlineCall:
    __slots__ = ("interrupted", "preempted", "started")

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.preempted = False  # asked to stop
        self.interrupted = False  # `Preempted` was raised into it


class _Preemption:
    """Queries and mutations run first on the event loop, where most finish in well under
    a millisecond, with no hand-off to a thread (which costs about 0.1 ms here). One that
    runs past INLINE_SECONDS is stopped by a signal and run again from the start on a
    worker thread: queries and mutations are transactions, so a stopped run leaves nothing
    behind. The signal's handler raises only if the main thread is still inside that call's
    user code when it runs, so it can never land anywhere else. Only when the event loop
    runs on the main thread (signals are delivered there), as in `confect serve`."""

    def __init__(self) -> None:
        self._current: _InlineCall | None = None
        self._installed = False

    def ready(self) -> bool:
        """Whether the caller (the event loop) runs on the main thread, where the signal
        that stops an inline call is handled (installed on first use)."""
        if threading.current_thread() is not threading.main_thread():
            return False
        if not self._installed:
            signal.signal(signal.SIGUSR1, self._on_signal)
            self._installed = True
        return True

    def run(self, effect: Effect[Any, Any, Any]) -> Effect[Any, Any, Any]:
        call = self._current = _InlineCall()
        try:
            try:
                exit_ = effects.run_sync_exit(effect)
            finally:
                self._current = None
        except (Preempted, AsyncInSyncError):  # too long, or it needs the loop: a thread's
            return effects.fail(MovedOffLoop())
        if call.interrupted:
            # the `Preempted` was swallowed where Python ignores exceptions (a generator
            # closed by the collector, a __del__): the run may have lost state half-way
            # (a read range not recorded), so it is done again on a thread all the same
            return effects.fail(MovedOffLoop())
        return from_exit(exit_)

    def overdue(self, now: float) -> None:
        """From the watchdog: stop the inline call if it has run too long."""
        call = self._current
        # asked again each tick until it stops (it may be inside an engine just then)
        wait = Watchdog.TICK if call is not None and call.preempted else INLINE_SECONDS
        if call is not None and now - call.started > wait:
            call.preempted = True
            call.started = now
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)

    def _on_signal(self, signum: int, frame: Any) -> None:
        call = self._current
        if call is not None and call.preempted and _interruptible(frame):
            call.interrupted = True
            raise Preempted()  # else the watchdog asks again in a moment


_NOT_HERE = (str(Path(__file__).parent.parent / "engine"), f"{os.sep}psycopg{os.sep}")


def _interruptible(frame: Any) -> bool:
    """Whether user code stopped at `frame` can be abandoned there: not inside an engine or
    its database driver, whose shared state (a connection mid-statement) would be left
    half-changed."""
    while frame is not None:
        name: str = frame.f_code.co_filename
        if name.startswith(_NOT_HERE[0]) or _NOT_HERE[1] in name:
            return False
        frame = frame.f_back
    return True


_preemption = _Preemption()
