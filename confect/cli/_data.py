"""The commands on an app's functions and data: run, data, export, import. Each works on the
deployment `open_deployment` finds: the running server that holds the app's data, the one
`--url` names, or the data itself."""

from __future__ import annotations

import contextlib
import enum
import itertools
import json
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Generator
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

import effects
from confect.cli._common import AppArg, EngineOpt, console, reported
from confect.cli._deployment import (
    CALL_FAILED,
    AdminKeyOpt,
    RemoteDeployment,
    UrlOpt,
    open_deployment,
)
from confect.model.errors import FunctionNotFoundError, InvalidValueError
from confect.model.values import from_wire, to_wire
from confect.runtime import convex_snapshot, snapshot
from confect.runtime.deployment import Deployment
from confect.server.admin import DOCUMENTS_HEADER
from confect.server.admin import SnapshotFormat as Transfer
from effects.exit import Failure, Success


def run(
    app: AppArg,
    function: Annotated[str, typer.Argument(help="module:name")],
    args: Annotated[str, typer.Argument(help="Arguments as JSON (Convex wire JSON).")] = "{}",
    engine: EngineOpt = None,
    url: UrlOpt = None,
    admin_key: AdminKeyOpt = None,
) -> None:
    """Call a function (internal ones too) and print its result as JSON."""
    try:
        wire = json.loads(args)
        decoded = from_wire(wire, "args")
    except (ValueError, InvalidValueError) as error:
        raise typer.BadParameter(f"the arguments are not valid JSON values: {error}") from None
    if not isinstance(decoded, dict):
        raise typer.BadParameter("the arguments must be a JSON object")
    with open_deployment(app, engine, url, admin_key) as target:
        if isinstance(target, RemoteDeployment):
            return _run_remote(target, function, wire)
        try:
            called = target.resolve(function)
        except FunctionNotFoundError:
            known = ", ".join(sorted(target.app.functions))
            raise typer.BadParameter(f"no function {function!r}; the app has: {known}") from None
        outcome = effects.run_sync_exit(target.call(called, decoded))
    if isinstance(outcome, Failure):
        console.print(f"[red]failed:[/red] {escape(outcome.cause.pretty())}", soft_wrap=True)
        raise typer.Exit(1)
    if isinstance(outcome, Success):
        console.print_json(json.dumps(to_wire(outcome.value)))


def _run_remote(target: RemoteDeployment, function: str, args: Any) -> None:
    """Call `function` on the running deployment, as `npx convex run` does: `POST
    /api/function` with the admin key (internal functions too)."""
    body = {"path": function, "args": args, "format": "json"}
    with target.request(
        "POST",
        "/api/function",
        body=json.dumps(body).encode(),
        answers=frozenset({404, CALL_FAILED}),
    ) as response:
        status, answer = response.status, json.loads(response.read())
    if status == 404:
        raise typer.BadParameter(str(answer.get("message", answer)))
    if status == CALL_FAILED:
        console.print(
            f"[red]failed:[/red] {escape(str(answer.get('errorMessage')))}", soft_wrap=True
        )
        raise typer.Exit(1)
    console.print_json(json.dumps(answer["value"]))


def data(
    app: AppArg,
    table: Annotated[str | None, typer.Argument(help="A table to list documents of.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many documents.")] = 20,
    engine: EngineOpt = None,
    url: UrlOpt = None,
    admin_key: AdminKeyOpt = None,
) -> None:
    """List the tables with their document counts, or the newest documents of one table."""
    with open_deployment(app, engine, url, admin_key) as target:
        if isinstance(target, RemoteDeployment):
            _data_remote(target, table, limit)
            return
        tables = target.schema.visible_tables
        if table is None:
            _print_tables((name, sum(1 for _ in target.engine.documents(name))) for name in tables)
            return
        if table not in tables:
            raise typer.BadParameter(f"no table {table!r}; tables: {', '.join(tables)}")
        newest = target.engine.documents(table, descending=True)
        for document in itertools.islice(newest, limit):
            console.print_json(json.dumps(to_wire(document)))


def _data_remote(target: RemoteDeployment, table: str | None, limit: int) -> None:
    tables = target.json("GET", "/api/tables")["tables"]
    if table is None:
        _print_tables((entry["name"], entry["documents"]) for entry in tables)
        return
    names = [entry["name"] for entry in tables]
    if table not in names:
        raise typer.BadParameter(f"no table {table!r}; tables: {', '.join(names)}")
    path = f"/api/tables/{table}/documents"
    for document in target.json("GET", path, query={"limit": str(limit)})["documents"]:
        console.print_json(json.dumps(document))


