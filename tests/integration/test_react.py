"""The official React hooks (`convex/react`) in headless Chromium against a live server: a
page built with Vite from tests/integration/react, opened by js/browse.mjs while another
client writes over the HTTP API, and what the page shows."""

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.servers import ROOT, confect_serve, copy_app

from .conftest import run_driver

HERE = ROOT / "tests" / "integration"
JS = HERE / "js"
CHROMIUM = Path("/usr/bin/chromium")


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="session")
def react_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The page, built once, served from a static file server: its URL."""
    if not (JS / "node_modules" / "vite").exists():
        pytest.fail("the npm peers are not installed: run `npm ci` in tests/integration/js")
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does)")
    built = tmp_path_factory.mktemp("react-page")
    run_driver(["node", str(JS / "build_page.mjs"), str(built)])
    files = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietFiles, directory=str(built))
    )
    thread = threading.Thread(target=files.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{files.server_address[1]}"
    finally:
        files.shutdown()
        files.server_close()
        thread.join()


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live server of tests/integration/chat (a copy, so its data stays in a tmp dir)."""
    app = copy_app(HERE / "chat", tmp_path_factory.mktemp("chat"))
    with confect_serve(app) as served:
        yield served.url


def browse(page: str, deployment: str, scenario: str, channel: str) -> dict:
    lines = run_driver(["node", str(JS / "browse.mjs"), page, deployment, scenario, channel])
    return {line["step"]: line["value"] for line in lines}


@pytest.fixture(scope="module")
def chat_page(react_page: str, chat: str) -> dict:
    """One visit of the chat view: its steps, what the page showed at each."""
    return browse(react_page, chat, "chat", "general")


def test_use_query_shows_another_clients_message(chat_page: dict):
    assert chat_page["initial"] == []
    assert chat_page["after the other client"] == ["from another client"]


def test_use_mutation_shows_its_optimistic_message_before_the_server_answers(chat_page: dict):
    events = chat_page["events"]
    optimistic = next(i for i, e in enumerate(events) if "~from the page" in e.get("messages", []))
    resolved = next(i for i, e in enumerate(events) if e["type"] == "resolved")
    assert optimistic < resolved  # "~": the page drew the optimistic message
    assert chat_page["after the mutation"] == ["from the page", "from another client"]


def test_the_servers_message_replaces_the_optimistic_one_in_one_render(chat_page: dict):
    # the server's MutationResponse must come before the Transition holding the write: the
    # client then drops the optimistic update as it applies the new result
    both = [
        e["messages"]
        for e in chat_page["events"]
        if {"~from the page", "from the page"} <= set(e.get("messages", []))
    ]
    assert both == []


def test_use_action_runs_an_action(chat_page: dict):
    assert chat_page["action"] == "2 messages in general"


def test_use_paginated_query_keeps_its_pages_whole_while_another_client_inserts(
    react_page: str, chat: str
):
    got = browse(react_page, chat, "pages", "paged")
    assert got["first page"] == ["m5", "m4"]
    assert got["two pages"] == ["m5", "m4", "m3", "m2"]
    # m6 lands on the first page, which grows: its end stays at m4 (the query journal)
    assert got["after an insert"] == ["m6", "m5", "m4", "m3", "m2"]
    assert got["exhausted"] == ["m6", "m5", "m4", "m3", "m2", "m1"]
