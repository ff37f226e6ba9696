"""The `confect` command line."""

from __future__ import annotations

import contextlib
import gc
import importlib
import itertools
import json
import logging
import os
import secrets
import socket
import sys
from collections.abc import AsyncGenerator, Generator
from pathlib import Path
from typing import Annotated, Any

import attrs
import psycopg
import typer
import uvicorn
import watchfiles
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import Progress
from rich.table import Table

import effects
from confect.app.registry import App, load_app
from confect.engine.interface import Engine
from confect.engine.sql.postgres import PostgresEngine, split_url
from confect.engine.sql.sqlite import EngineLockedError, SqliteEngine
from confect.model.errors import FunctionNotFoundError, InvalidValueError
from confect.model.values import from_wire, to_wire
from confect.runtime.deployment import Backend
from confect.runtime.snapshot import export_snapshot, import_snapshot
from confect.server.asgi import Server, create_app
from confect.server.limits import ConnectionLimits, protocols
from effects import TaggedError
from effects.exit import Failure, Success

cli = typer.Typer(
    help="Run confect apps: serve them, call their functions, move their data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
AppArg = Annotated[Path, typer.Argument(help="The app's package directory (it holds schema.py).")]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        help="sqlite:PATH (default: APP/.confect) or postgresql://... (?schema=NAME picks the "
        "PostgreSQL schema, default confect; every process serving it shares the data)."
    ),
]


@contextlib.contextmanager
def reported() -> Generator[None]:
    """Turn a confect error into a one-line message and exit status 1."""
    try:
        yield
    except (TaggedError, EngineLockedError, psycopg.OperationalError) as error:
        console.print(f"[red]error:[/red] {error}")
        raise typer.Exit(1) from None


def open_engine(url: str | None, data: Path) -> Engine:
    """The engine `--engine` names: SQLite in `data` when it names none."""
    if url is None:
        return SqliteEngine(data)
    if url.startswith("sqlite:"):
        return SqliteEngine(Path(url.removeprefix("sqlite:")))
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(*split_url(url))
    raise typer.BadParameter(
        f"unknown engine {url!r} (sqlite:PATH and postgresql://... are supported)"
    )


def open_app(path: Path) -> tuple[App, Path]:
    """Import the app package at `path`; return it and its data directory (`path/.confect`)."""
    path = path.resolve()
    if not (path / "__init__.py").exists():
        raise typer.BadParameter(f"{path} is not a Python package (no __init__.py)")
    sys.path.insert(0, str(path.parent))
    importlib.invalidate_caches()
    return load_app(path.name), path / ".confect"


@contextlib.contextmanager
def open_backend(path: Path, engine_url: str | None) -> Generator[Backend]:
    """The app's deployment on the engine `engine_url` names, closed afterwards."""
    app, data = open_app(path)
    with reported():
        engine = open_engine(engine_url, data)
        try:
            backend = Backend(app, engine)
            yield backend
            backend.close()
        finally:
            engine.close()


@cli.command()
def run(
    app: AppArg,
    function: Annotated[str, typer.Argument(help="module:name")],
    args: Annotated[str, typer.Argument(help="Arguments as JSON (Convex wire JSON).")] = "{}",
    engine: EngineOpt = None,
) -> None:
    """Call a function (internal ones too) and print its result as JSON."""
    try:
        decoded = from_wire(json.loads(args), "args")
    except (ValueError, InvalidValueError) as error:
        raise typer.BadParameter(f"the arguments are not valid JSON values: {error}") from None
    if not isinstance(decoded, dict):
        raise typer.BadParameter("the arguments must be a JSON object")
    with open_backend(app, engine) as backend:
        try:
            target = backend.resolve(function)
        except FunctionNotFoundError:
            known = ", ".join(sorted(backend.app.functions))
            raise typer.BadParameter(f"no function {function!r}; the app has: {known}") from None
        outcome = effects.run_sync_exit(backend.call(target, decoded))
    if isinstance(outcome, Failure):
        console.print(f"[red]failed:[/red] {outcome.cause.pretty()}")
        raise typer.Exit(1)
    if isinstance(outcome, Success):
        console.print_json(json.dumps(to_wire(outcome.value)))


