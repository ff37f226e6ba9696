"""Keys at a provider's JWKS URL, from a JWKS server on 127.0.0.1 the test controls: fetched
off the event loop (other clients are served while a provider is slow), kept until they
expire, and fetched again for a key id they lack at most once per cooldown."""

import asyncio
import contextlib
import http.server
import json
import secrets
import threading
import time
from collections.abc import Iterator

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

import effects
from confect import App, Auth, Backend, define_schema, query
from confect.app.auth_config import JWKS_COOLDOWN_SECONDS, JwtProvider, TokenVerifier
from confect.server.asgi import Server
from tests.servers import served

ISSUER = "https://auth.test"
AUDIENCE = "confect-test"
STALL_LIMIT = 10.0  # seconds a stalled JWKS answer waits for its release, at most


@query()
def me():
    auth = yield from Auth
    identity = yield from auth.get_user_identity().or_else(effects.succeed(None))
    return None if identity is None else identity.subject


class SigningKey:
    """A provider's signing key and the JWKS that publishes it as `kid`."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = ec.generate_private_key(ec.SECP256R1())
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))
        self.jwk = {**public, "kid": kid, "alg": "ES256", "use": "sig"}

    def token(self, subject: str, kid: str | None = None) -> str:
        claims = {"iss": ISSUER, "sub": subject, "aud": AUDIENCE, "exp": int(time.time()) + 600}
        return jwt.encode(claims, self.private, algorithm="ES256", headers={"kid": kid or self.kid})


class JwksServer:
    """Serves `keys` as a JWKS, counting the fetches; while `stalling`, an answer waits for
    `release` (at most STALL_LIMIT) and `waiting` says whether one does now."""

    def __init__(self, keys: list[SigningKey], cache_control: str | None = None) -> None:
        self.keys = keys
        self.cache_control = cache_control
        self.status = 200
        self.fetches = 0
        self.stalling = False
        self.asked = threading.Event()
        self.release = threading.Event()
        self.waiting = False
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.fetches += 1
                owner.asked.set()
                if owner.stalling:
                    owner.waiting = True
                    owner.release.wait(STALL_LIMIT)
                    owner.waiting = False
                body = json.dumps({"keys": [key.jwk for key in owner.keys]}).encode()
                self.send_response(owner.status)
                self.send_header("content-type", "application/json")
                if owner.cache_control is not None:
                    self.send_header("cache-control", owner.cache_control)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._http = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/.well-known/jwks.json"

    @contextlib.contextmanager
    def running(self) -> Iterator["JwksServer"]:
        thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.release.set()
            self._http.shutdown()
            self._http.server_close()
            thread.join()


@pytest.fixture
def key() -> SigningKey:
    return SigningKey("key-1")


@pytest.fixture
def jwks(key: SigningKey) -> Iterator[JwksServer]:
    with JwksServer([key]).running() as running:
        yield running


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def server_of(jwks: JwksServer, clock: Clock | None = None) -> Server:
    providers = [JwtProvider(issuer=ISSUER, application_id=AUDIENCE, jwks_url=jwks.url)]
    server = Server(Backend(App({"who:me": me}, define_schema(), auth_providers=providers)))
    if clock is not None:
        server.verifier = TokenVerifier(providers, now=clock)
    return server


async def who(client: httpx.AsyncClient, token: str | None = None) -> tuple[int, object]:
    """The status and the value (or error message) of `who:me` called with `token`."""
    headers = {} if token is None else {"authorization": f"Bearer {token}"}
    answer = await client.post("/api/query", json={"path": "who:me", "args": {}}, headers=headers)
    body = answer.json()
    return answer.status_code, body.get("value", body.get("message"))


async def test_other_clients_are_served_while_a_providers_keys_are_fetched(key, jwks):
    jwks.stalling = True
    server = server_of(jwks)
    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as client:
        signed_in = asyncio.ensure_future(who(client, key.token("alice")))
        assert await asyncio.to_thread(jwks.asked.wait, STALL_LIMIT)
        assert await asyncio.wait_for(who(client), STALL_LIMIT) == (200, None)
        assert jwks.waiting  # the anonymous call was answered while the fetch was stalled
        jwks.release.set()
        assert await asyncio.wait_for(signed_in, STALL_LIMIT) == (200, "alice")


async def test_tokens_naming_unknown_keys_fetch_the_keys_at_most_once_per_cooldown(key, jwks):
    clock = Clock()
    server = server_of(jwks, clock)
    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as client:
        made_up = [key.token("mallory", kid=secrets.token_hex(8)) for _ in range(30)]
        answers = await asyncio.gather(*(who(client, token) for token in made_up))
        assert {status for status, _ in answers} == {401}
        assert all("no key" in str(message) for _, message in answers)
        assert await who(client, key.token("alice")) == (200, "alice")
        assert jwks.fetches == 1
        clock.now += JWKS_COOLDOWN_SECONDS
        for token in made_up[:10]:
            assert (await who(client, token))[0] == 401
        assert jwks.fetches == 2


async def test_a_new_key_is_fetched_once_the_cooldown_allows(key, jwks):
    clock = Clock()
    server = server_of(jwks, clock)
    rotated = SigningKey("key-2")
    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as client:
        assert await who(client, key.token("alice")) == (200, "alice")
        jwks.keys = [key, rotated]
        assert (await who(client, rotated.token("bob")))[0] == 401  # fetched just now
        clock.now += JWKS_COOLDOWN_SECONDS
        assert await who(client, rotated.token("bob")) == (200, "bob")
        assert jwks.fetches == 2


async def test_keys_are_kept_for_the_max_age_the_provider_gives(key, jwks):
    jwks.cache_control = "public, max-age=120"
    clock = Clock()
    server = server_of(jwks, clock)
    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as client:
        assert await who(client, key.token("alice")) == (200, "alice")
        clock.now += 119
        assert await who(client, key.token("alice")) == (200, "alice")
        assert jwks.fetches == 1
        clock.now += 1
        assert await who(client, key.token("alice")) == (200, "alice")
        assert jwks.fetches == 2


async def test_a_failing_provider_refuses_tokens_and_is_asked_again_after_the_cooldown(key, jwks):
    jwks.status = 500
    clock = Clock()
    server = server_of(jwks, clock)
    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as client:
        status, message = await who(client, key.token("alice"))
        assert status == 401 and "could not fetch the keys" in str(message)
        assert (await who(client, key.token("alice")))[0] == 401
        assert jwks.fetches == 1
        jwks.status = 200
        clock.now += JWKS_COOLDOWN_SECONDS
        assert await who(client, key.token("alice")) == (200, "alice")
        assert jwks.fetches == 2
