"""The development issuer's public key, served as an OIDC provider serves its keys."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from confect.app.dev_auth import DevIssuer

JWKS_PATH = "/.well-known/jwks.json"
"""Where a server trusting the development issuer serves its public key."""


def serving_jwks(app: ASGIApp, issuer: DevIssuer) -> ASGIApp:
    """`app`, with the issuer's JWKS answered at `JWKS_PATH` (everything else is `app`'s)."""
    keys = JSONResponse(issuer.jwks(), headers={"cache-control": "max-age=600"})

    async def asgi(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == JWKS_PATH and scope["method"] == "GET":
            await keys(scope, receive, send)
        else:
            await app(scope, receive, send)

    return asgi
