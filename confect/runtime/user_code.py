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
import contextlib
import contextvars
import ctypes
import logging
import os
import queue
import signal
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Protocol

import effects
from confect.model.errors import FunctionTimeout
from effects import Effect, Exit, TaggedError
from effects.exit import Failure, Success
from effects.runtime import AsyncInSyncError

log = logging.getLogger("confect.server")


class CallTimedOut(BaseException):
    """Raised inside a worker thread whose call ran past its limit. A BaseException, so
    user code's `except Exception` does not swallow it."""


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


_here = threading.local()


def in_worker_thread() -> bool:
    """Whether the caller is user code on a worker thread (calls it makes run inline)."""
    return getattr(_here, "worker", False)


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
        self._watchdog = _Watchdog()
        self._transactions = _Pool("confect-tx", transaction_threads, self._watchdog)
        self._actions = _Pool("confect-action", action_threads, self._watchdog)
        self._seconds = {"query": transaction_seconds, "mutation": transaction_seconds}
        self._action_seconds = action_seconds

    def run(
        self, effect: Effect[Any, Any, Any], kind: str, off_loop: bool = False
    ) -> Effect[Any, Any, Any]:
        if in_worker_thread():
            return effect  # a call made by user code: part of the caller's run
        self._watchdog.start()
        seconds = self._seconds.get(kind)
        pool = self._transactions
        if seconds is None:
            seconds, pool = self._action_seconds, self._actions
        elif not off_loop and _preemption.ready():
            return effects.suspend(lambda: _preemption.run(effect))

        def register(resume: Callable[[Effect[Any, Any, Any]], None]) -> Any:
            job = _Job(effect, seconds, _Answers.of(asyncio.get_running_loop()), resume)
            pool.submit(job)
            return job.cancel

        return effects.async_(register, needs_loop=True)

    def close(self) -> None:
        """Stop the idle threads (running calls go on until they end or time out)."""
        self._transactions.close()
        self._actions.close()
        self._watchdog.close()


class _Job:
    """One call's user code, and how its answer gets back to the loop that waits for it."""

    def __init__(
        self,
        effect: Effect[Any, Any, Any],
        seconds: float,
        answers: _Answers,
        resume: Callable[[Effect[Any, Any, Any]], None],
    ) -> None:
        self.effect = effect
        self.seconds = seconds
        self._answers = answers
        self._resume = resume
        self._context = contextvars.copy_context()  # the call's log-line collector, ...
        self._lock = threading.Lock()
        self._thread: int | None = None
        self.on_stop: Callable[[], None] = lambda: None
        self.answered = False  # the waiting fiber has its answer (or gave up)
        self.finished = False  # its user code returned
        self.stopped = False  # CallTimedOut was sent to its thread: the thread retires

    def run_here(self) -> None:
        """Run on the current (worker) thread and answer the loop."""
        with self._lock:
            if self.answered:  # cancelled before it started
                self.finished = True
                return
            self._thread = threading.get_ident()
        exit_ = self._context.run(_run_user_code, self.effect)
        with self._lock:
            self.finished = True
            if self.answered:
                return
            self.answered = True
        self._answer(_from_exit(exit_))

    def _answer(self, effect: Effect[Any, Any, Any]) -> None:
        self._answers.put(self._resume, effect)

    def time_out(self) -> None:
        """Past the limit: answer with the timeout error and stop the thread."""
        with self._lock:
            first = not self.answered
            self.answered = True
            self._stop()
        if first:
            self._answer(effects.fail(FunctionTimeout(seconds=self.seconds)))

    def cancel(self) -> None:
        """The waiting fiber was interrupted: stop the thread (if it started)."""
        with self._lock:
            self.answered = True
            self._stop()

    def _stop(self) -> None:
        if self._thread is None or self.finished:
            return
        if not self.stopped:
            self.stopped = True
            self.on_stop()
        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(self._thread), ctypes.py_object(CallTimedOut)
        )


