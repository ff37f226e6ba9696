"""effects: a small, fast, typed effect runtime for Python.

An `Effect[A, E, R]` describes work that needs services `R`, may fail with a typed
error `E`, and succeeds with `A`. Build effects with constructors and combinators or
with `@gen` generator functions, then run them with `run_sync` or `await run(...)`.
"""

from effects import clock
from effects.cause import Cause
from effects.clock import Clock, LiveClock, TestClock, sleep
from effects.concurrency import (
    all,
    for_each,
    fork,
    fork_daemon,
    fork_in,
    fork_scoped,
    race,
    race_first,
    timeout,
)
from effects.context import Context, Reference, Tag
from effects.effect import (
    Effect,
    EffectGen,
    async_,
    attempt,
    catch_tag,
    check_interruptible,
    die,
    fail,
    fail_cause,
    gen,
    interrupt,
    interruptible,
    never,
    promise,
    provide_service,
    succeed,
    suspend,
    sync,
    try_promise,
    uninterruptible,
    uninterruptible_mask,
    yield_now,
)
from effects.errors import (
    AsyncInSyncError,
    FailureValue,
    Interrupted,
    MissingServiceError,
    NoSuchElementError,
    TaggedError,
    TimeoutError,
    TimeoutException,
    UnknownException,
)
from effects.exit import Exit
from effects.layer import Layer, provide
from effects.runtime import Fiber, MaxOpsBeforeYield, run, run_exit, run_sync, run_sync_exit
from effects.schedule import Schedule
from effects.scope import Scope, ScopeService, acquire_release, add_finalizer, scoped

__all__ = [
    "AsyncInSyncError",
    "Cause",
    "Clock",
    "Context",
    "Effect",
    "EffectGen",
    "Exit",
    "FailureValue",
    "Fiber",
    "Interrupted",
    "Layer",
    "LiveClock",
    "MaxOpsBeforeYield",
    "MissingServiceError",
    "NoSuchElementError",
    "Reference",
    "Schedule",
    "Scope",
    "ScopeService",
    "Tag",
    "TaggedError",
    "TestClock",
    "TimeoutError",
    "TimeoutException",
    "UnknownException",
    "acquire_release",
    "add_finalizer",
    "all",
    "async_",
    "attempt",
    "catch_tag",
    "check_interruptible",
    "clock",
    "die",
    "fail",
    "fail_cause",
    "for_each",
    "fork",
    "fork_daemon",
    "fork_in",
    "fork_scoped",
    "gen",
    "interrupt",
    "interruptible",
    "never",
    "promise",
    "provide",
    "provide_service",
    "race",
    "race_first",
    "run",
    "run_exit",
    "run_sync",
    "run_sync_exit",
    "scoped",
    "sleep",
    "succeed",
    "suspend",
    "sync",
    "timeout",
    "try_promise",
    "uninterruptible",
    "uninterruptible_mask",
    "yield_now",
]
