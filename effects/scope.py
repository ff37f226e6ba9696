"""Scopes: where finalizers are registered and run, in reverse order, when the scope closes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Never, TypeVar, overload

from effects.cause import Cause, Sequential
from effects.context import Tag
from effects.effect import Effect, fail_cause, succeed, suspend, uninterruptible
from effects.exit import Exit, Failure

A = TypeVar("A")
E = TypeVar("E")
R = TypeVar("R")

Finalizer = Callable[[Exit[Any, Any]], Effect[Any, Any, Any]]


class ScopeService:
    """A set of finalizers. `close(exit)` runs them last-added first, exactly once."""

    __slots__ = ("_closed", "_finalizers")

    def __init__(self) -> None:
        self._finalizers: list[Finalizer] = []
        self._closed = False

    def add_finalizer(self, finalizer: Finalizer) -> Effect[None]:
        """Register `finalizer(exit)`; on a closed scope it runs at once."""

        def add() -> Effect[None]:
            if self._closed:
                return finalizer(Exit.succeed(None)).as_(None)
            self._finalizers.append(finalizer)
            return succeed(None)

        return suspend(add)

    def close(self, exit_: Exit[Any, Any]) -> Effect[None]:
        """Run every finalizer in reverse order; fail with all their failures, if any."""

        def start() -> Effect[None]:
            if self._closed:
                return succeed(None)
            self._closed = True
            finalizers, self._finalizers = self._finalizers, []
            return _run_all(list(reversed(finalizers)), exit_, None)

        return uninterruptible(suspend(start))


def _run_all(
    finalizers: list[Finalizer], exit_: Exit[Any, Any], failed: Cause[Any] | None
) -> Effect[None]:
    if not finalizers:
        return succeed(None) if failed is None else fail_cause(failed)
    first, rest = finalizers[0], finalizers[1:]

    def after(result: Exit[Any, Any]) -> Effect[None]:
        cause = failed
        if isinstance(result, Failure):
            cause = result.cause if cause is None else Sequential(cause, result.cause)
        return _run_all(rest, exit_, cause)

    return suspend(lambda: first(exit_)).exit().flat_map(after)


class Scope(Tag["Scope", ScopeService]):
    """The scope in force. `effects.scoped(eff)` opens one around `eff`."""


@overload
def scoped(effect: Effect[A, E, Scope]) -> Effect[A, E, Never]: ...
@overload
def scoped(effect: Effect[A, E, R | Scope]) -> Effect[A, E, R]: ...
def scoped(effect: Effect[Any, Any, Any]) -> Effect[Any, Any, Any]:
    """Run `effect` in a new scope, closed (finalizers run) when it ends, however it ends."""

    def open_scope() -> Effect[Any, Any, Any]:
        scope = ScopeService()
        return effect.provide_service(Scope, scope).on_exit(scope.close)

    return suspend(open_scope)


def acquire_release(
    acquire: Effect[A, E, R], release: Callable[[A], Effect[Any, Never, Any]]
) -> Effect[A, E, R | Scope]:
    """Acquire uninterruptibly, and register `release(resource)` in the current scope."""

    def register(resource: A) -> Effect[None, Never, Scope]:
        return Scope.flat_map(lambda scope: scope.add_finalizer(lambda _: release(resource)))

    return uninterruptible(acquire.tap(register))


def add_finalizer(finalizer: Finalizer) -> Effect[None, Never, Scope]:
    """Register `finalizer(exit)` in the current scope."""
    return Scope.flat_map(lambda scope: scope.add_finalizer(finalizer))


__all__ = ["Scope", "ScopeService", "acquire_release", "add_finalizer", "scoped"]
