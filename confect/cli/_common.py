"""What the commands share: the console, the app and engine arguments, opening an app and
its engine, and one-line error reports (confect/cli/_deployment.py finds the deployment a
command works on)."""

from __future__ import annotations

import contextlib
import importlib
import sys
from collections.abc import Callable, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape

from confect.app.registry import App, load_app
from confect.engine.interface import Engine
from confect.engine.sql.sqlite import EngineLockedError, SqliteEngine
from confect.runtime.call_log import app_frame
from effects import TaggedError

if TYPE_CHECKING:
    from confect.engine.sql.postgres import PostgresEngine

POSTGRES_MODULE = "confect.engine.sql.postgres"  # imported (with psycopg) only when used

console = Console()
AppArg = Annotated[Path, typer.Argument(help="The app's package directory (it holds schema.py).")]
HERE = Path(".")
"""The app argument's default where it is a command's only one: the current directory."""
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
    except Exception as error:
        if not isinstance(error, TaggedError | EngineLockedError) and not _database_unreachable(
            error
        ):
            raise
        # brackets are no markup; long lines (paths) are the terminal's to wrap, not cut
        console.print(f"[red]error:[/red] {escape(str(error))}", soft_wrap=True)
        raise typer.Exit(1) from None


def _database_unreachable(error: Exception) -> bool:
    """Whether `error` is psycopg's for a PostgreSQL server it cannot reach (or that refused
    it); never true when the PostgreSQL engine was not used (psycopg was not imported)."""
    if POSTGRES_MODULE not in sys.modules:
        return False
    import psycopg

    return isinstance(error, psycopg.OperationalError)


def open_engine(url: str | None, data: Path) -> Engine:
    """The engine `--engine` names: SQLite in `data` when it names none."""
    if url is None:
        return SqliteEngine(data)
    if url.startswith("sqlite:"):
        return SqliteEngine(Path(url.removeprefix("sqlite:")))
    if url.startswith(("postgres://", "postgresql://")):
        from confect.engine.sql.postgres import PostgresEngine, split_url

        return PostgresEngine(*split_url(url))
    raise typer.BadParameter(
        f"unknown engine {url!r} (sqlite:PATH and postgresql://... are supported)"
    )


def as_postgres(engine: Engine) -> PostgresEngine | None:
    """`engine`, if it is a PostgreSQL engine (none is unless its module was imported)."""
    if POSTGRES_MODULE not in sys.modules:
        return None
    from confect.engine.sql.postgres import PostgresEngine

    return engine if isinstance(engine, PostgresEngine) else None


class AppImportError(TaggedError):
    """The app's own code raised while it was imported: `error`, the exception as
    `Type: message`, and `where`, the line of the app's code that raised it ("" if none
    is known, as for a syntax error, whose message holds the file and line)."""

    app: str
    error: str
    where: str = ""

    def __str__(self) -> str:
        at = f"\n    at {self.where}" if self.where else ""
        return f"the app {self.app} failed to import: {self.error}{at}"

    @staticmethod
    def of(app: str, error: Exception) -> AppImportError:
        """The failure of importing `app` with `error`."""
        where = "" if isinstance(error, SyntaxError) else app_frame(error)
        return AppImportError(app, f"{type(error).__name__}: {error}", where)


def load_reported(name: str, load: Callable[[str], App]) -> App:
    """`load(name)`, an exception from the app's code raised as an `AppImportError`."""
    try:
        return load(name)
    except Exception as error:
        raise AppImportError.of(name, error) from error


def open_app(path: Path, load: Callable[[str], App] = load_app) -> tuple[App, Path]:
    """Import the app package at `path` (with `load`, given its name); return it and its
    data directory (`path/.confect`). An app whose code raises is reported in one message
    naming the exception and the app's line that raised it, and exit status 1."""
    path = path.resolve()
    if not (path / "__init__.py").exists():
        raise typer.BadParameter(f"{path} is not a Python package (no __init__.py)")
    sys.path.insert(0, str(path.parent))
    importlib.invalidate_caches()
    with reported():
        return load_reported(path.name, load), path / ".confect"
