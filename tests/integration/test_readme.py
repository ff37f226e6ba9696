"""The README's first steps, run as written: sign in with `confect token`, write and read a
note with the official Python and Node clients against `confect dev examples/notes`, call
it with the CLI beside the server, then scaffold an app with `confect init`, test it and
serve it.

They run in a checkout of their own (the notes example copied, `.venv` the one running
the tests), against servers on free ports: the only changes to the snippets are the
server's URL, and `confect dev` given its socket."""

import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import jwt
import pytest

from tests.servers import NOTES, ROOT, confect_serve, copy_app

from .test_clients import JS

README = ROOT / "README.md"
FIRST_STEPS = ("## Your first ten minutes", "## What is here")
DEFAULT_URL = "http://127.0.0.1:3210"
TIMEOUT = 300
LINE_SECONDS = 60.0  # the most a client is waited for to print its next line


def first_steps() -> list[tuple[str, str]]:
    """The fenced blocks of the README's first steps: (language, code), in order."""
    text = README.read_text()
    start, end = (text.index(marker) for marker in FIRST_STEPS)
    return re.findall(r"```(\w+)\n(.*?)```", text[start:end], re.DOTALL)


def block(language: str, containing: str) -> str:
    (found,) = [code for lang, code in first_steps() if lang == language and containing in code]
    return found


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A checkout for the README's commands: the notes example, and `.venv`."""
    root = tmp_path / "checkout"
    (root / "examples").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "__init__.py", root / "examples")
    copy_app(NOTES, root / "examples")
    (root / ".venv").symlink_to(sys.prefix)
    return root


def bash(script: str, cwd: Path) -> str:
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def lines_of(process: subprocess.Popen[str]) -> queue.Queue[str]:
    """What `process` prints, line by line, as it prints it."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def test_sign_in_and_call_the_example_from_python_and_node(checkout: Path):
    with confect_serve(
        checkout / "examples" / "notes", "--site-port", "0", command="dev"
    ) as serving:
        token = bash(
            block("sh", "export CONFECT_TOKEN") + 'echo "$CONFECT_TOKEN"\n', checkout
        ).strip()
        claims = jwt.decode(token, options={"verify_signature": False})
        assert (claims["sub"], claims["name"]) == ("alice", "Alice")
        env = {**os.environ, "CONFECT_TOKEN": token}

        # the PyPI client: writes, reads, and subscribes (a loop that runs until stopped)
        untyped = block("python", "ConvexClient").replace(DEFAULT_URL, serving.url)
        client = subprocess.Popen(
            [sys.executable, "-u", "-c", untyped],
            cwd=checkout,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            printed = lines_of(client)
            listed, searched = (printed.get(timeout=LINE_SECONDS) for _ in range(2))
        finally:
            client.kill()
            client.wait()
        assert "'text': 'buy milk'" in listed and "'author': 'alice'" in listed
        assert "'text': 'buy milk'" in searched  # the subscription's first result

        typed = block("python", "confect.client").replace(DEFAULT_URL, serving.url)
        done = subprocess.run(
            [sys.executable, "-c", typed + "print([n.text for n in notes])\n"],
            cwd=checkout,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "['buy milk']"

        node = block("js", "ConvexHttpClient").replace(DEFAULT_URL, serving.url)
        done = subprocess.run(
            ["node", "--input-type=module"],
            input=node,
            cwd=JS,  # where the npm peers are installed
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
        )
        assert done.returncode == 0, done.stderr
        assert "text: 'from node'" in done.stdout and "text: 'buy milk'" in done.stdout

        # the CLI, beside the running server (which holds the data): through it
        printed = bash(block("sh", "confect run"), checkout)
        assert '"text": "buy milk"' in printed and '"text": "from node"' in printed


def test_scaffold_test_and_serve_an_app_of_your_own(checkout: Path):
    *commands, serve = block("sh", "confect init").strip().splitlines()
    assert serve.split("#")[0].strip() == "confect dev"
    printed = bash("\n".join(commands), checkout)
    assert "4 passed" in printed
    token = printed.strip().splitlines()[-1]  # what `confect token . --subject alice` printed
    app = checkout.parent / "hello"
    with confect_serve(app, "--site-port", "0", command="dev") as serving:
        body = {"path": "messages:send", "args": {"body": "hi"}, "format": "json"}
        auth = {"Authorization": f"Bearer {token}"}
        sent = httpx.post(f"{serving.url}/api/mutation", json=body, headers=auth, timeout=30)
        assert sent.json()["status"] == "success"
        body = {"path": "messages:latest", "args": {}, "format": "json"}
        latest = httpx.post(f"{serving.url}/api/query", json=body, timeout=30).json()["value"]
        assert [(m["author"], m["body"]) for m in latest] == [("alice", "hi")]
