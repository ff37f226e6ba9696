"""Tokens: the provider's key the tests hold, an attacker's key, and tokens forged every
way an attacker would try (each must be refused, never taken as anonymous)."""

from __future__ import annotations

import base64
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import attrs
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from confect.app.auth_config import JwtProvider

ISSUER = "https://issuer.adversarial.test"
AUDIENCE = "adversarial-tests"
KEY_ID = "test-key"


@attrs.frozen
class Keys:
    """The provider's signing key, and an attacker's."""

    trusted: rsa.RSAPrivateKey
    other: rsa.RSAPrivateKey

    @staticmethod
    def make() -> Keys:
        """Two new keys."""
        return Keys(_new_key(), _new_key())

    def provider(self) -> JwtProvider:
        """The provider that trusts `trusted`."""
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.trusted.public_key()))
        jwks = {"keys": [{**public, "kid": KEY_ID, "alg": "RS256", "use": "sig"}]}
        return JwtProvider(issuer=ISSUER, application_id=AUDIENCE, jwks=jwks)

    def token(self, subject: str, key: rsa.RSAPrivateKey | None = None, **changes: Any) -> str:
        """A token for `subject` signed by `key` (the trusted one unless given), its claims
        changed by `changes` (None drops a claim)."""
        return jwt.encode(
            claims(subject, **changes), key or self.trusted, algorithm="RS256",
            headers={"kid": KEY_ID},
        )  # fmt: skip


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def claims(subject: str, **changes: Any) -> dict[str, Any]:
    """A valid token's claims for `subject`, changed by `changes` (None drops a claim)."""
    now = int(time.time())
    found: dict[str, Any] = {"iss": ISSUER, "sub": subject, "aud": AUDIENCE, "iat": now}
    found["exp"] = now + 600
    found.update(changes)
    return {name: value for name, value in found.items() if value is not None}


def _segment(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unsigned(keys: Keys) -> str:
    return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{_segment(claims('mallory'))}."


def _keyed_with_public_key(keys: Keys) -> str:
    """HS256 with the provider's public key as the HMAC secret (algorithm confusion)."""
    pem = keys.trusted.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signed = (
        f"{_segment({'alg': 'HS256', 'typ': 'JWT', 'kid': KEY_ID})}.{_segment(claims('mallory'))}"
    )
    return f"{signed}.{_segment(hmac.new(pem, signed.encode(), 'sha256').digest())}"


def _claims_changed(keys: Keys) -> str:
    head, _, signature = keys.token("alice").split(".")
    return f"{head}.{_segment(claims('admin'))}.{signature}"


FORGERIES: dict[str, Callable[[Keys], str]] = {
    "empty": lambda keys: "",
    "garbage": lambda keys: "garbage",
    "three dots": lambda keys: "a.b.c",
    "alg none": _unsigned,
    "alg none, no dot": lambda keys: _unsigned(keys)[:-1],
    "HS256 keyed with the public key": _keyed_with_public_key,
    "signed by another key": lambda keys: keys.token("mallory", key=keys.other),
    "another key, its own jku": lambda keys: jwt.encode(
        claims("mallory"),
        keys.other,
        algorithm="RS256",
        headers={"kid": KEY_ID, "jku": "http://127.0.0.1:9/jwks"},
    ),
    "expired": lambda keys: keys.token("alice", exp=1_000_000),
    "not yet valid": lambda keys: keys.token("alice", nbf=4_000_000_000),
    "another audience": lambda keys: keys.token("alice", aud="someone-else"),
    "an unknown issuer": lambda keys: keys.token("alice", iss="https://elsewhere.test"),
    "no subject": lambda keys: keys.token("alice", sub=None),
    "no expiry": lambda keys: keys.token("alice", exp=None),
    "claims changed after signing": _claims_changed,
    "signature cut short": lambda keys: keys.token("alice")[:-10],
    "issuer not a string": lambda keys: jwt.api_jws.encode(
        json.dumps(claims("alice", iss=[ISSUER])).encode(),
        keys.trusted,
        algorithm="RS256",
        headers={"kid": KEY_ID},
    ),
}
