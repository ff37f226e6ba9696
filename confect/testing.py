"""`ConfectTest`: call an app's functions in tests, on a fresh in-memory database with a test clock.

Arguments and results cross the same encoding a client's do (Convex values on the wire),
and a declared typed error comes back as that typed error. Every call has an async twin
(`aquery`, `amutation`, ...). Handlers read the test's clock (`effects.clock`, and the
`_creationTime`s and scheduled times they make), which only `advance_time` moves.
"""

from __future__ import annotations

import json
import types
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar, cast, overload

import attrs

import effects
from confect.app.functions import (
    ActionDefinition,
    FunctionDefinition,
    Kind,
    MutationDefinition,
    QueryDefinition,
    call_args,
)
from confect.app.http import HttpRequest, HttpResponse
from confect.app.registry import App, load_app
from confect.engine.interface import Engine
from confect.engine.memory import MemoryEngine
from confect.model.schema import SCHEDULED_TABLE
from confect.model.values import Value, from_wire, to_wire
from confect.runtime.deployment import Deployment
from confect.runtime.environment import EnvVarChange
from confect.runtime.execution import Executor
from confect.runtime.jobs import Jobs
from confect.services.auth import UserIdentity
from effects import Clock, Effect, Layer, TestClock

A = TypeVar("A")
E = TypeVar("E")
P = ParamSpec("P")

DEFAULT_START = 1_700_000_000.0
"""The test clock's start: 2023-11-14T22:13:20Z, so `_creationTime`s look real."""
DEFAULT_ISSUER = "https://confect.test"
SITE_URL = "http://127.0.0.1:3211"
"""Where `fetch`'s requests say they went: the site URL of a local deployment."""


@attrs.frozen
class FetchResponse:
    """What `ConfectTest.fetch` gives: the response as an HTTP client receives it."""

    status: int
    headers: Mapping[str, str]
    body: bytes = b""

    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


