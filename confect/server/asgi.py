"""The server: Convex's HTTP API and sync WebSocket, file storage, and the app's HTTP routes,
as one Starlette (ASGI) application; and the site's, the routes at their own paths."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

import effects
from confect.app.auth_config import AuthenticationError, TokenVerifier
from confect.app.http import METHODS, HttpRequest, HttpResponse, HttpRouter
from confect.app.registry import App
from confect.engine.interface import Write
from confect.model.schema import CRONS_TABLE, SCHEDULED_TABLE
from confect.runtime.app_services import AppServices
from confect.runtime.call_log import recorded
from confect.runtime.deployment import Deployment, Subscription
from confect.runtime.session_requests import KEEP_SECONDS
from confect.runtime.user_code import WorkerThreads
from confect.server import dashboard, environment_api
from confect.server.admin import admin_routes
from confect.server.api import (
    INTERRUPTED,
    MAX_BODY_BYTES,
    ASGIApp,
    CallEndpoints,
    ClientGone,
    read_body,
    refusal,
    stream_body,
)
from confect.server.calls import Caller, ClientCalls, ErrorCode, Limits, RequestError, is_admin_key
from confect.server.protocol import Ts
from confect.server.protocol.http import QueryTimestamp, Refusal, Uploaded, to_json
from confect.server.subscriptions import Subscriptions
from confect.server.sync import TRANSITION_PART_CHARS, SyncSession, takes_chunks
from confect.services.storage import TooManyUploadsError, served_file_headers
from effects.exit import Failure, Success
from effects.tracing import Span

log = logging.getLogger("confect.server")
MAX_UPLOAD_BYTES = 256 << 20
T = TypeVar("T")


class Server:
    """Everything one served deployment needs: its calls, subscriptions, auth, scheduler.

    Making one changes nothing in the deployment: `start` (as the ASGI lifespan begins) has
    it run user code on worker threads and tell the subscriptions of commits; `stop` ends
    the telling, and `close` (as the lifespan ends) releases the deployment's services."""

    def __init__(
        self,
        backend: Deployment,
        *,
        admin_key: str | None = None,
        http_prefix: str = "/http",
        limits: Limits | None = None,
        recover_every: float = 30.0,
        shutdown_grace: float = 30.0,
        keep_session_requests: float = KEEP_SECONDS,
        prune_every: float = 1800.0,
    ) -> None:
        """`recover_every` (seconds): how often, when other server processes share the
        engine, to mark failed the action jobs of processes that stopped while running them.
        `shutdown_grace` (seconds): how long, once shutdown begins, the calls in flight and
        the scheduler's running jobs may go on before they are interrupted.
        `keep_session_requests` (seconds): how long a sync-protocol mutation's record is
        kept, so that a client resending it gets its answer instead of a second run;
        `prune_every` (seconds): how often older records are deleted."""
        self.backend = backend  # the deployment served
        self.recover_every = recover_every
        self.shutdown_grace = shutdown_grace
        self.keep_session_requests = keep_session_requests
        self.prune_every = prune_every
        self.transition_part_chars = TRANSITION_PART_CHARS  # per TransitionChunk
        limits = limits or Limits()
        # as Convex's: a result that read real time serves for the longest a query may run
        # and a second more
        self.functions = ClientCalls(backend, time_dependent_age=limits.transaction + 1.0)
        self.workers = WorkerThreads(limits.transaction, limits.action)
        self.subscriptions = Subscriptions(self.functions)
        self.verifier = TokenVerifier(backend.app.auth_providers)
        self.admin_key = admin_key
        self.http_prefix = http_prefix.rstrip("/")
        self.router: HttpRouter = backend.app.http or HttpRouter()
        self._jobs_changed = asyncio.Event()
        self._in_flight: set[asyncio.Task[Any]] = set()  # the tasks running calls
        self._stop_by: float | None = None  # when shutdown interrupts what still runs
        self._other_processes: Subscription | None = None
        self._retiring: set[asyncio.Task[None]] = set()  # disposing reloaded-away services

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Serve on `loop`: user code runs on the worker threads (no handler holds up the
        loop; each keeps its limit), commit listeners on `loop`; subscriptions hear the
        commits, those of other processes sharing the engine too."""
        self.backend.user_code = self.workers
        self.backend.listener_loop = loop
        self.subscriptions.start()
        self._other_processes = self.backend.hear_other_processes(loop, self.data_changed)

    def stop(self) -> None:
        """Hear no more commits; stop the idle worker threads."""
        if self._other_processes is not None:
            self._other_processes.remove()
            self._other_processes = None
        self.subscriptions.stop()
        self.workers.close()

    async def reload(self, app: App) -> asyncio.Task[None]:
        """Serve a new version of the app; connections stay and get fresh results. Its
        layer is built first, on a runtime of its own: if that fails, or its schema does
        not fit the data, this raises and the previous version goes on serving.

        Returns the task that disposes the previous version's services once the calls in
        flight, which began with them, have ended."""
        fresh = await AppServices.build(app.layer)
        try:
            previous = self.backend.reload(app, fresh)
        except BaseException:
            await fresh.dispose()
            raise
        self.router = app.http or HttpRouter()
        self.verifier = TokenVerifier(app.auth_providers)
        self.functions.cache.clear()
        self.subscriptions.invalidate_all()
        self._jobs_changed.set()
        retiring = asyncio.get_running_loop().create_task(
            _dispose_after(previous, set(self._in_flight))
        )
        self._retiring.add(retiring)
        retiring.add_done_callback(self._retiring.discard)
        return retiring

    async def close(self) -> None:
        """Release the deployment's services (the previous versions' once their calls have
        ended; then the current version's), finalizers last-acquired first."""
        if self._retiring:
            await asyncio.wait(set(self._retiring))
        await self.backend.aclose()

    # --- callers ---------------------------------------------------------------------------------

    async def caller(self, header: str | None) -> Caller:
        """Who calls, from the Authorization header; raises `RequestError` 401 if refused."""
        if header is None:
            return Caller()
        scheme, _, value = header.partition(" ")
        if scheme == "Bearer":
            try:
                return Caller(await self.verifier.verify(value.strip()))
            except AuthenticationError as error:
                raise RequestError(ErrorCode.UNAUTHENTICATED, str(error)) from None
        if scheme == "Convex" and is_admin_key(value.strip(), self.admin_key):
            return Caller(admin=True)
        raise RequestError(
            ErrorCode.UNAUTHENTICATED, "the Authorization header is not a valid token or admin key"
        )

    async def require_admin(self, header: str | None, refusal: str) -> None:
        """Raise `RequestError` 401 with `refusal` unless the Authorization header holds the
        admin key (a user's token is refused too)."""
        if not (await self.caller(header)).admin:
            raise RequestError(ErrorCode.UNAUTHENTICATED, refusal)

    # --- in-flight calls, for a bounded shutdown -------------------------------------------------

    def started(self) -> None:
        """The current task began a call: shutdown waits for it (pair with `ended`)."""
        task = asyncio.current_task()
        assert task is not None, "a call runs in a task"
        self._in_flight.add(task)

    def ended(self) -> None:
        task = asyncio.current_task()
        assert task is not None, "a call runs in a task"
        self._in_flight.discard(task)

    async def finish(self, call: Coroutine[Any, Any, T]) -> T:
        """Run `call` to its end even if the task awaiting it is cancelled (its client went
        away); shutdown waits for it as for any call in flight."""

        async def tracked() -> T:
            self.started()
            try:
                return await call
            finally:
                self.ended()

        return await asyncio.shield(asyncio.get_running_loop().create_task(tracked()))

    def stopping(self) -> None:
        """Shutdown begins: from now, the calls in flight and the scheduler's jobs have
        `shutdown_grace` seconds; the scheduler starts no more ticks."""
        if self._stop_by is None:
            self._stop_by = time.monotonic() + self.shutdown_grace
            self._jobs_changed.set()

    async def drain(self, *tasks: asyncio.Task[Any]) -> None:
        """Wait for the calls in flight and `tasks` to finish, until the grace period that
        began with `stopping` is over; then interrupt those still running."""
        self.stopping()
        assert self._stop_by is not None
        running = {*tasks, *self._in_flight}
        if not running:
            return
        left = max(0.0, self._stop_by - time.monotonic())
        _, late = await asyncio.wait(running, timeout=left)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)  # their finalizers run

    def data_changed(self) -> None:
        """The data changed unheard (commits of other processes went unheard, or an import
        wrote to the engine): every cached result and subscription is computed afresh."""
        self.functions.cache.clear()
        self.subscriptions.invalidate_all()
        self._jobs_changed.set()

    # --- the scheduler ---------------------------------------------------------------------------

    def _notice_jobs(self, ts: int, writes: list[Write], cause: Span | None) -> None:
        if any(w.table in (SCHEDULED_TABLE, CRONS_TABLE) for w in writes):
            self._jobs_changed.set()

    async def run_scheduler(self) -> None:
        """Run scheduled functions and crons when they are due, until the server is stopping
        (and, on an engine other processes share, recover the jobs of stopped ones)."""
        noticing = self.backend.subscribe_commits(self._notice_jobs)
        try:
            await self._schedule()
        finally:
            noticing.remove()

    async def _schedule(self) -> None:
        jobs = self.backend.jobs
        shared = self.backend.shared_between_processes
        recovery = time.monotonic() + self.recover_every
        while self._stop_by is None:
            self._jobs_changed.clear()
            try:
                if shared and time.monotonic() >= recovery:
                    recovery = time.monotonic() + self.recover_every
                    jobs.recover()
                await effects.run(jobs.tick())
            except Exception:
                log.exception("the scheduler failed; trying again shortly")
            next_ms = jobs.next_wake_ms()
            timeout = None if next_ms is None else max(0.0, next_ms / 1000 - time.time())
            if shared:
                until_recovery = max(0.0, recovery - time.monotonic())
                timeout = until_recovery if timeout is None else min(timeout, until_recovery)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._jobs_changed.wait(), timeout)

    async def prune_session_requests(self) -> None:
        """Every `prune_every` seconds, delete the session request records older than
        `keep_session_requests`, a chunk per transaction, yielding between chunks."""
        while True:
            await asyncio.sleep(self.prune_every)
            try:
                while self.backend.jobs.prune_session_requests(self.keep_session_requests) > 0:
                    await asyncio.sleep(0)
            except Exception:
                log.exception("pruning session requests failed; trying again later")


