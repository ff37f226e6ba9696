"""`confect env`: the deployment's environment variables (set, get, list, unset), on the
deployment `open_deployment` finds, as `confect data` does: through the running server's
admin endpoints (confect/server/environment_api.py) when one holds the app's data or
`--url` names one, else in the data directly.

As Convex's `npx convex env`: `set NAME VALUE` (or `set NAME=VALUE`), `get NAME`, `list`
(`NAME=value` lines), `unset NAME` (also by Convex's name for it, `remove`).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from confect.cli._common import HERE, AppArg, EngineOpt, console
from confect.cli._deployment import AdminKeyOpt, RemoteDeployment, Target, UrlOpt, open_deployment
from confect.runtime.environment import EnvVarChange
from confect.server.environment_api import LIST_PATHS, UPDATE_PATHS

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
    url: UrlOpt = None,
    admin_key: AdminKeyOpt = None,
) -> None:
    """Set a variable (the queries that read it run again)."""
    if value is None:
        name, equals, value = name.partition("=")
        if not equals:
            raise typer.BadParameter("give the value: set NAME VALUE, or set NAME=VALUE")
    with open_deployment(app, engine, url, admin_key) as target:
        _change(target, EnvVarChange(name, value))
    console.print(f"Successfully set [bold]{name}[/bold]", highlight=False)


@env.command()
def get(
    app: AppArg,
    name: NameArg,
    engine: EngineOpt = None,
    url: UrlOpt = None,
    admin_key: AdminKeyOpt = None,
) -> None:
    """Print a variable's value (exit status 1 if it is not set)."""
    with open_deployment(app, engine, url, admin_key) as target:
        value = _variables(target).get(name)
    if value is None:
        console.print(f"[red]error:[/red] environment variable {name!r} not found")
        raise typer.Exit(1)
    typer.echo(value)


@env.command("list")
def list_(
    app: AppArg = HERE,
    engine: EngineOpt = None,
    url: UrlOpt = None,
    admin_key: AdminKeyOpt = None,
) -> None:
    """Print every variable as NAME=value, one a line, by name."""
    with open_deployment(app, engine, url, admin_key) as target:
        variables = _variables(target)
    if not variables:
        console.print("No environment variables set")
    for name, value in variables.items():
        typer.echo(f"{name}={value}")


@env.command()
def unset(
    app: AppArg,
    name: NameArg,
    engine: EngineOpt = None,
    url: UrlOpt = None,
    admin_key: AdminKeyOpt = None,
) -> None:
    """Unset a variable (nothing happens if it is not set)."""
    with open_deployment(app, engine, url, admin_key) as target:
        _change(target, EnvVarChange(name, None))
    console.print(f"Successfully unset [bold]{name}[/bold]", highlight=False)


env.command("remove", help="Unset a variable (Convex's name for unset).")(unset)


def _variables(target: Target) -> dict[str, str]:
    """Every variable of the deployment, by name."""
    if isinstance(target, RemoteDeployment):
        listing = target.json("GET", LIST_PATHS[0])["environmentVariables"]
        return {str(name): str(value) for name, value in sorted(listing.items())}
    return target.environment_variables()


def _change(target: Target, change: EnvVarChange) -> None:
    """Make `change` on the deployment (a refused one is reported as one line)."""
    if isinstance(target, RemoteDeployment):
        body = {"changes": [{"name": change.name, "value": change.value}]}
        with target.request("POST", UPDATE_PATHS[0], body=json.dumps(body).encode()):
            return
    target.update_environment_variables([change])
