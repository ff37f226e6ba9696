"""QueryCtx, MutationCtx, ActionCtx: the raw context object of each function type, for
handlers that prefer `ctx.db` to asking for each service."""

from __future__ import annotations

from typing import Any

from effects import Tag
from effects.context import Unavailable


class FunctionCtx:
    """Every service the function's type has, as attributes (`db`, `auth`, `storage`,
    `run_query`, ...), looked up when used; one the type lacks is a `ServiceNotAvailable`."""

    __slots__ = ("_names", "_services", "kind")

    def __init__(
        self, kind: str, services: dict[Any, Any], names: dict[str, tuple[Any, str | None]]
    ) -> None:
        self.kind = kind
        self._services = services
        self._names = names  # attribute -> (tag, method of the service or None)

    def __getattr__(self, name: str) -> Any:
        try:
            tag, method = self._names[name]
        except KeyError:
            raise AttributeError(f"a {self.kind} context has no {name!r}") from None
        service = self._services[tag]
        if type(service) is Unavailable:  # `ctx.db_writer` in a query fails right there
            raise service.make_error()
        return getattr(service, method) if method else service


class QueryCtx(Tag["QueryCtx", FunctionCtx]):
    """`db` (reader), `auth`, `storage`, `run_query`."""


class MutationCtx(Tag["MutationCtx", FunctionCtx]):
    """`db` (reader), `db_writer`, `auth`, `storage`, `scheduler`, `run_query`, `run_mutation`."""


class ActionCtx(Tag["ActionCtx", FunctionCtx]):
    """`auth`, `storage`, `scheduler`, `run_query`, `run_mutation`, `run_action`,
    `vector_search`."""
