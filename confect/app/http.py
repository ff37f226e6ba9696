"""HTTP actions: the request and response types, and `HttpRouter`, the app's routes.

An app's `http.py` holds `http = HttpRouter()` with routes to `@http_action` functions.
The server serves them under its HTTP prefix (default `/http`): a route for `/hello` is
`GET /http/hello`; and at their own paths on the site port (`confect dev`: 3211), as
Convex's site URL does: `GET http://127.0.0.1:3211/hello`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from confect.app.functions import HttpActionDefinition
from confect.model.values import Value

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@attrs.frozen
class HttpRequest:
    """What an http action gets: method, path (inside the prefix), query, headers, body."""

    method: str
    url: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes = b""

    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@attrs.frozen
class HttpResponse:
    """What an http action returns."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = attrs.field(factory=dict[str, str])

    @staticmethod
    def json(value: Value | Mapping[str, Any] | Sequence[Any], status: int = 200) -> HttpResponse:
        body = json.dumps(value).encode()
        return HttpResponse(status, body, {"content-type": "application/json"})

    @staticmethod
    def text(text: str, status: int = 200) -> HttpResponse:
        return HttpResponse(status, text.encode(), {"content-type": "text/plain; charset=utf-8"})


@attrs.frozen
class Route:
    method: str
    handler: HttpActionDefinition[..., Any, Any]
    path: str | None = None
    prefix: str | None = None


class HttpRouter:
    """Routes by exact path or by path prefix, per method. With `cors_origins`, answers
    preflight requests and adds CORS headers to every response."""

    def __init__(self, cors_origins: Sequence[str] = ()) -> None:
        self.routes: list[Route] = []
        self.cors_origins = tuple(cors_origins)

    def route(
        self,
        *,
        method: str,
        handler: HttpActionDefinition[..., Any, Any],
        path: str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Add a route: exactly one of `path` ("/hello") and `path_prefix` ("/files/")."""
        method = method.upper()
        if method not in METHODS:
            raise ValueError(f"unknown HTTP method {method!r}")
        if (path is None) == (path_prefix is None):
            raise ValueError("give exactly one of path and path_prefix")
        if handler.kind != "http_action":
            raise ValueError(f"{handler.name} is a {handler.kind}; routes need an @http_action")
        where = path if path is not None else path_prefix
        if where is None or not where.startswith("/"):
            raise ValueError(f"route paths start with '/': {where!r}")
        self.routes.append(Route(method, handler, path, path_prefix))

    def lookup(self, method: str, path: str) -> Route | None:
        """The route for a request: an exact path wins, then the longest prefix."""
        exact = [r for r in self.routes if r.method == method and r.path == path]
        if exact:
            return exact[0]
        prefixed = [
            r for r in self.routes if r.method == method and r.prefix and path.startswith(r.prefix)
        ]
        return max(prefixed, key=lambda r: len(r.prefix or ""), default=None)

    def allows_path(self, path: str) -> list[str]:
        """The methods routed for `path` (for preflight answers)."""
        return sorted(
            {
                r.method
                for r in self.routes
                if r.path == path or (r.prefix and path.startswith(r.prefix))
            }
        )

    def cors_headers(self, origin: str | None) -> dict[str, str]:
        """CORS headers for a request from `origin` (empty when not allowed)."""
        if not self.cors_origins or origin is None:
            return {}
        if "*" not in self.cors_origins and origin not in self.cors_origins:
            return {}
        return {
            "access-control-allow-origin": origin if "*" not in self.cors_origins else "*",
            "access-control-allow-headers": "content-type, authorization",
            "access-control-max-age": "86400",
            "vary": "origin",
        }
