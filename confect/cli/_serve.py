"""The commands that serve an app: dev (reloading, every call printed) and serve."""

from __future__ import annotations

import contextlib
import functools
import gc
import importlib
import ipaddress
import logging
import os
import secrets
import socket
import sys
import urllib.parse
from collections.abc import AsyncGenerator, Callable, Coroutine, Generator
from pathlib import Path
from typing import Annotated, Any

import attrs
import typer
import uvicorn
import watchfiles
from rich.markup import escape

from confect import codegen
from confect.app.dev_auth import DevIssuer
from confect.app.registry import App, load_app
from confect.cli._common import (
    AppArg,
    EngineOpt,
    as_postgres,
    console,
    load_reported,
    open_app,
    open_engine,
    reported,
)
from confect.cli._deployment import ServerRecord, listening_url
from confect.cli._log_format import JsonLines, LogFormat, TextLines
from confect.cli._otel import otlp_export
from confect.engine.interface import Engine
from confect.engine.sql.sqlite import SqliteEngine
from confect.runtime import logs
from confect.runtime.deployment import Deployment
from confect.server.asgi import Server, create_app, create_site_app
from confect.server.jwks import JWKS_PATH, serving_jwks
from confect.server.limits import ConnectionLimits, protocols
from effects.tracing import Tracer

_LIMITS = ConnectionLimits()  # the defaults of serve's limit options

HostOpt = Annotated[str, typer.Option(help="Address to listen on.")]
PortOpt = Annotated[int, typer.Option(help="Port to listen on.")]
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3210
DEFAULT_SITE_PORT = 3211  # as Convex's local backend
SitePortOpt = Annotated[
    int,
    typer.Option(
        min=0,
        help="Port to serve the app's HTTP routes on at their own paths, as Convex's site "
        "URL does (0: none; they are under /http on the main port either way).",
    ),
]
FdOpt = Annotated[
    int | None,
    typer.Option(help="Serve on this already-listening socket (for supervisors and tests)."),
]
SiteFdOpt = Annotated[
    int | None,
    typer.Option(help="Serve the site (see --site-port) on this already-listening socket."),
]
LogCallsOpt = Annotated[bool, typer.Option(help="Print each call with its duration and log lines.")]
LogFormatOpt = Annotated[
    LogFormat,
    typer.Option(
        help="text: for people; json: one JSON object a line on stdout (each call as "
        "Convex's function_execution log event, with its log lines), the rest to stderr. "
        "json prints every call, as --log-calls.",
        case_sensitive=False,
    ),
]
DevAuthOpt = Annotated[
    bool,
    typer.Option(
        help="Trust the app's development issuer (`confect token`) as `confect dev` does; "
        "for trying out, never for a deployment people use."
    ),
]
OtelOpt = Annotated[
    bool,
    typer.Option(
        help="Export each call's span over OTLP/HTTP, to where OpenTelemetry's environment "
        "variables say (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SERVICE_NAME, ...); needs "
        "confect-py\\[otel]."  # help is rich markup: [otel] unescaped would vanish
    ),
]
ShutdownGraceOpt = Annotated[
    int,
    typer.Option(
        min=0,
        help="Seconds that calls in flight and running scheduled jobs may go on after "
        "SIGTERM before they are interrupted.",
    ),
]
HeaderTimeoutOpt = Annotated[
    float, typer.Option(help="Seconds a client may take to send a request's headers.")
]
BodyTimeoutOpt = Annotated[
    float,
    typer.Option(
        help="Seconds a client may take to send a request's body, plus a second for "
        "every --body-min-rate bytes it sent."
    ),
]
BodyMinRateOpt = Annotated[float, typer.Option(help="Bytes per second (see --body-timeout).")]
MaxConnectionsPerAddressOpt = Annotated[
    int,
    typer.Option(
        min=0,
        help="Connections (WebSockets too) one client address may hold; 0 for no cap "
        "(behind a proxy every client has the proxy's address).",
    ),
]
MaxConnectionsOpt = Annotated[
    int | None,
    typer.Option(
        min=0,
        help="Connections the server holds in all; 0 for no cap. Default: the "
        "open-file limit (ulimit -n) less 100.",
        show_default=False,
    ),
]


