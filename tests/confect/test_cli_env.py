"""`confect env`: set, get, list, unset (and remove) a deployment's environment variables in
its data, which the app's functions then read."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from confect.cli import cli
from tests.servers import ROOT, copy_app

ENV_APP = ROOT / "tests" / "confect" / "env_app"


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return copy_app(ENV_APP, tmp_path, "env_app_copy")


def invoke(*args: object):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_set_get_list_unset_and_functions_read_what_was_set(app: Path):
    assert invoke("env", "list", app).output == "No environment variables set\n"
    set_ = invoke("env", "set", app, "GREETING", "hello world")
    assert set_.exit_code == 0 and "Successfully set GREETING" in set_.output
    assert invoke("env", "set", app, "DB_HOST=db=internal").exit_code == 0  # Convex's form
    assert invoke("env", "get", app, "GREETING").output == "hello world\n"
    assert invoke("env", "list", app).output == "DB_HOST=db=internal\nGREETING=hello world\n"
    assert invoke("run", app, "settings:greeting").output.strip() == '"hello world"'
    unset = invoke("env", "unset", app, "GREETING")
    assert unset.exit_code == 0 and "Successfully unset GREETING" in unset.output
    assert invoke("env", "remove", app, "DB_HOST").exit_code == 0
    assert invoke("env", "list", app).output == "No environment variables set\n"
    assert invoke("run", app, "settings:greeting").output.strip() == '"unset"'


def test_a_value_is_printed_as_it_is(app: Path):
    value = "[bold]not markup[/bold] $HOME 'quoted'"
    assert invoke("env", "set", app, "RAW", value).exit_code == 0
    assert invoke("env", "get", app, "RAW").output == value + "\n"


def test_bad_input_gets_a_message_and_changes_nothing(app: Path):
    bad = invoke("env", "set", app, "9LIVES", "x")
    assert bad.exit_code == 1 and "9LIVES" in bad.output and "is invalid" in bad.output
    forbidden = invoke("env", "set", app, "CONVEX_CLOUD_URL", "x")
    assert forbidden.exit_code == 1 and "built-in" in forbidden.output
    too_big = invoke("env", "set", app, "BIG", "x" * 8193)
    assert too_big.exit_code == 1 and "too large" in too_big.output
    no_value = invoke("env", "set", app, "NAME")
    assert no_value.exit_code == 2 and "set NAME=VALUE" in no_value.output
    missing = invoke("env", "get", app, "NOT_SET")
    assert missing.exit_code == 1 and "'NOT_SET' not found" in missing.output
    assert "Traceback" not in bad.output + forbidden.output + too_big.output + missing.output
    assert invoke("env", "list", app).output == "No environment variables set\n"


def test_the_variables_are_not_among_the_tables_data_lists_or_exports(app: Path, tmp_path: Path):
    invoke("env", "set", app, "SECRET", "s3cret")
    assert "_environment_variables" not in invoke("data", app).output
    assert invoke("export", app, tmp_path / "snapshot").exit_code == 0
    exported = [path.read_bytes() for path in (tmp_path / "snapshot").rglob("*") if path.is_file()]
    assert not any(b"s3cret" in content for content in exported)