class ConfectTest:
    """A test deployment of `app` (a package, its name, or a loaded `App`)."""

    def __init__(
        self,
        app: App | types.ModuleType | str,
        *,
        engine: Engine | None = None,
        start_time: float = DEFAULT_START,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """`env`: the deployment's environment variables to start with (see `set_env`)."""
        self.app = app if isinstance(app, App) else load_app(app)
        self.clock = TestClock(start=start_time)
        self.backend = Deployment.open(
            self.app,
            engine or MemoryEngine(),
            now=self.clock.now,
            site_url=SITE_URL,
            services={Clock: self.clock},
        )
        if env:
            self.backend.update_environment_variables(
                EnvVarChange(name, value) for name, value in env.items()
            )
        self.identity: UserIdentity | None = None
        self._executor = self.backend.executor  # with the services of `with_layer`
        self._jobs = self.backend.jobs  # the same, for scheduled functions

    def _twin(
        self, executor: Executor | None = None, identity: UserIdentity | None = None
    ) -> ConfectTest:
        """The same deployment and clock, calling with other services or as another user."""
        twin = object.__new__(ConfectTest)
        twin.__dict__.update(self.__dict__)
        if executor is not None:
            twin._executor, twin._jobs = executor, Jobs(executor)
        twin.identity = identity or self.identity
        return twin

    # --- environment ---------------------------------------------------------------------------

    def with_identity(
        self, subject: str = "user", issuer: str = DEFAULT_ISSUER, **claims: Any
    ) -> ConfectTest:
        """The same deployment, calling as a signed-in user with these claims."""
        return self._twin(
            identity=UserIdentity.from_claims({"sub": subject, "iss": issuer, **claims})
        )

    def with_layer(self, layer: Layer[Any, Any, Any]) -> ConfectTest:
        """The same deployment, with the layer's services replacing or adding to each call's
        (mock a service: `t.with_layer(Layer.succeed(Mailer, FakeMailer()))`)."""
        return self._twin(executor=self._executor.with_services(self.backend.build(layer)))

    def set_env(self, name: str, value: str | None) -> None:
        """Set the deployment's environment variable `name` (unset it with None), as
        `confect env set` does: handlers read it with `effects.Config`, and the queries that
        read it run again. Convex's rules for names and values hold
        (`EnvironmentVariableError`)."""
        self.backend.update_environment_variables([EnvVarChange(name, value)])

    def close(self) -> None:
        """Release what the app's layer and `with_layer` layers acquired."""
        self.backend.close()

    # --- calls ---------------------------------------------------------------------------------

    @overload
    def query(self, fn: QueryDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs) -> A: ...
    @overload
    def query(self, fn: QueryDefinition[..., A, E], args: Mapping[str, Any] | None, /) -> A: ...
    @overload
    def query(self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Any: ...
    def query(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Run a query; returns what a Python client would get (documents as `Doc`)."""
        return effects.run_sync(self._call("query", fn, call_args(args, kwargs)))

    @overload
    def mutation(
        self, fn: MutationDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs
    ) -> A: ...
    @overload
    def mutation(
        self, fn: MutationDefinition[..., A, E], args: Mapping[str, Any] | None, /
    ) -> A: ...
    @overload
    def mutation(self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Any: ...
    def mutation(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Run a mutation (committed unless it fails)."""
        return effects.run_sync(self._call("mutation", fn, call_args(args, kwargs)))

    @overload
    def action(self, fn: ActionDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs) -> A: ...
    @overload
    def action(self, fn: ActionDefinition[..., A, E], args: Mapping[str, Any] | None, /) -> A: ...
    @overload
    def action(self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Any: ...
    def action(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Run an action."""
        return effects.run_sync(self._call("action", fn, call_args(args, kwargs)))

    def run(self, effect: Effect[A, Any, Any] | Callable[[], Effect[A, Any, Any]]) -> A:
        """Run any effect with a mutation's services (db reader and writer, ...) and
        `StorageActionWriter` (store and read files), and commit."""
        return effects.run_sync(self._run(effect))

    def fetch(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        body: bytes | str = b"",
    ) -> FetchResponse:
        """Call the app's HTTP routes, as a client of the site URL would: `path` is the
        route's path with an optional query (`/count?author=ann`). A path no route takes
        answers 404; a failing http action raises its error."""
        return effects.run_sync(self._fetch(path, method, headers, body))

    @overload
    async def aquery(
        self, fn: QueryDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs
    ) -> A: ...
    @overload
    async def aquery(
        self, fn: QueryDefinition[..., A, E], args: Mapping[str, Any] | None, /
    ) -> A: ...
    @overload
    async def aquery(
        self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> Any: ...
    async def aquery(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        return await effects.run(self._call("query", fn, call_args(args, kwargs)))

    @overload
    async def amutation(
        self, fn: MutationDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs
    ) -> A: ...
    @overload
    async def amutation(
        self, fn: MutationDefinition[..., A, E], args: Mapping[str, Any] | None, /
    ) -> A: ...
    @overload
    async def amutation(
        self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> Any: ...
    async def amutation(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        return await effects.run(self._call("mutation", fn, call_args(args, kwargs)))

    @overload
    async def aaction(
        self, fn: ActionDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs
    ) -> A: ...
    @overload
    async def aaction(
        self, fn: ActionDefinition[..., A, E], args: Mapping[str, Any] | None, /
    ) -> A: ...
    @overload
    async def aaction(
        self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> Any: ...
    async def aaction(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        return await effects.run(self._call("action", fn, call_args(args, kwargs)))

    async def arun(self, effect: Effect[A, Any, Any] | Callable[[], Effect[A, Any, Any]]) -> A:
        return await effects.run(self._run(effect))

    async def afetch(
        self,
        path: str,
        *,
        method: str = "GET",
        headers: Mapping[str, str] | None = None,
        body: bytes | str = b"",
    ) -> FetchResponse:
        return await effects.run(self._fetch(path, method, headers, body))

    def _call(self, kind: Kind, fn: Any, args: Mapping[str, Any]) -> Effect[Any, Any]:
        def start() -> Effect[Any, Any]:
            function = self._executor.resolve(fn, kind)
            encoded = _over_the_wire(function.encode_args(args))
            assert isinstance(encoded, dict)
            result = self._executor.call(function, encoded, self.identity)
            return result.map(
                lambda value: function.decode_result(_over_the_wire(value))
            ).catch_all(lambda error: effects.fail(_as_caller_sees(function, error)))

        return effects.suspend(start)

    def _run(
        self, effect: Effect[A, Any, Any] | Callable[[], Effect[A, Any, Any]]
    ) -> Effect[A, Any]:
        body = effect if callable(effect) else (lambda: effect)
        return self._executor.transact(body, self.identity).map(lambda result: result.value)

    def _fetch(
        self, path: str, method: str, headers: Mapping[str, str] | None, body: bytes | str
    ) -> Effect[FetchResponse, Any]:
        if not path.startswith("/"):
            raise ValueError(f"a path given to fetch must start with '/': {path!r}")
        parts = urllib.parse.urlsplit(path)
        route_path = urllib.parse.unquote(parts.path)
        route = self.app.http.lookup(method.upper(), route_path) if self.app.http else None
        if route is None:
            message = f"No HttpAction routed for {route_path}".encode()
            return effects.succeed(FetchResponse(404, {"content-type": "text/plain"}, message))
        request = HttpRequest(
            method=method.upper(),
            url=SITE_URL + path,
            path=route_path,
            query=dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in (headers or {}).items()},
            body=body.encode() if isinstance(body, str) else body,
        )
        return self._executor.http_action(route.handler, request, self.identity).map(_fetched)

    # --- time and scheduled functions ----------------------------------------------------------

    def advance_time(self, seconds: float) -> None:
        """Move the test clock forward (scheduled functions do not run until asked to)."""
        effects.run_sync(self.clock.advance(seconds))

    def finish_in_progress(self) -> int:
        """Run the scheduled functions that are due now (and any they make due now)."""
        total = 0
        while ran := effects.run_sync(self._jobs.run_due_jobs()):
            total += ran
        return total

    def finish_scheduled_functions(self, max_rounds: int = 1000) -> int:
        """Run every scheduled function, moving the clock to each one's time."""
        total = 0
        for _ in range(max_rounds):
            total += self.finish_in_progress()
            pending = self._jobs.pending_jobs()
            if not pending:
                return total
            due = cast(float, pending[0]["scheduledTime"]) / 1000
            self.advance_time(max(0.0, due - self.clock.now()))
        raise RuntimeError(f"scheduled functions still pending after {max_rounds} rounds")

    def scheduled_jobs(self) -> list[dict[str, Value]]:
        """Every `_scheduled_functions` document, oldest first."""
        return [dict(d) for d in self.backend.engine.documents(SCHEDULED_TABLE)]


def _fetched(result: object) -> FetchResponse:
    if not isinstance(result, HttpResponse):
        raise TypeError(f"the http action returned {result!r}, not an HttpResponse")
    headers = {name.lower(): value for name, value in result.headers.items()}
    return FetchResponse(result.status, headers, result.body)


def _over_the_wire(value: Value) -> Value:
    return from_wire(to_wire(value))


def _as_caller_sees(function: FunctionDefinition[..., Any, Any], error: object) -> object:
    data = function.error_data(error)
    return error if data is None else function.decode_error(_over_the_wire(data))
