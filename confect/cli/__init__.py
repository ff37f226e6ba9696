"""The `confect` command line: `cli` (a Typer app) and `main`, its entry point.

The commands live in private modules: `_data` (run, data, export, import), `_serve`
(dev, serve), `_codegen` (codegen), `_env` (env), `_token` (token) and `_init` (init),
with what they share in `_common`.
"""

from __future__ import annotations

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
cli.command()(run)
cli.command()(data)
cli.command("export")(export_)
cli.command("import")(import_)
cli.command("codegen")(codegen_)
cli.command()(dev)
cli.command()(serve)
cli.command()(token)
cli.command()(init)
cli.add_typer(env, name="env")


def main() -> None:
    """The `confect` entry point."""
    cli()


__all__ = ["cli", "main"]