def dev(
    app: Annotated[Path, typer.Argument(help="The app's package directory.")] = Path("."),
    host: HostOpt = DEFAULT_HOST,
    port: PortOpt = DEFAULT_PORT,
    site_port: SitePortOpt = DEFAULT_SITE_PORT,
    engine: EngineOpt = None,
    fd: FdOpt = None,
    site_fd: SiteFdOpt = None,
    log_format: LogFormatOpt = LogFormat.TEXT,
    otel: OtelOpt = False,
) -> None:
    """Serve the app for development, reloading it as its files change.

    SQLite data in APP/.confect/ (or the engine given), functions reloaded when files change
    (connections stay open), APP/_generated/ written at start and after each reload (see
    `confect codegen`), each call printed with its duration and logs; its HTTP routes also
    at their own paths on the site port. It trusts the app's development issuer: `confect
    token APP --subject alice` signs a user in."""
    site = _Site(site_port, site_fd)
    _serve(
        app,
        host,
        port,
        engine,
        watch=True,
        log_calls=True,
        fd=fd,
        site=site,
        log_format=log_format,
        dev_auth=True,
        otel=otel,
    )


def serve(
    app: AppArg,
    engine: EngineOpt = None,
    host: HostOpt = DEFAULT_HOST,
    port: PortOpt = DEFAULT_PORT,
    fd: FdOpt = None,
    site_port: SitePortOpt = 0,
    site_fd: SiteFdOpt = None,
    log_calls: LogCallsOpt = False,
    log_format: LogFormatOpt = LogFormat.TEXT,
    shutdown_grace: ShutdownGraceOpt = 30,
    header_timeout: HeaderTimeoutOpt = _LIMITS.header_timeout,
    body_timeout: BodyTimeoutOpt = _LIMITS.body_timeout,
    body_min_rate: BodyMinRateOpt = _LIMITS.body_min_rate,
    max_connections_per_address: MaxConnectionsPerAddressOpt = _LIMITS.per_address,
    max_connections: MaxConnectionsOpt = None,
    dev_auth: DevAuthOpt = False,
    otel: OtelOpt = False,
) -> None:
    """Serve the app (no reloading)."""
    try:
        limits = attrs.evolve(
            _LIMITS,
            header_timeout=header_timeout,
            body_timeout=body_timeout,
            body_min_rate=body_min_rate,
            per_address=max_connections_per_address,
            total=_LIMITS.total if max_connections is None else max_connections,
        )
    except ValueError as error:  # a limit out of its range
        raise typer.BadParameter(str(error)) from None
    _serve(
        app,
        host,
        port,
        engine,
        watch=False,
        log_calls=log_calls or log_format is LogFormat.JSON,
        log_format=log_format,
        fd=fd,
        shutdown_grace=shutdown_grace,
        limits=limits,
        site=_Site(site_port, site_fd),
        dev_auth=dev_auth,
        otel=otel,
    )


@attrs.frozen
class _Site:
    """Where the site (the HTTP routes at their own paths) is served: a port (0: not at
    all) or an already-listening socket."""

    port: int
    fd: int | None = None

    def sockets(self) -> list[socket.socket] | None:
        return [socket.socket(fileno=self.fd)] if self.fd is not None else None

    @property
    def served(self) -> bool:
        return self.port != 0 or self.fd is not None


