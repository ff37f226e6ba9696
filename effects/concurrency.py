"""Fibers together: fork, all / for_each with bounded concurrency, race, timeout."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, Never, TypeVar, cast, overload

from returns.result import Failure as ResultFailure
from returns.result import Result

from effects.cause import Cause, Parallel
from effects.clock import sleep
from effects.effect import (
    Canceler,
    Effect,
    Resume,
    async_,
    fail,
    fail_cause,
    gen,
    succeed,
    suspend,
    with_fiber,
)
from effects.errors import TimeoutException
from effects.exit import Exit, Failure, Success
from effects.runtime import FiberRuntime
from effects.scope import Scope, ScopeService

A = TypeVar("A")
B = TypeVar("B")
E = TypeVar("E")
R = TypeVar("R")
K = TypeVar("K")

Concurrency = int | Literal["unbounded"] | None
Mode = Literal["default", "either", "validate"]


def fork(effect: Effect[A, E, R]) -> Effect[FiberRuntime[A, E], Never, R]:
    """Start `effect` in a child fiber; it is interrupted when the parent ends."""
    return with_fiber(lambda parent: succeed(parent.fork(effect)))


def fork_daemon(effect: Effect[A, E, R]) -> Effect[FiberRuntime[A, E], Never, R]:
    """Start `effect` in a fiber that outlives its parent."""
    return with_fiber(lambda parent: succeed(parent.fork(effect, daemon=True)))


def fork_in(effect: Effect[A, E, R], scope: ScopeService) -> Effect[FiberRuntime[A, E], Never, R]:
    """Start `effect` in a fiber that lives as long as `scope` (Effect's `forkIn`): it
    outlives the fiber that started it, and closing the scope interrupts it and waits
    until it has ended."""

    def start(parent: FiberRuntime[Any, Any]) -> Effect[FiberRuntime[A, E]]:
        fiber = parent.fork(effect, daemon=True)
        # The fiber may close the scope itself: it must not wait for its own end.
        stop = with_fiber(lambda closing: succeed(None) if closing is fiber else fiber.interrupt())
        return scope.add_finalizer(lambda _: stop).as_(fiber)

    return with_fiber(start)


def fork_scoped(effect: Effect[A, E, R]) -> Effect[FiberRuntime[A, E], Never, R | Scope]:
    """Start `effect` in a fiber that lives as long as the current scope (Effect's
    `forkScoped`; see `fork_in`)."""
    return Scope.flat_map(lambda scope: fork_in(effect, scope))


@overload
def for_each(
    items: Iterable[A],
    f: Callable[[A], Effect[B, E, R]],
    concurrency: Concurrency = None,
    *,
    discard: Literal[False] = False,
) -> Effect[list[B], E, R]: ...
@overload
def for_each(
    items: Iterable[A],
    f: Callable[[A], Effect[B, E, R]],
    concurrency: Concurrency = None,
    *,
    discard: Literal[True],
) -> Effect[None, E, R]: ...
def for_each(
    items: Iterable[A],
    f: Callable[[A], Effect[B, E, R]],
    concurrency: Concurrency = None,
    *,
    discard: bool = False,
) -> Effect[Any, E, R]:
    """Run `f(item)` for each item; succeed with the results in order (with None, keeping
    no results, when `discard`).

    `concurrency`: None or 1 runs one at a time; an int bounds how many run at once;
    "unbounded" runs all at once. The first failure interrupts the others, and the effect
    fails with every failed run's cause, in the items' order, in a `Parallel` cause (as
    Effect's `forEach` does: the others' interruptions are among them).
    """
    items = list(items)
    if concurrency is None or concurrency == 1:
        return _sequential(items, f, discard)
    limit = max(len(items), 1) if concurrency == "unbounded" else concurrency
    if limit < 1:
        raise ValueError(f"concurrency must be >= 1 or 'unbounded', got {concurrency!r}")
    results = with_fiber(lambda parent: _parallel(parent, items, f, limit))
    return results.as_(None) if discard else results


@overload
def all(
    effects: Mapping[K, Effect[A, E, R]],
    concurrency: Concurrency = None,
    mode: Literal["default"] = "default",
) -> Effect[dict[K, A], E, R]: ...
@overload
def all(
    effects: Iterable[Effect[A, E, R]],
    concurrency: Concurrency = None,
    mode: Literal["default"] = "default",
) -> Effect[list[A], E, R]: ...
@overload
def all(
    effects: Mapping[K, Effect[A, E, R]],
    concurrency: Concurrency = None,
    *,
    mode: Literal["either"],
) -> Effect[dict[K, Result[A, E]], Never, R]: ...
@overload
def all(
    effects: Iterable[Effect[A, E, R]], concurrency: Concurrency = None, *, mode: Literal["either"]
) -> Effect[list[Result[A, E]], Never, R]: ...
@overload
def all(
    effects: Mapping[K, Effect[A, E, R]],
    concurrency: Concurrency = None,
    *,
    mode: Literal["validate"],
) -> Effect[dict[K, A], dict[K, E | None], R]: ...
@overload
def all(
    effects: Iterable[Effect[A, E, R]],
    concurrency: Concurrency = None,
    *,
    mode: Literal["validate"],
) -> Effect[list[A], list[E | None], R]: ...
def all(
    effects: Any, concurrency: Concurrency = None, mode: Mode = "default"
) -> Effect[Any, Any, Any]:
    """Run every effect; succeed with their values in the same order (or the same keys).

    `mode` (Effect's): "default" fails with the first failure (interrupting the others);
    "either" never fails and gives each effect's `returns` `Result`; "validate" runs them
    all and, if any failed, fails with each one's error (None for those that succeeded).
    """
    if isinstance(effects, Mapping):
        mapping: Mapping[Any, Effect[Any, Any, Any]] = effects  # pyright: ignore[reportUnknownVariableType]
        keys = list(mapping)
        keyed = _all_listed([mapping[k] for k in keys], concurrency, mode).map(
            lambda values: dict(zip(keys, values, strict=True))
        )
        if mode != "validate":
            return keyed
        return keyed.map_error(lambda errors: dict(zip(keys, errors, strict=True)))
    return _all_listed(effects, concurrency, mode)


def _all_listed(
    effects: Iterable[Effect[Any, Any, Any]], concurrency: Concurrency, mode: Mode
) -> Effect[list[Any], Any, Any]:
    if mode == "default":
        return for_each(effects, _identity, concurrency)
    results = for_each(effects, lambda eff: eff.either(), concurrency)
    return results if mode == "either" else results.flat_map(_validated)


def _validated(results: list[Result[Any, Any]]) -> Effect[list[Any], list[Any]]:
    if any(isinstance(r, ResultFailure) for r in results):
        return fail([r.failure() if isinstance(r, ResultFailure) else None for r in results])
    return succeed([r.unwrap() for r in results])


def race(first: Effect[A, E, R], second: Effect[B, E, R]) -> Effect[A | B, E, R]:
    """The first to succeed wins and the other is interrupted; fails only if both fail."""
    return with_fiber(lambda parent: _race(parent, [first, second], first_exit=False))


def race_first(first: Effect[A, E, R], second: Effect[B, E, R]) -> Effect[A | B, E, R]:
    """The first to finish, success or failure, wins; the other is interrupted."""
    return with_fiber(lambda parent: _race(parent, [first, second], first_exit=True))


def timeout(effect: Effect[A, E, R], seconds: float) -> Effect[A, E | TimeoutException, R]:
    """Fail with `TimeoutException(seconds)` unless `effect` ends within `seconds`."""
    return race_first(effect, sleep(seconds).then(fail(TimeoutException(seconds=seconds))))


# --- internals ---------------------------------------------------------------------------------


def _identity(x: A) -> A:
    return x


def _sequential(
    items: list[A], f: Callable[[A], Effect[B, E, R]], discard: bool = False
) -> Effect[Any, E, R]:
    @gen
    def loop():  # type: ignore[no-untyped-def]
        out: list[B] = []
        for item in items:
            value = yield from f(item)
            if not discard:
                out.append(value)
        return None if discard else out

    return loop()


def _await_all(fibers: Iterable[FiberRuntime[Any, Any]]) -> Effect[None]:
    fibers = list(fibers)
    return for_each(fibers, lambda fb: fb.await_()).as_(None)


def _parallel(
    parent: FiberRuntime[Any, Any], items: list[A], f: Callable[[A], Effect[B, E, R]], limit: int
) -> Effect[list[B], E, R]:
    n = len(items)
    if n == 0:
        return succeed([])
    results: list[Any] = [None] * n

    def register(resume: Resume) -> Canceler:
        running: set[FiberRuntime[Any, Any]] = set()
        children: list[FiberRuntime[Any, Any]] = []
        state: dict[str, Any] = {"next": 0, "done": 0, "failure": None}
        failed: dict[int, Cause[Any]] = {}

        def launch() -> None:
            while state["failure"] is None and state["next"] < n and len(running) < limit:
                i = state["next"]
                state["next"] = i + 1
                child = parent.fork(suspend(functools.partial(f, items[i])))
                children.append(child)
                running.add(child)
                child.add_observer(functools.partial(finished, i, child))

        def finished(i: int, child: FiberRuntime[Any, Any], ex: Exit[Any, Any]) -> None:
            running.discard(child)
            if isinstance(ex, Success):
                results[i] = ex.value
                state["done"] += 1
            else:
                failed[i] = cast(Failure[Any], ex).cause
                if state["failure"] is None:
                    state["failure"] = failed[i]
                    for other in tuple(running):
                        other.interrupt_as(parent.id)
            if state["failure"] is None:
                if state["done"] == n:
                    for fiber in children:  # all succeeded: take in their FiberRef changes
                        parent.join_refs(fiber)
                    resume(succeed(results))
                else:
                    launch()
            elif not running:
                resume(fail_cause(functools.reduce(Parallel, (failed[k] for k in sorted(failed)))))

        launch()
        return lambda: _interrupt_all(parent, running)

    return async_(register)


def _interrupt_all(
    parent: FiberRuntime[Any, Any], fibers: set[FiberRuntime[Any, Any]]
) -> Effect[None]:
    pending = tuple(fibers)
    for fiber in pending:
        fiber.interrupt_as(parent.id)
    return _await_all(pending)


def _race(
    parent: FiberRuntime[Any, Any], contenders: list[Effect[Any, Any, Any]], first_exit: bool
) -> Effect[Any, Any, Any]:
    def register(resume: Resume) -> Canceler:
        fibers = [parent.fork(c) for c in contenders]
        failures: list[Cause[Any]] = []
        decided = [False]

        def finished(fiber: FiberRuntime[Any, Any], ex: Exit[Any, Any]) -> None:
            if decided[0]:
                return
            if isinstance(ex, Failure) and not first_exit:
                failures.append(ex.cause)
                if len(failures) < len(fibers):
                    return
                cause = failures[0]
                for more in failures[1:]:
                    cause = Parallel(cause, more)
                decided[0] = True
                resume(fail_cause(cause))
                return
            decided[0] = True
            losers = {f for f in fibers if f is not fiber}
            if isinstance(ex, Success):
                parent.join_refs(fiber)  # the winner's FiberRef changes, as Effect's race
                outcome = succeed(ex.value)
            else:
                outcome = fail_cause(cast(Failure[Any], ex).cause)
            resume(_interrupt_all(parent, losers).then(outcome))

        for fiber in fibers:
            fiber.add_observer(functools.partial(finished, fiber))
        return lambda: _interrupt_all(parent, set(fibers))

    return async_(register)


__all__ = [
    "all",
    "for_each",
    "fork",
    "fork_daemon",
    "fork_in",
    "fork_scoped",
    "race",
    "race_first",
    "sleep",
    "timeout",
]