@cli.command()
def data(
    app: AppArg,
    table: Annotated[str | None, typer.Argument(help="A table to list documents of.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many documents.")] = 20,
    engine: EngineOpt = None,
) -> None:
    """List the tables with their document counts, or the newest documents of one table."""
    with open_backend(app, engine) as backend:
        tables = backend.schema.visible_tables
        if table is None:
            listing = Table("table", "documents")
            for name in tables:
                count = sum(1 for _ in backend.engine.documents(name))
                listing.add_row(name, str(count))
            console.print(listing)
            return
        if table not in tables:
            raise typer.BadParameter(f"no table {table!r}; tables: {', '.join(tables)}")
        newest = backend.engine.documents(table, descending=True)
        for document in itertools.islice(newest, limit):
            console.print_json(json.dumps(to_wire(document)))


def _progress(progress: Progress) -> Any:
    tasks: dict[str, Any] = {}

    def update(table: str, done: int) -> None:
        if table not in tasks:
            tasks[table] = progress.add_task(table, total=None)
        progress.update(tasks[table], completed=done, description=f"{table}: {done}")

    return update


@cli.command("export")
def export_(
    app: AppArg,
    directory: Annotated[Path, typer.Argument(help="Where to write the snapshot.")],
    engine: EngineOpt = None,
) -> None:
    """Write every document and file of the app's data to a snapshot directory."""
    with open_backend(app, engine) as backend, reported(), Progress(console=console) as progress:
        counts = export_snapshot(backend, directory, _progress(progress))
    console.print(f"exported {sum(counts.values())} documents to {directory}")


@cli.command("import")
def import_(
    app: AppArg,
    directory: Annotated[Path, typer.Argument(help="A snapshot made by export.")],
    engine: EngineOpt = None,
) -> None:
    """Load a snapshot into the app's (empty) data, with a progress display."""
    with open_backend(app, engine) as backend, reported(), Progress(console=console) as progress:
        counts = import_snapshot(backend, directory, _progress(progress))
    console.print(f"imported {sum(counts.values())} documents from {directory}")


def _admin_key(engine: Engine, data: Path) -> str:
    """The deployment's admin key, kept in `data/admin_key` (made on first use). Processes
    sharing a PostgreSQL deployment share the key kept there (the first adopts its own)."""
    path = data / "admin_key"
    local = path.read_text().strip() if path.exists() else None
    key = local or secrets.token_urlsafe(32)
    if isinstance(engine, PostgresEngine):
        key = engine.admin_key(key)
    if key != local:
        data.mkdir(parents=True, exist_ok=True)
        path.write_text(key)
        path.chmod(0o600)
    return key


def _reload_app(path: Path) -> App:
    """Import the app package at `path` afresh (its modules changed on disk)."""
    name = path.resolve().name
    for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
        del sys.modules[module]
    importlib.invalidate_caches()
    return load_app(name)


