"""What the commands share: the console, the app and engine arguments, opening an app and
its engine, and one-line error reports (confect/cli/_deployment.py finds the deployment a
command works on)."""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Annotated

import psycopg
import typer
from rich.console import Console

from confect.app.registry import App, load_app
from confect.engine.interface import Engine
from confect.engine.sql.postgres import PostgresEngine, split_url
from confect.engine.sql.sqlite import EngineLockedError, SqliteEngine
from effects import TaggedError

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


def open_app(path: Path, load: Callable[[str], App] = load_app) -> tuple[App, Path]:
    """Import the app package at `path` (with `load`, given its name); return it and its
    data directory (`path/.confect`)."""
    path = path.resolve()
    if not (path / "__init__.py").exists():
        raise typer.BadParameter(f"{path} is not a Python package (no __init__.py)")
    sys.path.insert(0, str(path.parent))
    importlib.invalidate_caches()
    return load(path.name), path / ".confect"
