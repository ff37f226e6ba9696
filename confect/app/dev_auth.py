"""The development issuer: a JWT issuer of the app's own, for signing in while developing.

`confect dev` trusts it (and `confect serve --dev-auth`, only when asked): its key pair is
made on first use in the app's `.confect/` (`dev_auth_key.pem`, readable by its owner
only), its public key is served as a JWKS (by `confect.server.jwks`) as an OIDC
provider serves it, and `confect token APP --subject alice` signs a token with it. To
the server it is one more `JwtProvider` (a custom JWT provider in Convex's terms), so its
tokens go through the same verification as any other.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from confect.app.auth_config import JwtProvider
from confect.app.registry import App
from effects import TaggedError

DEV_ISSUER = "confect-dev"
"""The `iss` (and `aud`) of the development issuer's tokens."""
KEY_FILE = "dev_auth_key.pem"
"""The issuer's private key, in the app's `.confect/`."""
DEFAULT_LIFETIME_SECONDS = 86_400
ALGORITHM = "ES256"


class DevKeyError(TaggedError):
    """The development issuer's key cannot be had: `message` says why."""

    message: str

    def __str__(self) -> str:
        return self.message


@attrs.frozen
class DevIssuer:
    """The development issuer of one app: its signing key and what derives from it."""

    key: ec.EllipticCurvePrivateKey

    @classmethod
    def of_app(cls, app: Path) -> DevIssuer:
        """The issuer of the app package at `app`: its key from `app/.confect/`, made there
        on first use (several processes making it at once agree on the first one written)."""
        if not (app / "__init__.py").is_file():
            raise DevKeyError(message=f"{app} is not an app's package (no __init__.py)")
        path = app / ".confect" / KEY_FILE
        if not path.exists():
            _write_once(path, _new_key_pem())
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError as error:
            raise _unusable(path, str(error)) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise _unusable(path, "it is not an EC private key")
        return cls(key)

    @property
    def key_id(self) -> str:
        """The key's RFC 7638 thumbprint, as the `kid` of its JWK and its tokens."""
        jwk = self._public_jwk()
        members = {name: jwk[name] for name in ("crv", "kty", "x", "y")}
        canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
        return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()

    def jwks(self) -> dict[str, Any]:
        """The public key as a JWKS document."""
        key = {**self._public_jwk(), "kid": self.key_id, "alg": ALGORITHM, "use": "sig"}
        return {"keys": [key]}

    def provider(self) -> JwtProvider:
        """The provider a server trusting this issuer is given (its keys inline)."""
        return JwtProvider(
            issuer=DEV_ISSUER, application_id=DEV_ISSUER, jwks=self.jwks(), algorithms=[ALGORITHM]
        )

    def trusted_by(self, load: Callable[[str], App]) -> Callable[[str], App]:
        """`load` (an app loader), giving apps that trust this issuer beside their own
        providers."""

        def loading(package: str) -> App:
            app = load(package)
            app.auth_providers.append(self.provider())
            return app

        return loading

    def token(
        self,
        subject: str,
        *,
        name: str | None = None,
        email: str | None = None,
        lifetime: float = DEFAULT_LIFETIME_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> str:
        """A token for `subject` (with `name` and `email` claims when given) that expires
        `lifetime` seconds from now."""
        issued = int(now())
        claims: dict[str, Any] = {
            "iss": DEV_ISSUER,
            "aud": DEV_ISSUER,
            "sub": subject,
            "iat": issued,
            "exp": issued + int(lifetime),
        }
        claims.update({k: v for k, v in (("name", name), ("email", email)) if v is not None})
        return jwt.encode(claims, self.key, algorithm=ALGORITHM, headers={"kid": self.key_id})

    def _public_jwk(self) -> dict[str, Any]:
        return dict(ECAlgorithm.to_jwk(self.key.public_key(), as_dict=True))


def _unusable(path: Path, problem: str) -> DevKeyError:
    return DevKeyError(
        message=f"{path} holds no usable key ({problem}): delete it to make a new one"
    )


def _new_key_pem() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_once(path: Path, content: bytes) -> None:
    """Write `path` (owner-only) unless it exists: written whole beside it, then linked
    into place, so a reader never sees half a key and the first writer wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
    try:
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)
    finally:
        draft.unlink()
