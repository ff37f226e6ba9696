"""QueryRunner, MutationRunner, ActionRunner: call other functions from a function."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from effects import Effect, Tag

FunctionRef = Any  # a FunctionDefinition or a "module:name" path
Run = Callable[[FunctionRef, Mapping[str, Any]], Effect[Any, Any]]


class _Runner:
    """A service that runs other functions through `run`."""

    __slots__ = ("_run",)

    def __init__(self, run: Run) -> None:
        self._run = run


class QueryRunnerService(_Runner):
    """`run_query(fn, args)`: in a mutation, the query sees the mutation's own writes."""

    __slots__ = ()

    def run_query(self, fn: FunctionRef, args: Mapping[str, Any] | None = None) -> Effect[Any, Any]:
        return self._run(fn, args or {})


class MutationRunnerService(_Runner):
    """`run_mutation(fn, args)`: from a mutation, a sub-transaction of the caller's."""

    __slots__ = ()

    def run_mutation(
        self, fn: FunctionRef, args: Mapping[str, Any] | None = None
    ) -> Effect[Any, Any]:
        return self._run(fn, args or {})


class ActionRunnerService(_Runner):
    """`run_action(fn, args)`: from an action."""

    __slots__ = ()

    def run_action(
        self, fn: FunctionRef, args: Mapping[str, Any] | None = None
    ) -> Effect[Any, Any]:
        return self._run(fn, args or {})


class QueryRunner(Tag["QueryRunner", QueryRunnerService]):
    """Run a query: in every function type."""


class MutationRunner(Tag["MutationRunner", MutationRunnerService]):
    """Run a mutation: in mutations, actions and http actions."""


class ActionRunner(Tag["ActionRunner", ActionRunnerService]):
    """Run an action: in actions and http actions."""