async def _dispose_after(services: AppServices, calls: set[asyncio.Task[Any]]) -> None:
    """Dispose `services` once `calls` have ended (a failing finalizer is logged)."""
    if calls:
        await asyncio.wait(calls)
    try:
        await services.dispose()
    except Exception:
        log.exception("releasing the services of the app's previous version failed")


# --- HTTP handlers ---------------------------------------------------------------------------------


async def _read_body(request: Request, limit: int) -> bytes:
    return await read_body(request.receive, request.headers.get("content-length"), limit)


Handler = Callable[[Server, Request], Awaitable[Response]]


def _guarded(server: Server, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        server.started()
        try:
            return await handler(server, request)
        except ClientGone:
            return Response(status_code=400)  # no one is left to read it
        except asyncio.CancelledError:  # by the shutdown: an answer, not a traceback
            return _refused(INTERRUPTED)
        except Exception as error:
            return _refused(refusal(error, f"{request.method} {request.url.path}"))
        finally:
            server.ended()

    return endpoint


def _refused(body: Refusal) -> Response:
    return JSONResponse(to_json(body), status_code=body.code.status)


async def _query_ts(server: Server, request: Request) -> Response:
    return JSONResponse(to_json(QueryTimestamp(Ts(server.backend.last_ts()))))


async def _upload(server: Server, request: Request) -> Response:
    token = request.query_params.get("token", "")
    files = server.backend.files
    refused = RequestError(
        ErrorCode.INVALID_UPLOAD_TOKEN, "the upload URL is not valid (expired, or used already)"
    )
    if not files.upload_token_valid(token):
        raise refused
    body = stream_body(request.receive, request.headers.get("content-length"), MAX_UPLOAD_BYTES)
    try:
        async with files.receive(body) as blob:
            if not files.take_upload_token(token):  # another upload with it finished meanwhile
                raise refused
            content_type = request.headers.get("content-type")
            storage_id = await files.keep(blob, content_type, server.backend.in_own_transaction)
    except TooManyUploadsError as error:
        raise RequestError(ErrorCode.TOO_MANY_UPLOADS, str(error)) from None
    return JSONResponse(to_json(Uploaded(storage_id)))


async def _download(server: Server, request: Request) -> Response:
    storage_id = str(request.path_params["storage_id"])
    backend = server.backend
    metadata = backend.in_own_transaction(lambda tx: backend.files.metadata(tx, storage_id))
    data = await backend.files.read(metadata["sha256"]) if metadata else None
    if metadata is None or data is None:
        raise RequestError(ErrorCode.NOT_FOUND, "no such file")
    return StreamingResponse(data, headers=served_file_headers(metadata))


async def _http_route(server: Server, request: Request) -> Response:
    path = "/" + str(request.path_params.get("route_path", ""))
    origin = request.headers.get("origin")
    cors = server.router.cors_headers(origin)
    if request.method == "OPTIONS" and cors:
        methods = server.router.allows_path(path)
        return Response(
            status_code=204, headers={**cors, "access-control-allow-methods": ", ".join(methods)}
        )
    route = server.router.lookup(request.method, path)
    if route is None:
        raise RequestError(ErrorCode.NO_ROUTE, f"no HTTP route for {request.method} {path}")
    caller = await server.caller(request.headers.get("authorization"))
    http_request = HttpRequest(
        method=request.method,
        url=str(request.url),
        path=path,
        query=dict(request.query_params),
        headers=dict(request.headers),
        body=await _read_body(request, MAX_BODY_BYTES),
    )
    backend = server.backend
    call = backend.executor.http_action(route.handler, http_request, caller.identity)
    route_name = f"{request.method} {path}"
    exit_ = await effects.run_exit(
        recorded(backend.call_log, "http_action", route_name, "http", call)
    )
    if isinstance(exit_, Failure):
        log.error("http action %s failed:\n%s", route.handler.name, exit_.cause.pretty())
        return Response(b"the http action failed", status_code=500, headers=cors)
    assert isinstance(exit_, Success)
    result: Any = exit_.value
    if not isinstance(result, HttpResponse):
        log.error("http action %s returned %r, not an HttpResponse", route.handler.name, result)
        return Response(b"the http action returned no response", status_code=500, headers=cors)
    return Response(result.body, status_code=result.status, headers={**result.headers, **cors})


def create_app(
    server: Server,
    on_shutdown: Callable[[], None] | None = None,
    background: tuple[Callable[[], Coroutine[Any, Any, None]], ...] = (),
) -> ASGIApp:
    """The ASGI application serving `server` (running `background` tasks while it serves):
    the function-call endpoints, and Starlette for everything else (the dashboard too)."""

    async def sync(websocket: WebSocket) -> None:
        chunks = takes_chunks(websocket.path_params.get("version"))
        session = SyncSession(
            websocket,
            server.functions,
            server.subscriptions,
            server.verifier,
            server.admin_key,
            server.transition_part_chars if chunks else None,
            finish=server.finish,
        )
        await session.run()

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncGenerator[None]:
        loop = asyncio.get_running_loop()
        server.start(loop)
        scheduler = loop.create_task(server.run_scheduler())
        tasks = [loop.create_task(server.prune_session_requests())]
        tasks += [loop.create_task(task()) for task in background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await server.drain(scheduler)
            server.stop()
            await server.close()
            if on_shutdown is not None:
                on_shutdown()

    def post(path: str, handler: Handler) -> Route:
        return Route(path, _guarded(server, handler), methods=["POST"])

    def get(path: str, handler: Handler) -> Route:
        return Route(path, _guarded(server, handler), methods=["GET"])

    routes = [
        post("/api/query_ts", _query_ts),
        post("/api/storage/upload", _upload),
        Route("/api/storage/{storage_id}", _guarded(server, _download), methods=["GET"]),
        *(post(path, environment_api.update) for path in environment_api.UPDATE_PATHS),
        *(get(path, environment_api.list_) for path in environment_api.LIST_PATHS),
        _http_routes_under(server, server.http_prefix),
        WebSocketRoute("/api/sync", sync),
        WebSocketRoute("/api/{version}/sync", sync),
        *dashboard.routes(server),
        *admin_routes(lambda handler: _guarded(server, handler)),
    ]
    return CallEndpoints(server, Starlette(routes=routes, lifespan=lifespan))


def create_site_app(server: Server) -> ASGIApp:
    """The ASGI application of the site URL: the app's HTTP routes at their own paths, as
    Convex serves them. It runs nothing of its own: serve it while `create_app`'s runs."""
    return Starlette(routes=[_http_routes_under(server, "")])


def _http_routes_under(server: Server, prefix: str) -> Route:
    return Route(
        prefix + "/{route_path:path}", _guarded(server, _http_route), methods=list(METHODS)
    )
