"""The commands on an app's functions and data: run, data, export, import."""

from __future__ import annotations

import enum
import itertools
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress
from rich.table import Table

import effects
from confect.cli._common import AppArg, EngineOpt, console, open_backend, reported
from confect.model.errors import FunctionNotFoundError, InvalidValueError
from confect.model.values import from_wire, to_wire
from confect.runtime import convex_snapshot, snapshot
from confect.runtime.deployment import Deployment
from effects.exit import Failure, Success


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


class SnapshotFormat(enum.Enum):
    """How a snapshot is laid out: confect's directory, or Convex's ZIP."""

    CONFECT = "confect"
    CONVEX = "convex"


def export_(
    app: AppArg,
    directory: Annotated[Path, typer.Argument(help="Where to write the snapshot.")],
    format_: Annotated[
        SnapshotFormat,
        typer.Option(
            "--format",
            help="confect: a directory; convex: a ZIP file for `npx convex import`.",
        ),
    ] = SnapshotFormat.CONFECT,
    engine: EngineOpt = None,
) -> None:
    """Write every document and file of the app's data to a snapshot."""
    move = (
        convex_snapshot.export_convex_zip
        if format_ is SnapshotFormat.CONVEX
        else snapshot.export_snapshot
    )
    count = _move_snapshot(move, app, engine, directory)
    console.print(f"exported {count} documents to {directory}")


def import_(
    app: AppArg,
    directory: Annotated[
        Path,
        typer.Argument(help="A snapshot made by export, or a ZIP made by `npx convex export`."),
    ],
    engine: EngineOpt = None,
) -> None:
    """Load a snapshot into the app's (empty) data, with a progress display."""
    move = (
        convex_snapshot.import_convex_zip
        if directory.is_file() and zipfile.is_zipfile(directory)
        else snapshot.import_snapshot
    )
    count = _move_snapshot(move, app, engine, directory)
    console.print(f"imported {count} documents from {directory}")


def _move_snapshot(
    move: Callable[[Deployment, Path, snapshot.Progress], dict[str, int]],
    app: Path,
    engine: str | None,
    directory: Path,
) -> int:
    """Run `move` (an export or an import of the snapshot in `directory`) on the app's
    deployment with a progress display of each table; the number of documents it moved."""
    with open_backend(app, engine) as backend, reported(), Progress(console=console) as progress:
        tasks: dict[str, Any] = {}

        def shown(table: str, done: int) -> None:
            if table not in tasks:
                tasks[table] = progress.add_task(table, total=None)
            progress.update(tasks[table], completed=done, description=f"{table}: {done}")

        return sum(move(backend, directory, shown).values())