class _Uvicorn(uvicorn.Server):
    """uvicorn, telling the confect server when its shutdown begins: from then, what is in
    flight has the grace period (uvicorn gives its requests the same)."""

    def __init__(self, config: uvicorn.Config, server: Server) -> None:
        super().__init__(config)
        self._confect = server

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._confect.stopping()
        await super().shutdown(sockets)


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
) -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(message)s",
        handlers=[RichHandler(console=console, show_path=False)],
    )
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # a line per call costs more than the call itself on small queries: only when asked
    logging.getLogger("confect.calls").setLevel(logging.INFO if log_calls else logging.WARNING)
    app, data = open_app(app_path)
    if fd is not None:
        with socket.socket(fileno=os.dup(fd)) as listening:
            host, port = listening.getsockname()[:2]
    base_url = f"http://{host}:{port}"  # where file URLs point
    with reported():
        engine = open_engine(engine_url, data)
        if isinstance(engine, SqliteEngine):
            data = engine.directory
        backend = Backend(app, engine, group_commit=True, base_url=base_url)
        server = Server(backend, admin_key=_admin_key(engine, data), shutdown_grace=shutdown_grace)

    async def watch_files() -> None:
        changes: AsyncGenerator[Any] = watchfiles.awatch(  # pyright: ignore[reportUnknownMemberType]
            app_path, watch_filter=lambda _, name: name.endswith(".py")
        )
        async for _ in changes:
            try:
                server.reload(_reload_app(app_path))
                console.print(
                    f"[green]reloaded[/green] {len(server.backend.app.functions)} functions"
                )
            except Exception as error:
                console.print(
                    f"[red]reload failed, still serving the previous version:[/red] {error}"
                )

    background = (watch_files,) if watch else ()
    asgi = create_app(server, on_shutdown=engine.close, background=background)
    where = f"PostgreSQL schema {engine.schema}" if isinstance(engine, PostgresEngine) else data
    console.print(f"confect serving {app_path} at [bold]{base_url}[/bold] (data in {where})")
    console.print(f"admin key: {data / 'admin_key'}")
    http, ws = protocols(limits or ConnectionLimits())
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
    _Uvicorn(config, server).run(sockets=sockets)


def _tune_gc() -> None:
    """Calls leave no reference cycles, so the cyclic GC finds little; under load its full
    passes over every object the server imported cost more than the calls. Exempt what is
    loaded by now (`gc.freeze`) and collect the young generation less often."""
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


@cli.command()
def dev(
    app: Annotated[Path, typer.Argument(help="The app's package directory.")] = Path("."),
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3210,
    engine: EngineOpt = None,
) -> None:
    """Serve the app for development: SQLite data in APP/.confect/ (or the engine given),
    functions reloaded when files change (connections stay open), each call printed with
    its duration and logs."""
    _serve(app, host, port, engine, watch=True, log_calls=True)


_LIMITS = ConnectionLimits()  # the defaults of serve's limit options


@cli.command()
def serve(
    app: AppArg,
    engine: EngineOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3210,
    fd: Annotated[
        int | None,
        typer.Option(help="Serve on this already-listening socket (for supervisors and tests)."),
    ] = None,
    log_calls: Annotated[
        bool, typer.Option(help="Print each call with its duration and log lines.")
    ] = False,
    shutdown_grace: Annotated[
        int,
        typer.Option(
            min=0,
            help="Seconds that calls in flight and running scheduled jobs may go on after "
            "SIGTERM before they are interrupted.",
        ),
    ] = 30,
    header_timeout: Annotated[
        float, typer.Option(help="Seconds a client may take to send a request's headers.")
    ] = _LIMITS.header_timeout,
    body_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds a client may take to send a request's body, plus a second for "
            "every --body-min-rate bytes it sent."
        ),
    ] = _LIMITS.body_timeout,
    body_min_rate: Annotated[
        float, typer.Option(help="Bytes per second (see --body-timeout).")
    ] = _LIMITS.body_min_rate,
    max_connections_per_address: Annotated[
        int,
        typer.Option(
            min=0,
            help="Connections (WebSockets too) one client address may hold; 0 for no cap "
            "(behind a proxy every client has the proxy's address).",
        ),
    ] = _LIMITS.per_address,
    max_connections: Annotated[
        int | None,
        typer.Option(
            min=0,
            help="Connections the server holds in all; 0 for no cap. Default: the "
            "open-file limit (ulimit -n) less 100.",
            show_default=False,
        ),
    ] = None,
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
        log_calls=log_calls,
        fd=fd,
        shutdown_grace=shutdown_grace,
        limits=limits,
    )


def main() -> None:
    """The `confect` entry point."""
    cli()


if __name__ == "__main__":
    main()
