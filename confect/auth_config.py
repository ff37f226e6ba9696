"""Auth configuration and JWT verification.

An app's `auth_config.py` holds `providers = [JwtProvider(...), ...]`. A user token is
accepted when one provider's issuer matches it, its signature verifies with that
provider's keys (JWKS from a URL or given inline; RS256, ES256 or EdDSA), its audience
is the provider's application id, and it has not expired (a little clock skew allowed).
Anything else is refused with `AuthenticationError`: never treated as anonymous.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import jwt

from confect.services.auth import UserIdentity
from effects import TaggedError

ALGORITHMS = ("RS256", "ES256", "EdDSA")
LEEWAY_SECONDS = 10.0


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

    def __init__(self, providers: Sequence[JwtProvider]) -> None:
        self._providers = {provider.issuer: provider for provider in providers}
        self._url_clients: dict[str, jwt.PyJWKClient] = {}
        self._key_sets: dict[str, jwt.PyJWKSet] = {}

    def verify(self, token: str) -> UserIdentity:
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
        try:
            key = self._key(provider, header.get("kid"))
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

    def _key(self, provider: JwtProvider, kid: str | None) -> Any:
        if provider.jwks_url is not None:
            client = self._url_clients.get(provider.issuer)
            if client is None:
                client = self._url_clients[provider.issuer] = jwt.PyJWKClient(provider.jwks_url)
            if kid is None:
                keys = client.get_signing_keys()
                if len(keys) != 1:
                    raise jwt.InvalidTokenError(
                        "the token names no key id and the JWKS has several keys"
                    )
                return keys[0].key
            return client.get_signing_key(kid).key
        key_set = self._key_sets.get(provider.issuer)
        if key_set is None:
            document = (
                json.loads(provider.jwks) if isinstance(provider.jwks, str) else provider.jwks
            )
            key_set = self._key_sets[provider.issuer] = jwt.PyJWKSet.from_dict(dict(document or {}))
        for candidate in key_set.keys:
            if kid is None or candidate.key_id == kid:
                return candidate.key
        raise jwt.InvalidTokenError(f"no key {kid!r} in the provider's JWKS")
