"""Every name /work/shared/design/API.md shows (the contract examples and outside checks are
written against) is there as it shows it: its import lines import, its `effects.X.y`
chains resolve, and its `confect` commands exist, but those of issues not built yet."""

import ast
import importlib
import os
import re
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

import effects
from confect.cli import cli

API = Path(os.environ.get("CONFECT_API_MD", "/work/shared/design/API.md"))
APP = "examples.notes"  # stands for the user's app package (it has its _generated/)
NOT_YET_BUILT: dict[str, str] = {}  # every command API.md names is built now
"""Names API.md shows for work not built yet, with where it is being built: their tests are
expected to fail, and fail the suite once the name exists (then take it off this list)."""
ALTERNATIVES = {  # names API.md lists after a slash, without their prefix
    "effects": ["log_info", "log_warning", "log_error", "log_fatal", "TestClock"],
    "effects.Config": ["integer", "number", "boolean", "literal"],
    "effects.ConfigProvider": ["from_dict"],
}

if not API.exists():
    pytest.skip(f"no {API} here", allow_module_level=True)
TEXT = API.read_text()
PYTHON = "\n".join(re.findall(r"```python\n(.*?)```", TEXT, re.S))
SHELL = "\n".join(re.findall(r"```sh\n(.*?)```", TEXT, re.S))


def import_lines() -> list[str]:
    """The import statements of API.md's Python blocks (parenthesized ones whole), with the
    app package for `APP`."""
    pattern = r"^(?:from [\w.]+ import \([^)]*\)|from [\w.]+ import [^\n#]+|import [\w.]+)"
    return [line.replace("APP", APP) for line in re.findall(pattern, PYTHON, re.M)]


@pytest.mark.parametrize("line", import_lines())
def test_each_import_line_imports(line: str):
    statement = ast.parse(line).body[0]
    if isinstance(statement, ast.Import):
        for alias in statement.names:
            importlib.import_module(alias.name)
        return
    assert isinstance(statement, ast.ImportFrom) and statement.module is not None
    module = importlib.import_module(statement.module)
    missing = [alias.name for alias in statement.names if not hasattr(module, alias.name)]
    assert not missing, f"{statement.module} lacks {missing}"


def test_the_import_lines_are_found():
    lines = import_lines()
    assert any("HttpRouter" in line for line in lines)
    assert any(line.startswith(f"from {APP}._generated.refs import") for line in lines)


def resolve(chain: str) -> object:
    """The object a dotted `chain` from `effects` (or a name `from effects import *` gives)
    names; raises AttributeError if there is none."""
    first, *rest = chain.split(".")
    found: object = effects if first == "effects" else getattr(effects, first)
    for name in rest:
        if isinstance(found, ModuleType) and not hasattr(found, name):
            found = importlib.import_module(f"{found.__name__}.{name}")
        else:
            found = getattr(found, name)
    return found


def effects_chains() -> list[str]:
    roots = "effects|Layer|Schedule|Queue"
    return sorted(set(re.findall(rf"\b((?:{roots})(?:\.[A-Za-z_]\w*)+)", PYTHON)))


@pytest.mark.parametrize("chain", effects_chains())
def test_each_effects_name_resolves(chain: str):
    resolve(chain)


@pytest.mark.parametrize(
    "chain", [f"{owner}.{name}" for owner, names in ALTERNATIVES.items() for name in names]
)
def test_each_name_listed_after_a_slash_resolves(chain: str):
    resolve(chain)


def commands() -> list[str]:
    """The `confect` commands API.md names (`confect dev`, `confect import/export`, ...)."""
    prose = re.findall(r"`confect ([a-z]+(?:/[a-z]+)?)", TEXT)
    shell = re.findall(r"^confect ([a-z]+)", SHELL, re.M)
    return sorted({name for found in prose + shell for name in found.split("/")})


def unless_built(name: str) -> object:
    reason = NOT_YET_BUILT.get(f"confect {name}")
    return (
        name
        if reason is None
        else pytest.param(name, marks=pytest.mark.xfail(reason=reason, strict=True))
    )


@pytest.mark.parametrize("name", [unless_built(name) for name in commands()])
def test_each_confect_command_exists(name: str):
    helped = CliRunner().invoke(cli, [name, "--help"])
    assert helped.exit_code == 0, f"no `confect {name}` command: {helped.output}"


def test_the_commands_are_found():
    assert {"dev", "run", "data", "import", "export", "serve", "codegen"} <= set(commands())
