"""Who a client calls as: a user (a JWT, or a function fetching one), an admin, or no one."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import convex
import jwt

Auth = str | Callable[[], str]
"""A JWT, or a function that fetches one (called again once the last one's `exp` is near)."""

REFRESH_MARGIN = 60.0
"""How many seconds before its `exp` a fetched token is fetched again."""


class Credentials:
    """A client's auth: an admin key, a user's token, or none. A token fetcher is called
    before the first call, and again before a call once its token's `exp` claim is less
    than `REFRESH_MARGIN` seconds away."""

    def __init__(self, auth: Auth | None, admin_key: str | None) -> None:
        if auth is not None and admin_key is not None:
            raise ValueError("give a client auth= or admin_key=, not both")
        self._auth = auth
        self._admin_key = admin_key
        self._token = auth if isinstance(auth, str) else None
        self._expires = float("-inf") if callable(auth) else float("inf")
        self._given: str | None = None  # what the `convex` client was last told

    def token(self) -> str | None:
        """The user's token now (fetched again if due)."""
        if callable(self._auth) and time.time() >= self._expires - REFRESH_MARGIN:
            self._token = self._auth()
            self._expires = _expiry(self._token)
        return self._token

    def header(self) -> str | None:
        """The Authorization header of an HTTP call now."""
        if self._admin_key is not None:
            return f"Convex {self._admin_key}"
        token = self.token()
        return None if token is None else f"Bearer {token}"

    def apply(self, client: convex.ConvexClient) -> None:
        """Tell the `convex` client the auth, when it changed since it was last told."""
        if self._admin_key is not None:
            if self._given is None:
                client.set_admin_auth(self._admin_key)
                self._given = self._admin_key
            return
        token = self.token()
        if token is not None and token != self._given:
            client.set_auth(token)
            self._given = token


def _expiry(token: str) -> float:
    """A JWT's `exp` (seconds since the epoch), infinity if it has none or is no JWT."""
    try:
        claims: Mapping[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return float("inf")
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, (int, float)) else float("inf")
