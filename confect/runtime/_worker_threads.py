"""Worker threads for user code: pools of threads that start as calls need them, and one
watchdog thread that stops a call past its limit (see `user_code`, which uses them).

A thread cannot be killed: a call over its limit is answered at once with the timeout
error, and `CallTimedOut` is raised inside its thread at its next Python instruction; the
thread then leaves its pool, and a fresh one takes its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import ctypes
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

import effects
from confect.model.errors import FunctionTimeout
from effects import Effect, Exit
from effects.exit import Failure, Success

log = logging.getLogger("confect.server")


class CallTimedOut(BaseException):
    """Raised inside a worker thread whose call ran past its limit. A BaseException, so
    user code's `except Exception` does not swallow it."""


_here = threading.local()


def in_worker_thread() -> bool:
    """Whether the caller is user code on a worker thread (calls it makes run inline)."""
    return getattr(_here, "worker", False)


def run_user_code(effect: Effect[Any, Any, Any]) -> Exit[Any, Any]:
    """Run `effect` to its end on this worker thread (calls it makes run inline)."""
    _here.worker = True
    try:
        return effects.run_sync_exit(effect)
    finally:
        _here.worker = False


def from_exit(exit_: Exit[Any, Any]) -> Effect[Any, Any, Any]:
    """An effect that ends as `exit_` did."""
    if isinstance(exit_, Success):
        value: Any = exit_.value
        return effects.succeed(value)
    assert isinstance(exit_, Failure)
    cause: Any = exit_.cause
    return effects.fail_cause(cause)


class Job:
    """One call's user code, and how its answer gets back to the loop that waits for it."""

    def __init__(
        self,
        effect: Effect[Any, Any, Any],
        seconds: float,
        answers: Answers,
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
        exit_ = self._context.run(run_user_code, self.effect)
        with self._lock:
            self.finished = True
            if self.answered:
                return
            self.answered = True
        self._answer(from_exit(exit_))

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


class Answers:
    """The answers on their way back to one event loop: whichever threads finish jobs, the
    loop is woken once for all the answers that are waiting, not once for each (under load
    that is most of a hand-off's cost)."""

    _by_loop: ClassVar[weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Answers]] = (
        weakref.WeakKeyDictionary()
    )

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._lock = threading.Lock()
        self._waiting: list[tuple[Callable[[Effect[Any, Any, Any]], None], Any]] = []

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> Answers:
        answers = cls._by_loop.get(loop)
        if answers is None:
            answers = cls._by_loop[loop] = Answers(loop)
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


class Pool:
    """Threads that take jobs from one queue: an idle one takes a new job, else a new
    thread starts (up to `size`), else the job waits its turn. A stopped thread leaves the
    pool at once (it may stay stuck in a C call for a while) and is replaced."""

    def __init__(self, name: str, size: int, watchdog: Watchdog) -> None:
        self._name = name
        self._size = size
        self._watchdog = watchdog
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a job and not yet promised one
        self._threads = 0
        self._backlog = 0  # jobs queued with no thread promised to them

    def submit(self, job: Job) -> None:
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

    def _work(self, job: Job | None) -> None:
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


class Watchdog:
    """One thread that times out the jobs running past their limits, and calls `on_tick`
    with the time each tick. It looks every TICK seconds rather than waking at each
    deadline: starting a job then costs a dict entry, not a wake-up of this thread (a limit
    is kept to within a TICK)."""

    TICK = 0.02

    def __init__(self, on_tick: Callable[[float], None]) -> None:
        self._on_tick = on_tick
        self._lock = threading.Lock()
        self._deadlines: dict[Job, float] = {}
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="confect-watchdog")
                    self._thread.daemon = True
                    self._thread.start()

    def watch(self, job: Job) -> None:
        deadline = time.monotonic() + job.seconds
        with self._lock:
            self._deadlines[job] = deadline

    def unwatch(self, job: Job) -> None:
        with self._lock:
            self._deadlines.pop(job, None)

    def close(self) -> None:
        self._closed.set()

    def _run(self) -> None:
        while not self._closed.wait(self.TICK):
            now = time.monotonic()
            self._on_tick(now)
            with self._lock:
                overdue = [job for job, deadline in self._deadlines.items() if deadline <= now]
                for job in overdue:
                    # a thread that catches even BaseException is asked again each second
                    self._deadlines[job] = now + 1.0
            for job in overdue:
                job.time_out()