class _Answers:
    """The answers on their way back to one event loop: whichever threads finish jobs, the
    loop is woken once for all the answers that are waiting, not once for each (under load
    that is most of a hand-off's cost)."""

    _by_loop: ClassVar[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Answers]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._waiting: list[tuple[Callable[[Effect[Any, Any, Any]], None], Any]] = []

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> _Answers:
        answers = cls._by_loop.get(loop)
        if answers is None:
            answers = cls._by_loop[loop] = _Answers(loop)
        return answers

    def put(self, resume: Callable[[Effect[Any, Any, Any]], None], effect: Any) -> None:
        with self._lock:
            self._waiting.append((resume, effect))
            first = len(self._waiting) == 1
        if first:
            with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
                self._loop.call_soon_threadsafe(self._deliver)

    def _deliver(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, []
        for resume, effect in waiting:
            resume(effect)


INLINE_SECONDS = 0.05
"""How long a query's or mutation's user code may hold the event loop before it is moved to
a worker thread: the longest it can hold up other clients (PERFORMANCE.md's 50 ms)."""


class Preempted(BaseException):
    """Raised on the main thread (by SIGUSR1's handler) in user code that has held the
    event loop past INLINE_SECONDS."""


class _InlineCall:
    __slots__ = ("preempted", "started")

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.preempted = False


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
        self._current = _InlineCall()
        try:
            try:
                exit_ = effects.run_sync_exit(effect)
            finally:
                self._current = None
        except (Preempted, AsyncInSyncError):  # too long, or it needs the loop: a thread's
            return effects.fail(MovedOffLoop())
        return _from_exit(exit_)

    def overdue(self, now: float) -> None:
        """From the watchdog: stop the inline call if it has run too long."""
        call = self._current
        # asked again each tick until it stops (it may be inside an engine just then)
        wait = _Watchdog.TICK if call is not None and call.preempted else INLINE_SECONDS
        if call is not None and now - call.started > wait:
            call.preempted = True
            call.started = now
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGUSR1)

    def _on_signal(self, signum: int, frame: Any) -> None:
        call = self._current
        if call is not None and call.preempted and _interruptible(frame):
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


def _run_user_code(effect: Effect[Any, Any, Any]) -> Exit[Any, Any]:
    _here.worker = True
    try:
        return effects.run_sync_exit(effect)
    finally:
        _here.worker = False


def _from_exit(exit_: Exit[Any, Any]) -> Effect[Any, Any, Any]:
    if isinstance(exit_, Success):
        value: Any = exit_.value
        return effects.succeed(value)
    assert isinstance(exit_, Failure)
    cause: Any = exit_.cause
    return effects.fail_cause(cause)


class _Pool:
    """Threads that take jobs from one queue: an idle one takes a new job, else a new
    thread starts (up to `size`), else the job waits its turn. A stopped thread leaves the
    pool at once (it may stay stuck in a C call for a while) and is replaced."""

    def __init__(self, name: str, size: int, watchdog: _Watchdog) -> None:
        self._name = name
        self._size = size
        self._watchdog = watchdog
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a job and not yet promised one
        self._threads = 0
        self._backlog = 0  # jobs queued with no thread promised to them

    def submit(self, job: _Job) -> None:
        job.on_stop = self._retire
        with self._lock:
            start = False
            if self._idle:
                self._idle -= 1
            elif self._threads < self._size:
                self._threads += 1
                start = True
            else:
                self._backlog += 1
        if start:
            threading.Thread(target=self._work, args=(job,), name=self._name, daemon=True).start()
        else:
            self._jobs.put(job)

    def _retire(self) -> None:
        with self._lock:
            self._threads -= 1

    def _work(self, job: _Job | None) -> None:
        try:
            while job is not None:
                self._watchdog.watch(job)
                job.run_here()
                self._watchdog.unwatch(job)
                if job.stopped:  # CallTimedOut may still be on its way to this thread
                    log.warning("a worker thread was stopped: its call ran past its limit")
                    return
                with self._lock:
                    if self._backlog:
                        self._backlog -= 1
                    else:
                        self._idle += 1
                job = self._jobs.get()
        except CallTimedOut:
            if job is not None:
                self._watchdog.unwatch(job)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, 0
            self._threads -= idle
        for _ in range(idle):
            self._jobs.put(None)


class _Watchdog:
    """One thread that times out the jobs running past their limits. It looks every TICK
    seconds rather than waking at each deadline: starting a job then costs a dict entry,
    not a wake-up of this thread (a limit is kept to within a TICK)."""

    TICK = 0.02

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._deadlines: dict[_Job, float] = {}
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="confect-watchdog")
                    self._thread.daemon = True
                    self._thread.start()

    def watch(self, job: _Job) -> None:
        deadline = time.monotonic() + job.seconds
        with self._lock:
            self._deadlines[job] = deadline

    def unwatch(self, job: _Job) -> None:
        with self._lock:
            self._deadlines.pop(job, None)

    def close(self) -> None:
        self._closed.set()

    def _run(self) -> None:
        while not self._closed.wait(self.TICK):
            now = time.monotonic()
            _preemption.overdue(now)
            with self._lock:
                overdue = [job for job, deadline in self._deadlines.items() if deadline <= now]
                for job in overdue:
                    # a thread that catches even BaseException is asked again each second
                    self._deadlines[job] = now + 1.0
            for job in overdue:
                job.time_out()
