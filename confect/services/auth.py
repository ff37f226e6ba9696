"""Auth: who is calling."""

from __future__ import annotations

from typing import Any

import attrs

import effects
from confect.model.errors import NoUserIdentityFoundError
from effects import Effect, Tag


@attrs.frozen
class UserIdentity:
    """A verified caller: `token_identifier` is `issuer|subject`; other claims are kept."""

    subject: str
    issuer: str
    token_identifier: str
    name: str | None = None
    email: str | None = None
    picture: str | None = None
    claims: dict[str, Any] = attrs.field(factory=dict[str, Any])

    @staticmethod
    def from_claims(claims: dict[str, Any]) -> UserIdentity:
        """The identity of a verified token's claims (`sub`, `iss`, `name`, ...)."""
        subject, issuer = str(claims.get("sub", "")), str(claims.get("iss", ""))
        return UserIdentity(
            subject=subject,
            issuer=issuer,
            token_identifier=f"{issuer}|{subject}",
            name=claims.get("name"),
            email=claims.get("email"),
            picture=claims.get("picture"),
            claims=dict(claims),
        )


class AuthService:
    """What `yield from Auth` gives."""

    __slots__ = ("identity",)

    def __init__(self, identity: UserIdentity | None) -> None:
        self.identity = identity

    def get_user_identity(self) -> Effect[UserIdentity, NoUserIdentityFoundError]:
        """The caller's identity; fails `NoUserIdentityFoundError` for an anonymous call."""
        identity = self.identity
        if identity is None:
            return effects.fail(NoUserIdentityFoundError())
        return effects.succeed(identity)


class Auth(Tag["Auth", AuthService]):
    """The caller's identity: in every function type."""
