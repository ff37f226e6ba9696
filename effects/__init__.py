"""effects: a small, fast, typed effect runtime for Python.

An `Effect[A, E, R]` describes work that needs services `R`, may fail with a typed
error `E`, and succeeds with `A`. Build effects with constructors and combinators or
with `@gen` generator functions, then run them with `run_sync` or `await run(...)`.
"""

from effects import clock
from effects.cause import Cause
from effects.clock import Clock, LiveClock, TestClock, sleep
from effects.combinators import (
    acquire_use_release,
    cached,
    filter_or_fail,
    fork_in,
    fork_scoped,
    on_error,
    on_interrupt,
    once,
    partition,
    race_all,
    timeout_fail,
    timeout_to,
    unless,
    validate_all,
    when,
    zip_with,
)
from effects.concurrency import all, for_each, fork, fork_daemon, race, race_first, timeout
from effects.config import Config
from effects.config_error import ConfigError, ConfigIssue
from effects.config_provider import ConfigProvider, ConfigProviderService, with_config_provider
from effects.context import Context, Reference, Tag
from effects.deferred import Deferred
from effects.effect import (
    Effect,
    EffectGen,
    async_,
    attempt,
    catch_tag,
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
from effects.fiber_ref import FiberRef
from effects.layer import Layer, provide
from effects.logger import (
    Logger,
    LogLevel,
    annotate_logs,
    log,
    log_debug,
    log_error,
    log_fatal,
    log_info,
    log_trace,
    log_warning,
    log_with_level,
    with_log_span,
    with_minimum_log_level,
)
from effects.managed_runtime import ManagedRuntime
from effects.pubsub import PubSub
from effects.queue import Queue
from effects.redacted import Redacted
from effects.ref import Ref
from effects.running_fiber import RunningFiber, run_fork
from effects.runtime import Fiber, MaxOpsBeforeYield, run, run_exit, run_sync, run_sync_exit
from effects.schedule import Schedule, retry_or_else
from effects.scope import Scope, ScopeService, acquire_release, add_finalizer, scoped
from effects.service import Service
from effects.synchronization import Latch, Semaphore
from effects.synchronized_ref import SynchronizedRef
from effects.tracing import Span, Tracer, annotate_current_span, current_span, with_span

__all__ = [
    "AsyncInSyncError",
    "Cause",
    "Clock",
    "Config",
    "ConfigError",
    "ConfigIssue",
    "ConfigProvider",
    "ConfigProviderService",
    "Context",
    "Deferred",
    "Effect",
    "EffectGen",
    "Exit",
    "FailureValue",
    "Fiber",
    "FiberRef",
    "Interrupted",
    "Latch",
    "Layer",
    "LiveClock",
    "LogLevel",
    "Logger",
    "ManagedRuntime",
    "MaxOpsBeforeYield",
    "MissingServiceError",
    "NoSuchElementError",
    "PubSub",
    "Queue",
    "Redacted",
    "Ref",
    "Reference",
    "RunningFiber",
    "Schedule",
    "Scope",
    "ScopeService",
    "Semaphore",
    "Service",
    "Span",
    "SynchronizedRef",
    "Tag",
    "TaggedError",
    "TestClock",
    "TimeoutError",
    "TimeoutException",
    "Tracer",
    "UnknownException",
    "acquire_release",
    "acquire_use_release",
    "add_finalizer",
    "all",
    "annotate_current_span",
    "annotate_logs",
    "async_",
    "attempt",
    "cached",
    "catch_tag",
    "clock",
    "current_span",
    "die",
    "fail",
    "fail_cause",
    "filter_or_fail",
    "for_each",
    "fork",
    "fork_daemon",
    "fork_in",
    "fork_scoped",
    "gen",
    "interrupt",
    "interruptible",
    "log",
    "log_debug",
    "log_error",
    "log_fatal",
    "log_info",
    "log_trace",
    "log_warning",
    "log_with_level",
    "never",
    "on_error",
    "on_interrupt",
    "once",
    "partition",
    "promise",
    "provide",
    "provide_service",
    "race",
    "race_all",
    "race_first",
    "retry_or_else",
    "run",
    "run_exit",
    "run_fork",
    "run_sync",
    "run_sync_exit",
    "scoped",
    "sleep",
    "succeed",
    "suspend",
    "sync",
    "timeout",
    "timeout_fail",
    "timeout_to",
    "try_promise",
    "uninterruptible",
    "uninterruptible_mask",
    "unless",
    "validate_all",
    "when",
    "with_config_provider",
    "with_log_span",
    "with_minimum_log_level",
    "with_span",
    "yield_now",
    "zip_with",
]
