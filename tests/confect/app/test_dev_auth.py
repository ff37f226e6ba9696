"""The development issuer: its key made once in the app's `.confect/`, its tokens verified
as any provider's, its bad key files reported."""

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from confect.app.auth_config import AuthenticationError, TokenVerifier
from confect.app.dev_auth import DEV_ISSUER, KEY_FILE, DevIssuer, DevKeyError
from confect.app.registry import App
from confect.cli import cli
from confect.model.schema import define_schema

WIDE = {"COLUMNS": "500"}  # error lines unwrapped


@pytest.fixture
def app(tmp_path: Path) -> Path:
    (tmp_path / "myapp").mkdir()
    (tmp_path / "myapp" / "__init__.py").write_text("")
    return tmp_path / "myapp"


def test_the_key_is_made_once_readable_by_its_owner_only(app: Path):
    first = DevIssuer.of_app(app)
    path = app / ".confect" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert DevIssuer.of_app(app).key_id == first.key_id
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE]  # no draft left beside it


async def test_its_tokens_verify_as_a_providers_with_their_claims(app: Path):
    issuer = DevIssuer.of_app(app)
    verifier = TokenVerifier([issuer.provider()])
    identity = await verifier.verify(issuer.token("alice", name="Alice", email="a@x.y"))
    assert (identity.subject, identity.issuer, identity.name, identity.email) == (
        "alice",
        DEV_ISSUER,
        "Alice",
        "a@x.y",
    )
    assert identity.token_identifier == f"{DEV_ISSUER}|alice"
    with pytest.raises(AuthenticationError, match="expired"):
        await verifier.verify(issuer.token("alice", lifetime=-60))


async def test_another_apps_issuer_is_not_trusted(app: Path, tmp_path: Path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "__init__.py").write_text("")
    verifier = TokenVerifier([DevIssuer.of_app(app).provider()])
    with pytest.raises(AuthenticationError, match="the token was refused"):
        await verifier.verify(DevIssuer.of_app(other).token("alice"))


def test_an_app_loaded_trusting_it_keeps_its_own_providers(app: Path):
    issuer = DevIssuer.of_app(app)
    own = DevIssuer.of_app(app).provider()
    loaded = issuer.trusted_by(lambda _: App({}, define_schema(), auth_providers=[own]))("x")
    assert [p.issuer for p in loaded.auth_providers] == [DEV_ISSUER, DEV_ISSUER]
    assert loaded.auth_providers[0] is own


def test_a_key_file_that_holds_no_key_is_reported(app: Path):
    (app / ".confect").mkdir()
    (app / ".confect" / KEY_FILE).write_text("not a key")
    with pytest.raises(DevKeyError, match="holds no usable key"):
        DevIssuer.of_app(app)
    result = CliRunner().invoke(cli, ["token", str(app), "--subject", "alice"], env=WIDE)
    assert result.exit_code == 1
    assert "holds no usable key" in result.output and "delete it" in result.output


def test_confect_token_refuses_what_is_not_an_app(tmp_path: Path):
    missing = str(tmp_path / "missing")
    result = CliRunner().invoke(cli, ["token", missing, "--subject", "a"], env=WIDE)
    assert result.exit_code == 1
    assert "is not an app's package" in result.output
    assert not (tmp_path / "missing").exists()
