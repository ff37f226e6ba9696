"""QueryRunner, MutationRunner, ActionRunner: call other functions from a function.

Each runner takes a definition of its kind and its arguments as keywords, checked by
pyright against the handler's parameters (`run_query(list_by_author, author="ann")`), or
as one Convex-shaped dict, not checked (`run_query(list_by_author, {"author": "ann"})`);
or a `"module:name"` path, whose result is untyped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar, overload

from confect.app.functions import (
    ActionDefinition,
    MutationDefinition,
    QueryDefinition,
    call_args,
)
from effects import Effect, Tag

A = TypeVar("A")
E = TypeVar("E")
P = ParamSpec("P")

Run = Callable[[Any, Mapping[str, Any]], Effect[Any, Any]]


class _Runner:
    """A service that runs other functions through `run`."""

    __slots__ = ("_run",)

    def __init__(self, run: Run) -> None:
        self._run = run


class QueryRunnerService(_Runner):
    """`run_query(fn, ...)`: in a mutation, the query sees the mutation's own writes."""

    __slots__ = ()

    @overload
    def run_query(
        self, fn: QueryDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs
    ) -> Effect[A, E]: ...
    @overload
    def run_query(
        self, fn: QueryDefinition[..., A, E], args: Mapping[str, Any] | None, /
    ) -> Effect[A, E]: ...
    @overload
    def run_query(
        self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> Effect[Any, Any]: ...
    def run_query(self, fn: Any, /, *args: Any, **kwargs: Any) -> Effect[Any, Any]:
        return self._run(fn, call_args(args, kwargs))


class MutationRunnerService(_Runner):
    """`run_mutation(fn, ...)`: from a mutation, a sub-transaction of the caller's."""

    __slots__ = ()

    @overload
    def run_mutation(
        self, fn: MutationDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs
    ) -> Effect[A, E]: ...
    @overload
    def run_mutation(
        self, fn: MutationDefinition[..., A, E], args: Mapping[str, Any] | None, /
    ) -> Effect[A, E]: ...
    @overload
    def run_mutation(
        self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> Effect[Any, Any]: ...
    def run_mutation(self, fn: Any, /, *args: Any, **kwargs: Any) -> Effect[Any, Any]:
        return self._run(fn, call_args(args, kwargs))


class ActionRunnerService(_Runner):
    """`run_action(fn, ...)`: from an action."""

    __slots__ = ()

    @overload
    def run_action(
        self, fn: ActionDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs
    ) -> Effect[A, E]: ...
    @overload
    def run_action(
        self, fn: ActionDefinition[..., A, E], args: Mapping[str, Any] | None, /
    ) -> Effect[A, E]: ...
    @overload
    def run_action(
        self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> Effect[Any, Any]: ...
    def run_action(self, fn: Any, /, *args: Any, **kwargs: Any) -> Effect[Any, Any]:
        return self._run(fn, call_args(args, kwargs))


class QueryRunner(Tag["QueryRunner", QueryRunnerService]):
    """Run a query: in every function type."""


class MutationRunner(Tag["MutationRunner", MutationRunnerService]):
    """Run a mutation: in mutations, actions and http actions."""


class ActionRunner(Tag["ActionRunner", ActionRunnerService]):
    """Run an action: in actions and http actions."""
