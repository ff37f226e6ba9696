"""Dev sign-in: `confect token` signs a user in to `confect dev` (the official PyPI and npm
clients calling a mutation that needs an identity), `confect serve` refuses its tokens
unless given `--dev-auth`, and an expired or forged token is refused."""

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import attrs
import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from confect.app.dev_auth import DEV_ISSUER, DevIssuer
from tests.servers import (
    CONFECT,
    NOTES,
    ROOT,
    confect_serve,
    copy_app,
    listening_socket,
    serve_command,
)

from .test_clients import JS

NOT_SIGNED_IN = "NoUserIdentityFoundError"
LINE_SECONDS = 60.0  # the most `confect dev` is waited for to print its next line


def confect_token(app: Path, *options: str) -> str:
    done = subprocess.run(
        [*CONFECT, "token", str(app), *options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def add_note(url: str, token: str, text: str) -> httpx.Response:
    """notes:add over the HTTP API, as the user `token` signs in."""
    body = {"path": "notes:add", "args": {"text": text}, "format": "json"}
    return httpx.post(
        f"{url}/api/mutation", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


@attrs.frozen
class Dev:
    """`confect dev` serving a copy of the notes example at `app`."""

    url: str
    app: Path


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    app = copy_app(NOTES, tmp_path_factory.mktemp("dev"))
    with confect_serve(app, "--site-port", "0", command="dev") as serving:
        yield Dev(serving.url, app)


def test_a_token_from_confect_token_signs_in_to_confect_dev_with_the_python_client(
    dev: Dev,
):
    token = confect_token(dev.app, "--subject", "alice", "--name", "Alice")
    script = (
        "import sys\n"
        "from convex import ConvexClient\n"
        "client = ConvexClient(sys.argv[1])\n"
        "client.set_auth(sys.argv[2])\n"
        "client.mutation('notes:add', {'text': 'signed in from python'})\n"
        "print([n['text'] for n in client.query('notes:list_by_author', {'author': 'alice'})])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, dev.url, token],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "signed in from python" in done.stdout


def test_a_token_from_confect_token_signs_in_to_confect_dev_with_the_npm_client(
    dev: Dev,
):
    token = confect_token(dev.app, "--subject", "bob")
    script = (
        'import { ConvexHttpClient } from "convex/browser";\n'
        'import { anyApi as api } from "convex/server";\n'
        "const [url, token] = process.argv.slice(1);\n"
        "const client = new ConvexHttpClient(url);\n"
        "client.setAuth(token);\n"
        'await client.mutation(api.notes.add, { text: "signed in from node" });\n'
        'const notes = await client.query(api.notes.list_by_author, { author: "bob" });\n'
        "console.log(JSON.stringify(notes.map((n) => n.text)));\n"
    )
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script, dev.url, token],
        cwd=JS,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == '["signed in from node"]'


def test_the_token_carries_the_claims_asked_for(dev: Dev):
    token = confect_token(dev.app, "--subject", "carol", "--name", "Carol", "--email", "c@x.y")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["iss"], claims["sub"], claims["name"], claims["email"]) == (
        DEV_ISSUER,
        "carol",
        "Carol",
        "c@x.y",
    )


def test_confect_dev_serves_the_issuers_keys_as_a_jwks_an_oidc_client_verifies_with(
    dev: Dev,
):
    token = confect_token(dev.app, "--subject", "alice")
    key = jwt.PyJWKClient(f"{dev.url}/.well-known/jwks.json").get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["ES256"], audience=DEV_ISSUER)
    assert claims["sub"] == "alice"


def test_an_expired_token_is_refused(dev: Dev):
    expired = DevIssuer.of_app(dev.app).token("alice", lifetime=-60)
    refused = add_note(dev.url, expired, "too late")
    assert refused.status_code == 401
    assert "expired" in refused.text


def test_a_token_signed_by_another_key_is_refused(dev: Dev):
    issuer = DevIssuer.of_app(dev.app)
    forged = DevIssuer(ec.generate_private_key(ec.SECP256R1()))
    token = jwt.encode(
        jwt.decode(forged.token("alice"), options={"verify_signature": False}),
        forged.key,
        algorithm="ES256",
        headers={"kid": issuer.key_id},  # naming the real key
    )
    refused = add_note(dev.url, token, "forged")
    assert refused.status_code == 401
    assert "Signature verification failed" in refused.text


def test_confect_serve_refuses_dev_tokens_unless_given_dev_auth(tmp_path: Path):
    app = copy_app(NOTES, tmp_path)
    token = confect_token(app, "--subject", "alice")
    with confect_serve(app) as serving:
        refused = add_note(serving.url, token, "served")
        assert refused.status_code == 401
        assert "no auth provider is configured for issuer 'confect-dev'" in refused.text
        assert httpx.get(f"{serving.url}/.well-known/jwks.json").status_code == 404
    with confect_serve(app, "--dev-auth") as serving:
        assert add_note(serving.url, token, "served").json()["status"] == "success"
    assert "dev sign-in" in serving.output


def test_an_anonymous_call_still_needs_a_user(dev: Dev):
    body = {"path": "notes:add", "args": {"text": "anonymous"}, "format": "json"}
    answer = httpx.post(f"{dev.url}/api/mutation", json=body, timeout=30).json()
    assert NOT_SIGNED_IN in answer["errorMessage"]


def test_confect_dev_still_trusts_the_issuer_after_reloading_the_app(tmp_path: Path):
    app = copy_app(NOTES, tmp_path)
    token = confect_token(app, "--subject", "alice")
    listener = listening_socket()
    process = subprocess.Popen(
        serve_command(app, listener.fileno(), "--site-port", "0", command="dev"),
        pass_fds=[listener.fileno()],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},  # each line as it is printed
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    try:
        printed = lines_of(process)
        # once it has answered, its lifespan has begun: it watches the app's files
        assert add_note(url, token, "before the reload").json()["status"] == "success"
        (app / "whoami.py").write_text(
            "from confect import Auth, query\n\n\n"
            "@query()\n"
            "def me():\n"
            "    auth = yield from Auth\n"
            "    return (yield from auth.get_user_identity()).subject\n"
        )
        next_line_with(printed, "reloaded")
        body = {"path": "whoami:me", "args": {}, "format": "json"}
        headers = {"Authorization": f"Bearer {token}"}
        answer = httpx.post(f"{url}/api/query", json=body, headers=headers, timeout=30).json()
        assert answer["value"] == "alice"
    finally:
        process.terminate()
        process.wait(timeout=60)


def lines_of(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """What `process` prints, line by line, as it prints it."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def next_line_with(lines: queue.Queue[str], text: str) -> str:
    """The next line holding `text` (failing if none comes within LINE_SECONDS)."""
    while True:
        line = lines.get(timeout=LINE_SECONDS)
        if text in line:
            return line
