"""A live confect server for the integration tests: the notes example (with an auth
provider whose keys the tests hold), served by `confect serve` in a child process."""

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.servers import NOTES, ROOT, confect_serve, copy_app

ISSUER = "https://issuer.confect.test"
AUDIENCE = "confect-tests"
ADMIN_KEY = "integration-test-admin-key"


@attrs.frozen
class Live:
    url: str
    app: Path
    key: rsa.RSAPrivateKey

    def token(self, subject: str, lifetime: float = 600) -> str:
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": AUDIENCE,
            "exp": int(time.time() + lifetime),
            "name": subject,
        }
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "test-key"})

    def admin_key(self) -> str:
        return ADMIN_KEY


def notes_app(directory: Path) -> tuple[Path, rsa.RSAPrivateKey]:
    """A copy of the notes example in `directory`, with the tests' auth (see `with_test_auth`)
    and `values_module` as its module `values`."""
    app = copy_app(NOTES, directory)
    shutil.copy(Path(__file__).with_name("values_module.py"), app / "values.py")
    return app, with_test_auth(app)


def with_test_auth(app: Path) -> rsa.RSAPrivateKey:
    """Give the copy of an app at `app` an auth provider whose key is returned, and the test
    admin key in its data directory (the server adopts it)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwks = {"keys": [{**public, "kid": "test-key", "alg": "RS256", "use": "sig"}]}
    (app / "auth_config.py").write_text(
        "from confect import JwtProvider\n\n"
        f"providers = [JwtProvider(issuer={ISSUER!r}, application_id={AUDIENCE!r}, jwks={json.dumps(jwks)!r})]\n"
    )
    (app / ".confect").mkdir()
    (app / ".confect" / "admin_key").write_text(ADMIN_KEY)
    return key


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    app, key = notes_app(tmp_path_factory.mktemp("live"))
    with confect_serve(app) as serving:
        yield Live(serving.url, app, key)


def run_driver(command: list[str], timeout: float = 60) -> list[dict]:
    """Run a client driver; its JSON lines, or a failure showing what it printed."""
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{command[:3]} failed:\n{done.stdout}\n{done.stderr}"
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
