"""Auth configuration and JWT verification.

An app's `auth_config.py` holds `providers = [JwtProvider(...), ...]`. A user token is
accepted when one provider's issuer matches it, its signature verifies with that
provider's keys (JWKS from a URL or given inline; RS256, ES256 or EdDSA), its audience
is the provider's application id, and it has not expired (a little clock skew allowed).
Anything else is refused with `AuthenticationError`: never treated as anonymous.

Keys at a URL are fetched on a thread of their own, never on the event loop, so a slow
provider holds up only the verifications that wait for its keys. They are kept for the
response's `Cache-Control: max-age` (10 minutes without one, between JWKS_COOLDOWN_SECONDS
and a day), and fetched at most once per JWKS_COOLDOWN_SECONDS: a token naming a key the
set lacks fetches it again only once the cooldown is over, so tokens with made-up key ids
cannot make the server fetch for each.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import http.client
import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import jwt

from confect.services.auth import UserIdentity
from effects import TaggedError

ALGORITHMS = ("RS256", "ES256", "EdDSA")
LEEWAY_SECONDS = 10.0
JWKS_FETCH_SECONDS = 10.0  # a fetch of a provider's keys that takes longer fails
JWKS_COOLDOWN_SECONDS = 30.0  # the least time between two fetches of a provider's keys
JWKS_KEPT_SECONDS = 600.0  # how long fetched keys are used, if the response does not say
JWKS_KEPT_AT_MOST_SECONDS = 86_400.0
MAX_JWKS_BYTES = 1 << 20
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)


class AuthenticationError(TaggedError):
    """A token was refused; `message` says why."""

    message: str

    def __str__(self) -> str:
        return self.message


@attrs.frozen
class JwtProvider:
    """Trust tokens from `issuer` meant for `application_id`, signed by the keys at
    `jwks_url` or in `jwks` (a JWKS document, as a dict or JSON text)."""

    issuer: str
    application_id: str | None = None
    jwks_url: str | None = None
    jwks: Mapping[str, Any] | str | None = None
    algorithms: Sequence[str] = ALGORITHMS

    def __attrs_post_init__(self) -> None:
        if (self.jwks_url is None) == (self.jwks is None):
            raise ValueError(f"provider {self.issuer!r}: give exactly one of jwks_url and jwks")


class TokenVerifier:
    """Verifies user tokens against the configured providers."""

    def __init__(
        self, providers: Sequence[JwtProvider], now: Callable[[], float] = time.monotonic
    ) -> None:
        """`now`: a clock in seconds, for the keys' expiry and the fetches' cooldown."""
        self._providers = {provider.issuer: provider for provider in providers}
        self._keys: dict[str, InlineKeys | FetchedKeys] = {
            provider.issuer: (
                FetchedKeys(provider.jwks_url, now)
                if provider.jwks_url is not None
                else InlineKeys(provider.jwks or {})
            )
            for provider in providers
        }

    async def verify(self, token: str) -> UserIdentity:
        """The identity in `token`, or `AuthenticationError`."""
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise AuthenticationError(message=f"the token is malformed: {error}") from None
        issuer = unverified.get("iss")
        provider = self._providers.get(str(issuer))
        if provider is None:
            raise AuthenticationError(
                message=f"no auth provider is configured for issuer {issuer!r}"
            )
        kid = header.get("kid")
        key = await self._keys[provider.issuer].key(None if kid is None else str(kid))
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=list(provider.algorithms),
                audience=provider.application_id,
                issuer=provider.issuer,
                leeway=LEEWAY_SECONDS,
                options={
                    "require": ["iss", "sub", "exp"],
                    "verify_aud": provider.application_id is not None,
                },
            )
        except jwt.PyJWTError as error:
            raise AuthenticationError(message=f"the token was refused: {error}") from None
        return UserIdentity.from_claims(claims)


class InlineKeys:
    """A provider's keys given in its configuration (read when first needed)."""

    def __init__(self, jwks: Mapping[str, Any] | str) -> None:
        self._jwks = jwks
        self._keys: jwt.PyJWKSet | None = None

    async def key(self, kid: str | None) -> Any:
        """The key `kid` names (the only key, when the token names none)."""
        if self._keys is None:
            jwks = self._jwks
            try:
                self._keys = jwt.PyJWKSet.from_dict(
                    json.loads(jwks) if isinstance(jwks, str) else dict(jwks)
                )
            except (ValueError, jwt.PyJWTError) as error:
                raise AuthenticationError(
                    message=f"the provider's JWKS is not usable: {error}"
                ) from None
        return _key_in(self._keys, kid)


