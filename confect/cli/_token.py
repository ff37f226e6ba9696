"""The token command: a token of the app's development issuer, to sign in while developing."""

from __future__ import annotations

from typing import Annotated

import typer

from confect.app.dev_auth import DEFAULT_LIFETIME_SECONDS, DevIssuer
from confect.cli._common import HERE, AppArg, reported


def token(
    subject: Annotated[str, typer.Option(help="Who the token signs in: its `sub` claim.")],
    app: AppArg = HERE,
    name: Annotated[str | None, typer.Option(help="The `name` claim.")] = None,
    email: Annotated[str | None, typer.Option(help="The `email` claim.")] = None,
    lifetime: Annotated[
        int, typer.Option(min=1, help="Seconds until the token expires.")
    ] = DEFAULT_LIFETIME_SECONDS,
) -> None:
    """Print a token signing SUBJECT in, for a client of `confect dev`.

    A token of APP's development issuer, which `confect dev` trusts (and `confect serve
    --dev-auth`): give it to a client (`client.set_auth(token)`) to call as SUBJECT. The
    issuer's key is made in APP/.confect/ on first use."""
    with reported():
        issuer = DevIssuer.of_app(app)
    typer.echo(issuer.token(subject, name=name, email=email, lifetime=lifetime))
