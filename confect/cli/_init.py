"""The init command: scaffold a new app from the template shipped in `template/`."""

from __future__ import annotations

import importlib.util
import keyword
from pathlib import Path
from typing import Annotated

import typer

from confect import codegen
from confect.cli._common import console, open_app, reported

TEMPLATE = Path(__file__).with_name("template")
"""The app's files, each with `.tmpl` added to its name and `{{app}}` for the package's."""
PLACEHOLDER = "{{app}}"
DOTFILES = {"gitignore": ".gitignore"}  # kept without their dot, so every packager ships them


def init(
    directory: Annotated[
        Path,
        typer.Argument(help="Where to make the app (new or empty); its name is the package's."),
    ] = Path("."),
) -> None:
    """Scaffold a new app, with its tests, in DIRECTORY.

    A schema, a query, mutations, an action that schedules a job, an HTTP route, dev
    sign-in, tests with ConfectTest and a README with the next commands; then write its
    _generated/ (as `confect codegen` does)."""
    package = directory.resolve().name
    _refuse_unfit(directory, package)
    for template in sorted(TEMPLATE.rglob("*.tmpl")):
        relative = template.relative_to(TEMPLATE).with_suffix("")
        target = directory / relative.with_name(DOTFILES.get(relative.name, relative.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(template.read_text().replace(PLACEHOLDER, package))
    with reported():
        app, _ = open_app(directory, codegen.load_generating)
        codegen.write(app, package, directory / codegen.GENERATED)
    console.print(f"created the app [bold]{package}[/bold] in {directory}; next:")
    steps = ([] if directory.resolve() == Path.cwd() else [f"cd {directory}"]) + [
        "confect dev                       # serve it, reloading on changes",
        "confect token . --subject alice   # sign in as alice (in another shell)",
        "pytest                            # run its tests",
    ]
    for step in steps:
        console.print(f"  {step}", highlight=False)


def _refuse_unfit(directory: Path, package: str) -> None:
    """Refuse a directory that holds anything, or whose name is no package name or is
    taken by a module already importable (the app would not import as itself)."""
    if directory.exists() and not directory.is_dir():
        raise typer.BadParameter(f"{directory} is a file", param_hint="DIRECTORY")
    if directory.exists() and any(directory.iterdir()):
        raise typer.BadParameter(
            f"{directory} is not empty: confect init writes only into a new or empty directory",
            param_hint="DIRECTORY",
        )
    if not package.isidentifier() or keyword.iskeyword(package):
        raise typer.BadParameter(
            f"{package!r} is not a Python package name (the app is imported by its directory's "
            f"name): try {_identifier(package)!r}",
            param_hint="DIRECTORY",
        )
    found = importlib.util.find_spec(package)
    if found is not None and found.origin is not None:  # a namespace package: the directory itself
        raise typer.BadParameter(
            f"a module named {package!r} exists already ({found.origin}): the app would not "
            "import as itself; name the directory otherwise",
            param_hint="DIRECTORY",
        )


def _identifier(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return (
        cleaned if cleaned.isidentifier() and not keyword.iskeyword(cleaned) else f"app_{cleaned}"
    )