def _serve(
    app_path: Path,
    host: str,
    port: int,
    engine_url: str | None,
    *,
    watch: bool,
    log_calls: bool,
    fd: int | None = None,
    shutdown_grace: int = 30,
    limits: ConnectionLimits | None = None,
    site: _Site = _Site(0),
    log_format: LogFormat = LogFormat.TEXT,
    dev_auth: bool = False,
    otel: bool = False,
) -> None:
    export = otlp_export() if otel else None  # first: without the extra, nothing opens
    _configure_logging(log_calls, log_format)
    load = codegen.load_generating if watch else load_app
    with reported():
        issuer = DevIssuer.of_app(app_path) if dev_auth else None
    if issuer is not None:
        load = issuer.trusted_by(load)
    app, data = open_app(app_path, load)
    if watch:
        _generate(app, app_path)
    if fd is not None:
        with socket.socket(fileno=os.dup(fd)) as listening:
            host, port = listening.getsockname()[:2]
    base_url = f"http://{host}:{port}"  # where file URLs point
    with reported():
        engine = open_engine(engine_url, data)
        if isinstance(engine, SqliteEngine):
            data = engine.directory
        site_url = _site_url(host, site) if site.served else None  # else under base_url
        services = {} if export is None else {Tracer: export.tracer}
        backend = Deployment.open(
            app,
            engine,
            group_commit=True,
            base_url=base_url,
            site_url=site_url,
            services=services,
        )
        server = Server(backend, admin_key=_admin_key(engine, data), shutdown_grace=shutdown_grace)
    http, ws = protocols(limits or ConnectionLimits())
    site_server = _site_server(server, host, site, http, shutdown_grace)
    background = (_reloading(app_path, server, load),) if watch else ()
    if site_server is not None:
        background += (lambda: site_server.serve(sockets=site.sockets()),)

    def shut_down() -> None:
        engine.close()
        if export is not None:
            export.shutdown()  # sends the spans still queued

    asgi = create_app(server, on_shutdown=shut_down, background=background)
    if issuer is not None:
        asgi = serving_jwks(asgi, issuer)
    postgres = as_postgres(engine)
    where = data if postgres is None else f"PostgreSQL schema {postgres.schema}"
    # whole lines, the terminal's to wrap: a path or URL cut by rich could not be copied
    say = functools.partial(console.print, soft_wrap=True, highlight=False, markup=False)
    say(f"confect serving {app_path.resolve().name} at {base_url} (data in {where})")
    if site_server is not None:
        say(f"HTTP routes at {_site_url(host, site)}")
    say(f"admin key: {data / 'admin_key'}")
    say(f"dashboard: {_dashboard_url(base_url, server.admin_key if watch else None)}")
    if issuer is not None:
        say(
            f"dev sign-in: `confect token {app_path} --subject alice` (keys at {base_url}{JWKS_PATH})"
        )
    config = uvicorn.Config(
        asgi,
        host=host,
        port=port,
        log_level="warning",
        http=http,
        ws=ws,
        ws_per_message_deflate=False,  # compressing every transition costs more than it saves on small messages
        timeout_graceful_shutdown=shutdown_grace,
    )
    # uvicorn's own `fd` option takes every socket for a Unix one, and so leaves Nagle's
    # algorithm on for TCP (40 ms stalls): give it the socket as what it is
    sockets = [socket.socket(fileno=fd)] if fd is not None else None
    _tune_gc()
    _Uvicorn(config, server, site_server, data).run(sockets=sockets)


def _site_server(
    server: Server, host: str, site: _Site, http: Any, shutdown_grace: int
) -> uvicorn.Server | None:
    """The uvicorn server of the site, run as a background task of the main one (so it
    serves only while the deployment does), or None if it is not served."""
    if not site.served:
        return None
    config = uvicorn.Config(
        create_site_app(server),
        host=host,
        port=site.port,
        log_level="warning",
        http=http,
        lifespan="off",
        timeout_graceful_shutdown=shutdown_grace,
    )
    return _SiteUvicorn(config)


def _site_url(host: str, site: _Site) -> str:
    if site.fd is None:
        return f"http://{host}:{site.port}"
    with socket.socket(fileno=os.dup(site.fd)) as listening:
        site_host, site_port = listening.getsockname()[:2]
    return f"http://{site_host}:{site_port}"


