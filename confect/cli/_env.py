"""`confect env`: the deployment's environment variables (set, get, list, unset), read and
changed in the app's data directly, as `confect data` opens it.

As Convex's `npx convex env`: `set NAME VALUE` (or `set NAME=VALUE`), `get NAME`, `list`
(`NAME=value` lines), `unset NAME` (also by Convex's name for it, `remove`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from confect.cli._common import AppArg, EngineOpt, console, open_backend, reported
from confect.runtime.environment import EnvVarChange

env = typer.Typer(
    help="The deployment's environment variables, which handlers read with effects.Config.",
    no_args_is_help=True,
)
NameArg = Annotated[str, typer.Argument(help="The variable's name.", show_default=False)]


@env.command("set")
def set_(
    app: AppArg,
    name: Annotated[str, typer.Argument(help="The variable's name, or NAME=VALUE.")],
    value: Annotated[str | None, typer.Argument(help="Its value.", show_default=False)] = None,
    engine: EngineOpt = None,
) -> None:
    """Set a variable (the queries that read it run again)."""
    if value is None:
        name, equals, value = name.partition("=")
        if not equals:
            raise typer.BadParameter("give the value: set NAME VALUE, or set NAME=VALUE")
    _update(app, engine, EnvVarChange(name, value))
    console.print(f"Successfully set [bold]{name}[/bold]", highlight=False)


@env.command()
def get(app: AppArg, name: NameArg, engine: EngineOpt = None) -> None:
    """Print a variable's value (exit status 1 if it is not set)."""
    with open_backend(app, engine) as backend:
        value = backend.environment_variables().get(name)
    if value is None:
        console.print(f"[red]error:[/red] environment variable {name!r} not found")
        raise typer.Exit(1)
    typer.echo(value)


@env.command("list")
def list_(app: AppArg, engine: EngineOpt = None) -> None:
    """Print every variable as NAME=value, one a line, by name."""
    with open_backend(app, engine) as backend:
        variables = backend.environment_variables()
    if not variables:
        console.print("No environment variables set")
    for name, value in variables.items():
        typer.echo(f"{name}={value}")


@env.command()
def unset(app: AppArg, name: NameArg, engine: EngineOpt = None) -> None:
    """Unset a variable (nothing happens if it is not set)."""
    _update(app, engine, EnvVarChange(name, None))
    console.print(f"Successfully unset [bold]{name}[/bold]", highlight=False)


env.command("remove", help="Unset a variable (Convex's name for unset).")(unset)


def _update(app: AppArg, engine: str | None, change: EnvVarChange) -> None:
    with open_backend(app, engine) as backend, reported():
        backend.update_environment_variables([change])
