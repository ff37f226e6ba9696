"""`confect init`: from an empty directory, an app whose own tests pass, which pyright
(strict) accepts, and which `confect dev` serves to a signed-in client."""

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.servers import CONFECT, confect_serve

from .test_dev_auth import confect_token

TIMEOUT = 300


def confect_init(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CONFECT, "init", *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT
    )


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An app made by `confect init hello` in a fresh directory."""
    where = tmp_path_factory.mktemp("fresh")
    done = confect_init(where, "hello")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cd hello" in done.stdout and "confect dev" in done.stdout
    return where / "hello"


def test_init_writes_the_app_and_its_generated_code(scaffolded: Path):
    names = {str(path.relative_to(scaffolded)) for path in scaffolded.rglob("*") if path.is_file()}
    assert {
        ".gitignore",
        "README.md",
        "__init__.py",
        "schema.py",
        "messages.py",
        "reminders.py",
        "http.py",
        "auth_config.py",
        "tests/conftest.py",
        "tests/test_app.py",
        "_generated/refs.py",
        "_generated/api.d.ts",
    } <= names
    assert '"hello"' in (scaffolded / "tests" / "conftest.py").read_text()
    assert ".confect/" in (scaffolded / ".gitignore").read_text().splitlines()


def test_the_scaffolded_apps_tests_pass_inside_it(scaffolded: Path):
    pytest_command = Path(sys.executable).with_name("pytest")  # as its README says
    done = subprocess.run(
        [str(pytest_command), "-p", "no:cacheprovider"],
        cwd=scaffolded,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout


def test_the_scaffolded_app_passes_pyright_strict(scaffolded: Path):
    pyright = Path(sys.executable).with_name("pyright")
    done = subprocess.run(
        [str(pyright), "--pythonpath", sys.executable],
        cwd=scaffolded,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 errors" in done.stdout


def test_confect_dev_serves_the_scaffolded_app_to_a_signed_in_client(scaffolded: Path):
    token = confect_token(scaffolded, "--subject", "alice")
    with confect_serve(scaffolded, "--site-port", "0", command="dev") as serving:
        auth = {"Authorization": f"Bearer {token}"}

        def call(kind: str, path: str, args: dict, headers: dict | None = None) -> dict:
            body = {"path": path, "args": args, "format": "json"}
            answer = httpx.post(f"{serving.url}/api/{kind}", json=body, headers=headers, timeout=30)
            return answer.json()

        assert call("query", "messages:latest", {})["value"] == []
        assert call("mutation", "messages:send", {"body": "hi"}, auth)["status"] == "success"
        latest = call("query", "messages:latest", {})["value"]
        assert [(m["author"], m["body"]) for m in latest] == [("alice", "hi")]
        routed = httpx.get(f"{serving.url}/http/messages", timeout=30)
        assert routed.json() == [{"author": "alice", "body": "hi"}]


def test_init_without_a_directory_scaffolds_the_current_one(tmp_path: Path):
    (tmp_path / "here").mkdir()
    done = confect_init(tmp_path / "here")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cd " not in done.stdout  # already there
    assert (tmp_path / "here" / "_generated" / "refs.py").is_file()
    assert '"here"' in (tmp_path / "here" / "tests" / "conftest.py").read_text()


def test_init_refuses_a_directory_that_is_not_empty(tmp_path: Path):
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    done = confect_init(tmp_path, "busy")
    assert done.returncode != 0
    assert "is not empty" in done.stderr
    assert [p.name for p in (tmp_path / "busy").iterdir()] == ["notes.txt"]


def test_init_refuses_a_directory_whose_name_is_no_package_name(tmp_path: Path):
    done = confect_init(tmp_path, "my-app")
    assert done.returncode != 0
    assert "try 'my_app'" in done.stderr
    assert not (tmp_path / "my-app").exists()


def test_init_refuses_a_name_another_module_has(tmp_path: Path):
    done = confect_init(tmp_path, "json")
    assert done.returncode != 0
    assert "a module named 'json' exists already" in done.stderr