class FetchedKeys:
    """A provider's keys from its JWKS URL: fetched on a thread of their own, kept until
    they expire, fetched at most once per JWKS_COOLDOWN_SECONDS, one fetch at a time."""

    def __init__(self, url: str, now: Callable[[], float]) -> None:
        self.url = url
        self._now = now
        self._keys: jwt.PyJWKSet | None = None
        self._expires = 0.0
        self._fetched_at: float | None = None  # when the last fetch began
        self._fetching: concurrent.futures.Future[tuple[jwt.PyJWKSet, float]] | None = None
        self._failure: AuthenticationError | None = None  # the last fetch's, if it failed

    async def key(self, kid: str | None) -> Any:
        """The key `kid` names (the only key, when the token names none), fetching the keys
        if they are not known, expired, or lack it (and the cooldown allows)."""
        keys = self._keys if self._now() < self._expires else None
        if keys is None or _key_or_none(keys, kid) is None:
            keys = await self._fetched()
        return _key_in(keys, kid)

    async def _fetched(self) -> jwt.PyJWKSet:
        """The keys after the fetch under way, or one begun now if the cooldown is over
        (else the keys as they are); refused if there are none current."""
        now = self._now()
        if self._fetching is None and (
            self._fetched_at is None or now - self._fetched_at >= JWKS_COOLDOWN_SECONDS
        ):
            self._fetching = _fetch_on_a_thread(self.url)
            self._fetched_at = now
        if self._fetching is not None:
            await self._settle(self._fetching)
        if self._keys is None or self._now() >= self._expires:
            raise self._failure or AuthenticationError(
                message=f"the keys from {self.url} have expired and were not fetched again yet"
            )
        return self._keys

    async def _settle(
        self, fetching: concurrent.futures.Future[tuple[jwt.PyJWKSet, float]]
    ) -> None:
        """Wait for `fetching` (at most JWKS_FETCH_SECONDS from its start) and keep what it
        brought, unless a later fetch has begun meanwhile."""
        assert self._fetched_at is not None
        left = self._fetched_at + JWKS_FETCH_SECONDS - self._now()
        try:
            if not fetching.done():
                await asyncio.wait_for(asyncio.wrap_future(fetching), max(left, 0))
            keys, kept_for = fetching.result()
        except TimeoutError:
            failure = AuthenticationError(
                message=f"fetching the keys from {self.url} took over {JWKS_FETCH_SECONDS:g} s"
            )
        except AuthenticationError as error:
            failure = error
        else:
            if self._fetching is fetching:
                self._fetching, self._failure = None, None
                self._keys, self._expires = keys, self._fetched_at + kept_for
            return
        if self._fetching is fetching:
            self._fetching, self._failure = None, failure
        raise failure


def _fetch_on_a_thread(url: str) -> concurrent.futures.Future[tuple[jwt.PyJWKSet, float]]:
    """`_fetch(url)` on a new thread (a daemon: a fetch that hangs does not hold up exit)."""
    future: concurrent.futures.Future[tuple[jwt.PyJWKSet, float]] = concurrent.futures.Future()
    future.set_running_or_notify_cancel()  # so one waiter giving up cannot cancel it for all

    def run() -> None:
        try:
            future.set_result(_fetch(url))
        except AuthenticationError as error:
            future.set_exception(error)
        except Exception as error:  # an answer it could not make sense of: refused as well
            message = f"could not fetch the keys from {url}: {error!r}"
            future.set_exception(AuthenticationError(message=message))

    threading.Thread(target=run, name=f"jwks {url}", daemon=True).start()
    return future


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Answers a redirect as the error it is: the keys are at the URL configured (as
    PyJWKClient does, so the server cannot be sent to fetch from elsewhere)."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _fetch(url: str) -> tuple[jwt.PyJWKSet, float]:
    """The key set at `url`, and for how many seconds it may be kept."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    opener = urllib.request.build_opener(_NoRedirects())
    try:
        with opener.open(request, timeout=JWKS_FETCH_SECONDS) as response:
            body = response.read(MAX_JWKS_BYTES + 1)
            cache_control = response.headers.get("cache-control") or ""
    except (OSError, ValueError, http.client.HTTPException) as error:  # an HTTP error status too
        raise AuthenticationError(message=f"could not fetch the keys from {url}: {error}") from None
    try:
        if len(body) > MAX_JWKS_BYTES:
            raise ValueError(f"it is over {MAX_JWKS_BYTES} bytes")
        document = json.loads(body)
        if not isinstance(document, dict):
            raise ValueError("it is not a JSON object")
        keys = jwt.PyJWKSet.from_dict(document)  # pyright: ignore[reportUnknownArgumentType]
    except (ValueError, jwt.PyJWTError) as error:
        raise AuthenticationError(message=f"the keys from {url} are not a JWKS: {error}") from None
    max_age = _MAX_AGE.search(cache_control)
    kept_for = JWKS_KEPT_SECONDS if max_age is None else float(max_age.group(1))
    return keys, min(max(kept_for, JWKS_COOLDOWN_SECONDS), JWKS_KEPT_AT_MOST_SECONDS)


def _key_or_none(keys: jwt.PyJWKSet, kid: str | None) -> Any:
    if kid is None:
        return keys.keys[0].key if len(keys.keys) == 1 else None
    return next((candidate.key for candidate in keys.keys if candidate.key_id == kid), None)


def _key_in(keys: jwt.PyJWKSet, kid: str | None) -> Any:
    key = _key_or_none(keys, kid)
    if key is not None:
        return key
    if kid is None:
        raise AuthenticationError(
            message="the token was refused: it names no key id and the JWKS has several keys"
        )
    raise AuthenticationError(
        message=f"the token was refused: no key {kid!r} in the provider's JWKS"
    )
