"""Identity on the sync socket: a refused or expired token ends the connection with an
AuthError (as Convex's does), and nothing sent on it afterwards runs, as anyone."""

import asyncio
import json
import time

import jwt
import pytest
import websockets
from cryptography.hazmat.primitives.asymmetric import rsa

from confect import (
    App,
    Auth,
    Backend,
    DatabaseReader,
    DatabaseWriter,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.app.auth_config import JwtProvider
from confect.server.asgi import Server
from tests.servers import served

ISSUER = "https://issuer.sync-auth.test"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWKS = {
    "keys": [
        {
            **json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key())),
            "kid": "k",
            "alg": "RS256",
        }
    ]
}
SCHEMA = define_schema(writes=define_table({"by": v.optional(v.string()), "text": v.string()}))


@mutation(args={"text": v.string()})
def write(text: str):
    auth = yield from Auth
    db = yield from DatabaseWriter
    yield from db.table("writes").insert(
        {"by": auth.identity and auth.identity.subject, "text": text}
    )


@query()
def written():
    db = yield from DatabaseReader
    return [[d.by, d.text] for d in (yield from db.table("writes").collect())]


def token(subject: str, lifetime: float = 600) -> str:
    claims = {"iss": ISSUER, "sub": subject, "exp": int(time.time() + lifetime)}
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "k"})


def server() -> Server:
    app = App(
        {"w:write": write, "w:written": written},
        SCHEMA,
        auth_providers=[JwtProvider(issuer=ISSUER, jwks=JWKS)],
    )
    return Server(Backend(app))


def authenticate(value: str, base: int) -> str:
    return json.dumps(
        {"type": "Authenticate", "tokenType": "User", "value": value, "baseVersion": base}
    )


def write_message(request_id: int, text: str) -> str:
    return json.dumps(
        {
            "type": "Mutation",
            "requestId": request_id,
            "udfPath": "w:write",
            "args": [{"text": text}],
        }
    )


async def until_closed(socket_: websockets.ClientConnection) -> list[dict]:
    """Every message until the server closes the connection."""
    seen: list[dict] = []
    with pytest.raises(websockets.ConnectionClosed):
        while True:
            seen.append(json.loads(await asyncio.wait_for(socket_.recv(), 10)))
    return seen


async def answered(socket_: websockets.ClientConnection) -> None:
    """Read until a MutationResponse has come (and succeeded)."""
    while True:
        message = json.loads(await asyncio.wait_for(socket_.recv(), 10))
        if message["type"] == "MutationResponse":
            assert message["success"], message
            return


async def writes(address: str) -> list[list[str | None]]:
    async with websockets.connect(f"ws://{address}/api/sync") as socket_:
        add = {"type": "Add", "queryId": 0, "udfPath": "w:written", "args": [{}]}
        await socket_.send(
            json.dumps(
                {
                    "type": "ModifyQuerySet",
                    "baseVersion": 0,
                    "newVersion": 1,
                    "modifications": [add],
                }
            )
        )
        return json.loads(await asyncio.wait_for(socket_.recv(), 10))["modifications"][0]["value"]


async def test_a_refused_token_closes_the_connection_and_later_calls_never_run():
    served_server = server()
    async with served(served_server) as address:
        async with websockets.connect(f"ws://{address}/api/sync") as socket_:
            await socket_.send(authenticate(token("alice"), 0))
            await socket_.send(write_message(0, "as alice"))
            await answered(socket_)
            await socket_.send(authenticate(token("alice") + "x", 1))  # a bad signature
            await socket_.send(write_message(1, "after the refusal"))
            seen = await until_closed(socket_)
        auth_errors = [m for m in seen if m["type"] == "AuthError"]
        assert len(auth_errors) == 1 and auth_errors[0]["authUpdateAttempted"] is True
        assert auth_errors[0]["baseVersion"] == 1  # the identity version the server is at
        assert not [m for m in seen if m["type"] == "MutationResponse"]
        assert await writes(address) == [["alice", "as alice"]]  # not anonymous, not as alice


async def test_an_expired_token_is_refused_and_nothing_runs_anonymously():
    async with served(server()) as address:
        async with websockets.connect(f"ws://{address}/api/sync") as socket_:
            await socket_.send(authenticate(token("bob", lifetime=-3600), 0))
            await socket_.send(write_message(0, "anonymous?"))
            seen = await until_closed(socket_)
        assert [m["type"] for m in seen] == ["AuthError"]
        assert await writes(address) == []


async def test_a_token_that_expires_during_the_connection_stops_its_calls(monkeypatch):
    from confect.server import calls

    async with served(server()) as address:
        async with websockets.connect(f"ws://{address}/api/sync") as socket_:
            await socket_.send(authenticate(token("carol"), 0))
            await socket_.send(write_message(0, "in time"))
            await answered(socket_)
            # from now on the token counts as expired (its exp is 600 s away)
            monkeypatch.setattr(calls, "LEEWAY_SECONDS", -1200.0)
            await socket_.send(write_message(1, "too late"))
            later = await until_closed(socket_)
        assert [m["type"] for m in later if m["type"] != "Transition"] == ["AuthError"]
        assert next(m for m in later if m["type"] == "AuthError")["authUpdateAttempted"] is False
        monkeypatch.setattr(calls, "LEEWAY_SECONDS", 10.0)
        assert await writes(address) == [["carol", "in time"]]