def _print_tables(counts: Any) -> None:
    listing = Table("table", "documents")
    for name, count in counts:
        listing.add_row(name, str(count))
    console.print(listing)


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
    url: UrlOpt = None,
    admin_key: AdminKeyOpt = None,
) -> None:
    """Write every document and file of the app's data to a snapshot."""
    with open_deployment(app, engine, url, admin_key) as target:
        if isinstance(target, RemoteDeployment):
            count = _export_remote(target, format_, directory)
        else:
            move = (
                convex_snapshot.export_convex_zip
                if format_ is SnapshotFormat.CONVEX
                else snapshot.export_snapshot
            )
            count = _move_snapshot(move, target, directory)
    console.print(f"exported {count} documents to {directory}")


def _export_remote(target: RemoteDeployment, format_: SnapshotFormat, destination: Path) -> int:
    """Stream the running deployment's export into `destination` (the ZIP as it comes, the
    tar of a confect snapshot unpacked as it comes); the number of documents."""
    transfer = Transfer.ZIP if format_ is SnapshotFormat.CONVEX else Transfer.CONFECT
    with target.request("GET", f"/api/export/{transfer.value}", timeout=None) as response:
        count = int(response.headers.get(DOCUMENTS_HEADER, "0"))
        if transfer is Transfer.ZIP:
            with open(destination, "wb") as out:
                shutil.copyfileobj(response, out)
        else:
            destination.mkdir(parents=True, exist_ok=True)
            with tarfile.open(fileobj=response, mode="r|") as archive:
                archive.extractall(destination, filter="data")
    return count


def import_(
    app: AppArg,
    directory: Annotated[
        Path,
        typer.Argument(help="A snapshot made by export, or a ZIP made by `npx convex export`."),
    ],
    engine: EngineOpt = None,
    url: UrlOpt = None,
    admin_key: AdminKeyOpt = None,
) -> None:
    """Load a snapshot into the app's (empty) data, with a progress display."""
    is_zip = directory.is_file() and zipfile.is_zipfile(directory)
    if not is_zip and not (directory / "tables.json").is_file():
        raise typer.BadParameter(
            f"{directory} is neither a snapshot made by export (no tables.json) nor a ZIP"
        )
    with open_deployment(app, engine, url, admin_key) as target:
        if isinstance(target, RemoteDeployment):
            count = _import_remote(target, directory, is_zip)
        else:
            move = convex_snapshot.import_convex_zip if is_zip else snapshot.import_snapshot
            count = _move_snapshot(move, target, directory)
    console.print(f"imported {count} documents from {directory}")


def _import_remote(target: RemoteDeployment, source: Path, is_zip: bool) -> int:
    """Send the snapshot at `source` to the running deployment's `POST /api/import` (a
    confect snapshot as a tar made for it); the number of documents it wrote."""
    transfer = Transfer.ZIP if is_zip else Transfer.CONFECT
    query = {"format": transfer.value}
    with (
        _upload_file(source, is_zip) as (body, size),
        target.request(
            "POST", "/api/import", query=query, body=body, size=size, timeout=None
        ) as response,
    ):
        return int(json.loads(response.read())["numWritten"])


@contextlib.contextmanager
def _upload_file(source: Path, is_zip: bool) -> Generator[tuple[IO[bytes], int]]:
    """The file to send for the snapshot at `source`, and its size."""
    if is_zip:
        with open(source, "rb") as file:
            yield file, source.stat().st_size
        return
    with tempfile.TemporaryFile() as packed:
        with tarfile.open(fileobj=packed, mode="w") as archive:
            archive.add(source, arcname=".")
        size = packed.tell()
        packed.seek(0)
        yield packed, size


def _move_snapshot(
    move: Callable[[Deployment, Path, snapshot.Progress], dict[str, int]],
    backend: Deployment,
    directory: Path,
) -> int:
    """Run `move` (an export or an import of the snapshot in `directory`) on the deployment
    with a progress display of each table; the number of documents it moved."""
    with reported(), Progress(console=console) as progress:
        tasks: dict[str, Any] = {}

        def shown(table: str, done: int) -> None:
            if table not in tasks:
                tasks[table] = progress.add_task(table, total=None)
            progress.update(tasks[table], completed=done, description=f"{table}: {done}")

        return sum(move(backend, directory, shown).values())
