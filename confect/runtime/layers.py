"""The per-call layers: for each function type, the services a call of that type gets
(`query_service_map`, ...: a map from tags to services, which `as_layer` offers).

| service             | query | mutation | action | http action |
|---------------------|-------|----------|--------|-------------|
| DatabaseReader      | yes   | yes      |        |             |
| DatabaseWriter      |       | yes      |        |             |
| Auth                | yes   | yes      | yes    | yes         |
| StorageReader       | yes   | yes      | yes    | yes         |
| StorageWriter       |       | yes      | yes    | yes         |
| StorageActionWriter |       |          | yes    | yes         |
| Scheduler           |       | yes      | yes    | yes         |
| QueryRunner         | yes   | yes      | yes    | yes         |
| MutationRunner      |       | yes      | yes    | yes         |
| ActionRunner        |       |          | yes    | yes         |
| VectorSearch        |       |          | yes    |             |
| ConfigProvider      | yes   | yes      | yes    | yes         |

The `ConfigProvider` reads the deployment's environment variables (see
`confect.runtime.environment`): in a query or mutation, in its transaction.

`transact` (`ConfectTest.run`) gets a mutation's services and `StorageActionWriter`, as
convex-test's `t.run` does. A service the type does not have is present as a stand-in
(`effects.context.Unavailable`): asking for it (`yield from DatabaseWriter` in a query)
fails there with a `ServiceNotAvailable` defect naming the service, the type and what the
type gets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from confect.model.errors import ServiceNotAvailable
from confect.runtime import environment
from confect.services.auth import Auth, AuthService, UserIdentity
from confect.services.ctx import ActionCtx, FunctionCtx, MutationCtx, QueryCtx
from confect.services.database import (
    DatabaseReader,
    DatabaseReaderService,
    DatabaseWriter,
    DatabaseWriterService,
)
from confect.services.runners import (
    ActionRunner,
    ActionRunnerService,
    MutationRunner,
    MutationRunnerService,
    QueryRunner,
    QueryRunnerService,
)
from confect.services.scheduler import Scheduler, SchedulerService
from confect.services.storage import (
    StorageActionWriter,
    StorageActionWriterService,
    StorageReader,
    StorageReaderService,
    StorageWriter,
    StorageWriterService,
)
from confect.services.vector_search import VectorSearch, VectorSearchService
from effects import ConfigProvider, Layer
from effects.context import Unavailable

if TYPE_CHECKING:
    from confect.runtime.determinism import QueryRun
    from confect.runtime.execution import Executor
    from confect.runtime.transaction import Transaction

ServiceMap = dict[Any, Any]
"""The services of one call by their tags, as a layer offers them (`as_layer`)."""


ALL_TAGS: tuple[Any, ...] = (
    DatabaseReader,
    DatabaseWriter,
    Auth,
    StorageReader,
    StorageWriter,
    StorageActionWriter,
    Scheduler,
    QueryRunner,
    MutationRunner,
    ActionRunner,
    VectorSearch,
    QueryCtx,
    MutationCtx,
    ActionCtx,
)


_WHERE = {
    "DatabaseReader": "read the database from a query or mutation, or call one with QueryRunner",
    "DatabaseWriter": "write from a mutation, or call one with MutationRunner",
    "StorageWriter": "use it from a mutation or an action",
    "StorageActionWriter": "store and read file bytes from an action",
    "Scheduler": "schedule from a mutation or an action",
    "MutationRunner": "run mutations from a mutation or an action",
    "ActionRunner": "run actions from an action",
    "VectorSearch": "search vectors from an action",
}


_A_KIND = {
    "query": "a query",
    "mutation": "a mutation",
    "action": "an action",
    "http_action": "an http action",
}


def _unavailable(tag: Any, kind: str, available: list[Any]) -> Unavailable:
    """The stand-in for `tag` in a call of `kind`: asking for it is a `ServiceNotAvailable`."""
    name = tag.__name__
    a_kind = _A_KIND[kind]
    gets = ", ".join(t.__name__ for t in available[:-1]) + f" and {available[-1].__name__}"
    message = (
        f"{name} is not available in {a_kind} ({a_kind} gets {gets}): "
        f"{_WHERE.get(name, 'see the services table in confect.runtime.layers')}"
    )
    return Unavailable(lambda: ServiceNotAvailable(message))


def _stand_ins(kind: str, available: set[Any]) -> ServiceMap:
    """Stand-ins for the tags `kind` lacks, which hide what an outer call's context has
    (a query run by a mutation must not see its DatabaseWriter)."""
    listed = [tag for tag in ALL_TAGS if tag in available]
    return {tag: _unavailable(tag, kind, listed) for tag in ALL_TAGS if tag not in available}


_QUERY_MISSING = _stand_ins("query", {DatabaseReader, Auth, StorageReader, QueryRunner, QueryCtx})
_MUTATION_MISSING = _stand_ins(
    "mutation",
    {
        DatabaseReader,
        DatabaseWriter,
        Auth,
        StorageReader,
        StorageWriter,
        Scheduler,
        QueryRunner,
        MutationRunner,
        MutationCtx,
    },
)
_ACTION_HAS = {
    Auth,
    StorageReader,
    StorageWriter,
    StorageActionWriter,
    Scheduler,
    QueryRunner,
    MutationRunner,
    ActionRunner,
    VectorSearch,
    ActionCtx,
}
_ACTION_MISSING = _stand_ins("action", _ACTION_HAS)
_HTTP_ACTION_MISSING = _stand_ins("http_action", _ACTION_HAS - {VectorSearch})


def query_service_map(
    executor: Executor, tx: Transaction, identity: UserIdentity | None, run: QueryRun | None = None
) -> ServiceMap:
    """The services of a query running in `tx` (as part of the query `run`, if any: the
    queries it runs are part of it too)."""
    deployment = executor.deployment
    in_tx = tx.run_with
    services: ServiceMap = {
        **_QUERY_MISSING,
        DatabaseReader: DatabaseReaderService(tx, deployment.schema),
        Auth: AuthService(identity),
        StorageReader: StorageReaderService(deployment.files, in_tx),
        QueryRunner: QueryRunnerService(
            lambda fn, args: executor.nested_query(tx, identity, fn, args, run)
        ),
        ConfigProvider: _variables_in(tx, executor),
    }
    return services


def _variables_in(tx: Transaction, executor: Executor) -> Any:
    """The environment variables, each read in `tx` when a config asks for it."""
    system = executor.deployment.system_environment
    return environment.config_provider(environment.in_transaction(tx, system))


def mutation_service_map(
    executor: Executor, tx: Transaction, identity: UserIdentity | None
) -> ServiceMap:
    """The services of a mutation running in `tx`."""
    deployment = executor.deployment
    in_tx = tx.run_with
    services: ServiceMap = {
        **_MUTATION_MISSING,
        DatabaseReader: DatabaseReaderService(tx, deployment.schema),
        DatabaseWriter: DatabaseWriterService(tx, deployment.schema),
        Auth: AuthService(identity),
        StorageReader: StorageReaderService(deployment.files, in_tx),
        StorageWriter: StorageWriterService(deployment.files, in_tx),
        Scheduler: SchedulerService(in_tx, executor.resolve_for_scheduling, deployment.now_ms),
        QueryRunner: QueryRunnerService(
            lambda fn, args: executor.nested_query(tx, identity, fn, args)
        ),
        MutationRunner: MutationRunnerService(
            lambda fn, args: executor.nested_mutation(tx, identity, fn, args)
        ),
        ConfigProvider: _variables_in(tx, executor),
    }
    return services


def run_service_map(
    executor: Executor, tx: Transaction, identity: UserIdentity | None
) -> ServiceMap:
    """The services of `transact` (a test's `run`): a mutation's, and storing and reading
    files (inside `tx`)."""
    services = mutation_service_map(executor, tx, identity)
    services[StorageActionWriter] = StorageActionWriterService(
        executor.deployment.files, tx.run_with
    )
    return services


def action_service_map(
    executor: Executor, identity: UserIdentity | None, kind: str = "action"
) -> ServiceMap:
    """The services of an action (or http action): each database use is its own transaction."""
    deployment = executor.deployment
    in_tx = executor.in_own_transaction
    services: ServiceMap = {
        **(_ACTION_MISSING if kind == "action" else _HTTP_ACTION_MISSING),
        Auth: AuthService(identity),
        StorageReader: StorageReaderService(deployment.files, in_tx),
        StorageWriter: StorageWriterService(deployment.files, in_tx),
        StorageActionWriter: StorageActionWriterService(deployment.files, in_tx),
        Scheduler: SchedulerService(in_tx, executor.resolve_for_scheduling, deployment.now_ms),
        QueryRunner: QueryRunnerService(
            lambda fn, args: executor.call_from_action("query", identity, fn, args)
        ),
        MutationRunner: MutationRunnerService(
            lambda fn, args: executor.call_from_action("mutation", identity, fn, args)
        ),
        ActionRunner: ActionRunnerService(
            lambda fn, args: executor.call_from_action("action", identity, fn, args)
        ),
        ConfigProvider: environment.config_provider(
            environment.loaded_once(deployment.environment_variables, deployment.system_environment)
        ),
    }
    if kind == "action":
        services[VectorSearch] = VectorSearchService(deployment.engine, deployment.schema)
    return services


_CTX_NAMES: dict[str, tuple[Any, str | None]] = {
    "db": (DatabaseReader, None),
    "db_writer": (DatabaseWriter, None),
    "auth": (Auth, None),
    "storage": (StorageReader, None),
    "storage_writer": (StorageWriter, None),
    "storage_action_writer": (StorageActionWriter, None),
    "scheduler": (Scheduler, None),
    "run_query": (QueryRunner, "run_query"),
    "run_mutation": (MutationRunner, "run_mutation"),
    "run_action": (ActionRunner, "run_action"),
    "vector_search": (VectorSearch, "search"),
}


_CTX_TAGS: dict[str, Any] = {
    "query": QueryCtx,
    "mutation": MutationCtx,
    "action": ActionCtx,
    "http_action": ActionCtx,
}


def add_ctx(services: ServiceMap, kind: str) -> ServiceMap:
    """`services` with the function context of `kind` over them, unless one is given.

    The context reads a copy of `services`, not the dict that holds the context itself: with
    no reference cycle, a call's services are freed when it ends rather than by the cyclic
    garbage collector (which, under load, cost more than the calls)."""
    tag = _CTX_TAGS[kind]
    if tag not in services:
        services[tag] = FunctionCtx(kind, dict(services), _CTX_NAMES)
    return services


def as_layer(services: ServiceMap) -> Layer[Any, Any, Any]:
    """A layer offering `services` (what tests swap for mocks, service by service)."""
    return Layer(None, pure=services)
