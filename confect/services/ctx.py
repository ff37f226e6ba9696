"""QueryCtx, MutationCtx, ActionCtx: the raw context object of each function type, for
handlers that prefer `ctx.db` to asking for each service."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from effects import Tag
from effects.context import Unavailable

if TYPE_CHECKING:
    from confect.services.auth import AuthService
    from confect.services.database import DatabaseReaderService, DatabaseWriterService
    from confect.services.runners import (
        ActionRunnerService,
        MutationRunnerService,
        QueryRunnerService,
    )
    from confect.services.scheduler import SchedulerService
    from confect.services.storage import (
        StorageActionWriterService,
        StorageReaderService,
        StorageWriterService,
    )
    from confect.services.vector_search import ScoredId
    from effects import Effect


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


if TYPE_CHECKING:  # what each kind's context has, for pyright; one class at run time

    class QueryContext(QueryRunnerService):
        """A query's context: `db`, `auth`, `storage`, `run_query`."""

        kind: str
        db: DatabaseReaderService
        auth: AuthService
        storage: StorageReaderService

    class MutationContext(QueryRunnerService, MutationRunnerService):
        """A mutation's context: a query's, and `db_writer`, `storage_writer`,
        `scheduler`, `run_mutation`."""

        kind: str
        db: DatabaseReaderService
        db_writer: DatabaseWriterService
        auth: AuthService
        storage: StorageReaderService
        storage_writer: StorageWriterService
        scheduler: SchedulerService

    class ActionContext(QueryRunnerService, MutationRunnerService, ActionRunnerService):
        """An action's (and an http action's) context."""

        kind: str
        auth: AuthService
        storage: StorageReaderService
        storage_action_writer: StorageActionWriterService
        scheduler: SchedulerService
        vector_search: Callable[..., Effect[list[ScoredId], Any]]

else:
    QueryContext = MutationContext = ActionContext = FunctionCtx


class QueryCtx(Tag["QueryCtx", "QueryContext"]):
    """`db` (reader), `auth`, `storage`, `run_query`."""


class MutationCtx(Tag["MutationCtx", "MutationContext"]):
    """`db` (reader), `db_writer`, `auth`, `storage`, `scheduler`, `run_query`, `run_mutation`."""


class ActionCtx(Tag["ActionCtx", "ActionContext"]):
    """`auth`, `storage`, `scheduler`, `run_query`, `run_mutation`, `run_action`,
    `vector_search`."""
