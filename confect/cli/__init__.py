"""The `confect` command line: `cli` (a Typer app) and `main`, its entry point.

The commands live in private modules: `_data` (run, data, export, import), `_serve`
(dev, serve), `_codegen` (codegen), `_env` (env), `_token` (token) and `_init` (init),
with what they share in `_common`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import typer

from confect.cli._codegen import codegen_
from confect.cli._data import data, export_, import_, run
from confect.cli._env import env
from confect.cli._init import init
from confect.cli._serve import dev, serve
from confect.cli._token import token

cli = typer.Typer(
    help="Run confect apps: serve them, call their functions, move their data.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _command(function: Callable[..., None], name: str | None = None) -> None:
    """Add `function` as a command, listed in `confect --help` by the first paragraph of
    its docstring as one text (typer's rich markup mode keeps its line breaks there, which
    cut the listing into ragged lines)."""
    first = inspect.cleandoc(function.__doc__ or "").split("\n\n")[0]
    cli.command(name, short_help=" ".join(first.split()))(function)


_command(run)
_command(data)
_command(export_, "export")
_command(import_, "import")
_command(codegen_, "codegen")
_command(dev)
_command(serve)
_command(token)
_command(init)
cli.add_typer(env, name="env")


def main() -> None:
    """The `confect` entry point."""
    cli()


__all__ = ["cli", "main"]
