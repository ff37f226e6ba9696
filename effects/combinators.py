"""Combinators applications reach for, with Effect's names and meanings: conditions,
zipping, caching, resource brackets, cleanup on error or interruption, timeouts with
their own outcome, partitioning and validating many effects, racing many, and forking
into a scope.

The ones Effect also offers as methods are methods of `Effect` too (`eff.zip_with(...)`,
`eff.when(...)`, `eff.timeout_fail(...)`, ...): those delegate here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Never, TypeVar, cast

from returns.result import Success as ResultSuccess

from effects.cause import Cause
from effects.clock import sleep
from effects.concurrency import Concurrency, for_each, race_first
from effects.concurrency import _race as race_contenders  # pyright: ignore[reportPrivateUsage]
from effects.effect import (
    Canceler,
    Effect,
    Resume,
    async_,
    fail,
    fail_cause,
    succeed,
    suspend,
    uninterruptible_mask,
    with_fiber,
)
from effects.errors import NoSuchElementError
from effects.exit import Exit, Failure, Success

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
E = TypeVar("E")
E2 = TypeVar("E2")
R = TypeVar("R")
R2 = TypeVar("R2")

# --- conditions --------------------------------------------------------------------------------


def when(effect: Effect[A, E, R], condition: Callable[[], bool]) -> Effect[A | None, E, R]:
    """Run `effect` only if `condition()` holds when this runs; None if not (Effect's
    `when`, with None for `Option.none`)."""
    return suspend(lambda: effect if condition() else succeed(None))


def unless(effect: Effect[A, E, R], condition: Callable[[], bool]) -> Effect[A | None, E, R]:
    """Run `effect` only if `condition()` does not hold (Effect's `unless`)."""
    return suspend(lambda: succeed(None) if condition() else effect)


def filter_or_fail(
    effect: Effect[A, E, R],
    predicate: Callable[[A], bool],
    or_fail_with: Callable[[A], E2] | None = None,
) -> Effect[A, E | E2 | NoSuchElementError, R]:
    """Keep a value `predicate` accepts; fail with `or_fail_with(value)` otherwise (with
    `NoSuchElementError` without it), as Effect's `filterOrFail`."""

    def check(value: A) -> Effect[A, E2 | NoSuchElementError]:
        if predicate(value):
            return succeed(value)
        return fail(or_fail_with(value) if or_fail_with else NoSuchElementError())

    return effect.flat_map(check)


# --- zipping ---------------------------------------------------------------------------------


def zip_with(
    first: Effect[A, E, R],
    second: Effect[B, E2, R2],
    f: Callable[[A, B], C],
    concurrent: bool = False,
) -> Effect[C, E | E2, R | R2]:
    """Run both (one after the other, or at once with `concurrent`: the first failure
    interrupts the other) and combine their values with `f` (Effect's `zipWith`)."""
    if not concurrent:
        return first.flat_map(lambda a: second.map(lambda b: f(a, b)))
    pair: list[Effect[Any, E | E2, R | R2]] = [first, second]
    both = for_each(pair, _run, concurrency="unbounded")
    return both.map(lambda values: f(values[0], values[1]))


def zip(
    first: Effect[A, E, R], second: Effect[B, E2, R2], concurrent: bool = False
) -> Effect[tuple[A, B], E | E2, R | R2]:
    """Both values, as a pair (Effect's `zip`; `concurrent` runs both at once)."""
    return zip_with(first, second, lambda a, b: (a, b), concurrent)


# --- caching -----------------------------------------------------------------------------------


class _Memo:
    """The outcome of an effect run once, and who waits for it meanwhile."""

    __slots__ = ("exit", "running", "waiters")

    def __init__(self) -> None:
        self.exit: Exit[Any, Any] | None = None
        self.running = False
        self.waiters: list[Resume] = []

    def get(self, effect: Effect[Any, Any, Any]) -> Effect[Any, Any, Any]:
        def start() -> Effect[Any, Any, Any]:
            if self.exit is not None:
                return _from_exit(self.exit)
            if self.running:
                return async_(self._wait)
            self.running = True
            return effect.on_exit(self._finish)

        return suspend(start)

    def _wait(self, resume: Resume) -> Canceler:
        self.waiters.append(resume)
        return lambda: self.waiters.remove(resume) if resume in self.waiters else None

    def _finish(self, exit_: Exit[Any, Any]) -> Effect[None]:
        self.exit = exit_
        waiters, self.waiters = self.waiters, []
        for resume in waiters:
            resume(_from_exit(exit_))
        return succeed(None)


def cached(effect: Effect[A, E, R]) -> Effect[Effect[A, E, R]]:
    """An effect whose value is an effect that runs `effect` the first time, and gives its
    outcome (success or failure) every time after; callers meanwhile wait for the first
    run (Effect's `cached`)."""
    return suspend(lambda: succeed(_Memo().get(effect)))


def once(effect: Effect[Any, E, R]) -> Effect[Effect[None, E, R]]:
    """An effect whose value is an effect that runs `effect` at most once (Effect's `once`)."""
    return cached(effect.as_(None))


# --- resources and cleanup ---------------------------------------------------------------------


def acquire_use_release(
    acquire: Effect[A, E, R],
    use: Callable[[A], Effect[B, E2, R2]],
    release: Callable[[A, Exit[B, E2]], Effect[Any, Never, Any]],
) -> Effect[B, E | E2, R | R2]:
    """Acquire uninterruptibly, use, then release with the use's `Exit`, however the use
    ends (Effect's `acquireUseRelease`)."""
    return uninterruptible_mask(
        lambda restore: acquire.flat_map(
            lambda resource: restore(suspend(lambda: use(resource))).on_exit(
                lambda exit_: release(resource, exit_)
            )
        )
    )


def on_error(
    effect: Effect[A, E, R], cleanup: Callable[[Cause[E]], Effect[Any, Never, R2]]
) -> Effect[A, E, R | R2]:
    """Run `cleanup(cause)` if `effect` fails (interruption included), then fail the same
    way (Effect's `onError`)."""
    return effect.on_exit(
        lambda exit_: cleanup(exit_.cause) if isinstance(exit_, Failure) else succeed(None)
    )


def on_interrupt(effect: Effect[A, E, R], cleanup: Effect[Any, Never, R2]) -> Effect[A, E, R | R2]:
    """Run `cleanup` if `effect` is interrupted (Effect's `onInterrupt`, without the
    interrupting fibers' ids)."""
    return effect.on_exit(
        lambda exit_: (
            cleanup
            if isinstance(exit_, Failure)
            and cast("Failure[Any]", exit_).cause.is_interrupted_only()
            else succeed(None)
        )
    )


# --- timeouts -----------------------------------------------------------------------------------


def timeout_fail(
    effect: Effect[A, E, R], seconds: float, on_timeout: Callable[[], E2]
) -> Effect[A, E | E2, R]:
    """Fail with `on_timeout()` unless `effect` ends within `seconds` (it is interrupted),
    as Effect's `timeoutFail`."""
    return race_first(effect, sleep(seconds).then(suspend(lambda: fail(on_timeout()))))


def timeout_to(
    effect: Effect[A, E, R],
    seconds: float,
    on_timeout: Callable[[], B],
    on_success: Callable[[A], C],
) -> Effect[B | C, E, R]:
    """`on_success(value)` if `effect` ends within `seconds`, else `on_timeout()` (the
    effect is interrupted), as Effect's `timeoutTo`."""
    timed_out = object()
    raced: Effect[Any, E, R] = race_first(effect, sleep(seconds).as_(timed_out))
    return raced.map(lambda v: on_timeout() if v is timed_out else on_success(v))


# --- many effects --------------------------------------------------------------------------------


def partition(
    items: Iterable[A], f: Callable[[A], Effect[B, E, R]], concurrency: Concurrency = None
) -> Effect[tuple[list[E], list[B]], Never, R]:
    """Run `f(item)` for every item; succeed with the typed errors and the values, each in
    order (Effect's `partition`: it never fails on a typed error)."""

    def split(exits: list[Any]) -> tuple[list[E], list[B]]:
        errors = [e.failure() for e in exits if not _is_success(e)]
        return errors, [e.unwrap() for e in exits if _is_success(e)]

    return for_each(items, lambda item: f(item).either(), concurrency).map(split)


def validate_all(
    items: Iterable[A], f: Callable[[A], Effect[B, E, R]], concurrency: Concurrency = None
) -> Effect[list[B], list[E], R]:
    """Run `f(item)` for every item; succeed with all the values, or fail with all the
    typed errors, in order (Effect's `validateAll`)."""

    def decide(split: tuple[list[E], list[B]]) -> Effect[list[B], list[E]]:
        errors, values = split
        return fail(errors) if errors else succeed(values)

    return partition(items, f, concurrency).flat_map(decide)


def race_all(effects: Iterable[Effect[A, E, R]]) -> Effect[A, E, R]:
    """The first to succeed wins and the others are interrupted; fails only if all fail
    (Effect's `raceAll`)."""
    contenders = list(effects)
    if not contenders:
        raise ValueError("race_all needs at least one effect")
    return with_fiber(lambda parent: race_contenders(parent, list(contenders), first_exit=False))


# --- internals ---------------------------------------------------------------------------------


def _run(effect: Effect[A, E, R]) -> Effect[A, E, R]:
    return effect


def _from_exit(exit_: Exit[Any, Any]) -> Effect[Any, Any, Any]:
    if isinstance(exit_, Success):
        return succeed(exit_.value)
    return fail_cause(cast("Failure[Any]", exit_).cause)


def _is_success(result: Any) -> bool:
    return isinstance(result, ResultSuccess)


__all__ = [
    "acquire_use_release",
    "cached",
    "filter_or_fail",
    "on_error",
    "on_interrupt",
    "once",
    "partition",
    "race_all",
    "timeout_fail",
    "timeout_to",
    "unless",
    "validate_all",
    "when",
    "zip",
    "zip_with",
]
