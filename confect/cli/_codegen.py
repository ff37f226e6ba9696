"""The codegen command: write (or check) an app's `_generated/` package."""

from __future__ import annotations

from typing import Annotated

import typer

from confect import codegen
from confect.app.registry import load_app
from confect.cli._common import HERE, AppArg, console, open_app, reported

CheckOpt = Annotated[
    bool,
    typer.Option(
        "--check",
        help="Write nothing; fail (exit 1) naming the files that are missing or stale.",
    ),
]


def codegen_(app: AppArg = HERE, check: CheckOpt = False) -> None:
    """Write APP/_generated/, the app's code typed by its schema and functions.

    services.py (DatabaseReader, DatabaseWriter and the runners typed by the app's tables
    and functions), docs.py (a document class per table), refs.py (`api` and `internal`,
    typed references to the functions) and api.d.ts, dataModel.d.ts, api.js (the functions
    as the convex npm package's FunctionReferences, for a TypeScript client). `confect dev`
    writes them at start and after each reload."""
    with reported():
        loaded, _ = open_app(app, load_app if check else codegen.load_generating)
    package = app.resolve().name
    directory = app / codegen.GENERATED
    if check:
        stale = codegen.stale_files(loaded, package, directory)
        if stale:
            names = ", ".join(f"{codegen.GENERATED}/{name}" for name in stale)
            console.print(f"[red]stale:[/red] {names} (run `confect codegen {app}`)")
            raise typer.Exit(1)
        console.print(f"{directory} is up to date")
        return
    changed = codegen.write(loaded, package, directory)
    console.print(
        f"wrote {len(changed)} files to {directory}" if changed else f"{directory} is up to date"
    )
