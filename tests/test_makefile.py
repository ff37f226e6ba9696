"""The Makefile's targets: what `make dev` runs (read with `make -n`, which runs nothing)."""

import os
import shlex
import shutil
import subprocess

import pytest
from typer.testing import CliRunner

from confect.cli import cli
from tests.servers import ROOT


def dev_command(*variables: str) -> list[str]:
    """The `confect dev` command line `make dev VARIABLES` runs (the venv's setup aside)."""
    if shutil.which("make") is None:
        pytest.skip("no make")
    # under `make test` the parent make's flags and level would make this one print
    # "Entering/Leaving directory" lines: run it as a make of its own
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    printed = subprocess.run(
        ["make", "--no-print-directory", "-n", "dev", *variables],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return shlex.split(printed.strip().splitlines()[-1])


def test_make_dev_serves_the_example_with_confect_devs_defaults():
    assert dev_command() == [".venv/bin/confect", "dev", "examples/notes"]


def test_make_dev_passes_port_and_host_to_confect_dev():
    command = dev_command("PORT=4000", "HOST=0.0.0.0")
    assert command == [
        ".venv/bin/confect", "dev", "examples/notes", "--port", "4000", "--host", "0.0.0.0"
    ]  # fmt: skip
    assert dev_command("PORT=4000")[3:] == ["--port", "4000"]
    help_ = CliRunner().invoke(cli, ["dev", "--help"], env={"COLUMNS": "200"})
    assert "--port" in help_.output and "--host" in help_.output