def _dashboard_url(base_url: str, admin_key: str | None) -> str:
    """The dashboard's URL; with `admin_key` (`confect dev`, on a loopback address) one that
    signs in directly: the key is in the fragment, which the browser never sends."""
    url = f"{base_url}/_dashboard"
    host = urllib.parse.urlsplit(base_url).hostname or ""
    if admin_key is None or not _is_loopback(host):
        return url
    return f"{url}#key={urllib.parse.quote(admin_key, safe='')}"


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _configure_logging(log_calls: bool, log_format: LogFormat = LogFormat.TEXT) -> None:
    handler: logging.Handler
    if log_format is LogFormat.JSON:  # stdout is the machines': people's text to stderr
        console.file = sys.stderr
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonLines())
    else:
        handler = TextLines(console=console, show_path=False)
    if log_calls:  # what a call logs is printed under it, with the call
        handler.addFilter(logs.outside_calls)
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[handler])
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # a line per call costs more than the call itself on small queries: only when asked
    logging.getLogger("confect.calls").setLevel(logging.INFO if log_calls else logging.WARNING)


def _admin_key(engine: Engine, data: Path) -> str:
    """The deployment's admin key, kept in `data/admin_key` (made on first use). Processes
    sharing a PostgreSQL deployment share the key kept there (the first adopts its own)."""
    path = data / "admin_key"
    local = path.read_text().strip() if path.exists() else None
    key = local or secrets.token_urlsafe(32)
    postgres = as_postgres(engine)
    if postgres is not None:
        key = postgres.admin_key(key)
    if key != local:
        data.mkdir(parents=True, exist_ok=True)
        path.write_text(key)
        path.chmod(0o600)
    return key


def _generate(app: App, app_path: Path) -> None:
    """Write the app's `_generated/` (only the files that changed)."""
    changed = codegen.write(app, app_path.resolve().name, app_path / codegen.GENERATED)
    if changed:
        console.print(f"generated {', '.join(changed)} in {app_path / codegen.GENERATED}")


def _is_source(path: str) -> bool:
    """Whether a change to `path` reloads the app: its .py files, not `_generated/`'s
    (which reloading writes)."""
    return path.endswith(".py") and codegen.GENERATED not in Path(path).parts


def _reloading(
    app_path: Path, server: Server, load: Callable[[str], App]
) -> Callable[[], Coroutine[Any, Any, None]]:
    """A background task that gives `server` the app afresh whenever a .py file under
    `app_path` changes, and writes its `_generated/` anew; an app that fails to load leaves
    the previous one serving."""

    async def watch_files() -> None:
        changes: AsyncGenerator[Any] = watchfiles.awatch(  # pyright: ignore[reportUnknownMemberType]
            app_path, watch_filter=lambda _, name: _is_source(name)
        )
        async for _ in changes:
            try:
                app = _reload_app(app_path, load)
                await server.reload(app)
                console.print(
                    f"[green]reloaded[/green] {len(server.backend.app.functions)} functions"
                )
                _generate(app, app_path)
            except Exception as error:
                console.print(
                    "[red]reload failed, still serving the previous version:[/red] "
                    + escape(str(error))  # brackets are no markup
                )

    return watch_files


def _reload_app(path: Path, load: Callable[[str], App]) -> App:
    """Import the app package at `path` afresh (its modules changed on disk) with `load`."""
    name = path.resolve().name
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]
    importlib.invalidate_caches()
    return load_reported(name, load)


class _Uvicorn(uvicorn.Server):
    """uvicorn, telling the confect server (and the site's server) when its shutdown
    begins: from then, what is in flight has the grace period (uvicorn gives its requests
    the same). While it listens, its URL is recorded in the data directory `data`, for the
    CLI's commands (confect/cli/_deployment.py)."""

    def __init__(
        self, config: uvicorn.Config, server: Server, site: uvicorn.Server | None, data: Path
    ) -> None:
        super().__init__(config)
        self._confect = server
        self._site = site
        self._data = data

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            address = self.servers[0].sockets[0].getsockname()
            ServerRecord(listening_url(address), os.getpid()).write(self._data)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        ServerRecord.remove(self._data, os.getpid())
        self._confect.stopping()
        if self._site is not None:
            self._site.should_exit = True
        await super().shutdown(sockets)


class _SiteUvicorn(uvicorn.Server):
    """The site's uvicorn: the main server takes the signals, and ends this one."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None]:
        yield


def _tune_gc() -> None:
    """Calls leave no reference cycles, so the cyclic GC finds little; under load its full
    passes over every object the server imported cost more than the calls. Exempt what is
    loaded by now (`gc.freeze`) and collect the young generation less often."""
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
