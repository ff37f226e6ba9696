"""The dashboard in headless Chromium against `confect dev`: signing in by the link it
prints, browsing and editing a table while an official Python client is
subscribed (it receives the edit), running a function and seeing its log line live in the
logs, canceling a scheduled job (js/dashboard.mjs drives the page)."""

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.servers import ROOT, confect_serve

from .conftest import ADMIN_KEY, Live, notes_app, run_driver

JS = ROOT / "tests" / "integration" / "js"
CHROMIUM = Path("/usr/bin/chromium")
EDITED = "edited in the dashboard"


def add_note(live: Live, author: str, text: str) -> None:
    answer = httpx.post(
        f"{live.url}/api/mutation",
        json={"path": "notes:add", "args": {"text": text}},
        headers={"authorization": f"Bearer {live.token(author)}"},
    )
    assert answer.json()["status"] == "success", answer.text


@pytest.fixture(scope="module")
def visit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict, list[dict]]]:
    """One visit of the dashboard: what each step showed, and what the subscribed client
    reported meanwhile."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install chromium` (.ci/run does)")
    app, key = notes_app(tmp_path_factory.mktemp("dashboard"))
    env = {"PYTHONUNBUFFERED": "1"}
    with confect_serve(app, "--site-port", "0", command="dev", env=env) as served:
        assert served.process.stdout is not None
        link = printed_link(served.process.stdout)
        live = Live(served.url, app, key)
        add_note(live, "bob", "bob's note")
        add_note(live, "ann", "watched note")
        watcher = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.python_client",
                live.url,
                "watch_note",
                f"ann:{EDITED}",
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            subscribed = json.loads(watcher.stdout.readline())  # its first result came
            command = ["node", str(JS / "dashboard.mjs"), link, live.token("ann")]
            steps = run_driver(command, timeout=180)
            rest = watcher.communicate(timeout=60)[0]
        finally:
            watcher.kill()
        heard = [subscribed] + [json.loads(line) for line in rest.splitlines() if line]
        yield {step["step"]: step["value"] for step in steps}, heard


def printed_link(output: IO[str]) -> str:
    """The dashboard link `confect dev` prints as it starts (no line: the output ends when
    the test's teardown stops the server)."""
    for line in output:
        if line.startswith("dashboard: "):
            return line.removeprefix("dashboard: ").strip()
    raise AssertionError("confect dev printed no dashboard link")


def test_confect_dev_prints_a_link_that_signs_in_with_the_key_in_the_fragment(visit):
    shown, _ = visit
    link = shown["link"]
    assert link.startswith("http://127.0.0.1:") and "/_dashboard#key=" in link
    assert link.endswith(ADMIN_KEY)


def test_the_link_signs_in_and_leaves_no_key_in_the_address(visit):
    shown, _ = visit
    assert shown["address"].endswith("/_dashboard#/data")
    assert ADMIN_KEY not in shown["address"]


def test_a_table_is_browsed_newest_first_and_updates_live(visit):
    shown, _ = visit
    assert shown["texts"] == ["watched note", "bob's note"]
    assert shown["after another client"] == ["from another client", "watched note", "bob's note"]


def test_an_edit_in_the_dashboard_reaches_a_subscribed_official_client(visit):
    shown, heard = visit
    assert shown["document"] == "watched note"
    assert EDITED in shown["after edit"]
    assert heard[0] == {"step": "initial", "value": ["watched note"]}
    assert heard[-1]["step"] == "seen" and EDITED in heard[-1]["value"]


def test_a_document_the_schema_refuses_shows_why(visit):
    shown, _ = visit
    assert "author" in shown["refused insert"]


def test_documents_are_filtered_by_an_index_range(visit):
    shown, _ = visit
    assert shown["by author bob"] == ["bob"]
    assert shown["authors after ann"] == ["bob"]


def test_the_schema_of_a_table_shows_its_document_type_and_indexes(visit):
    shown, _ = visit
    schema = shown["schema"]
    assert (
        schema["document"]
        == "{ author: string; text: string; tags: Array<string>; pinned: boolean }"
    )
    assert "by_author author, _creationTime" in schema["indexes"]
    assert "by_tag_count author, pinned, _creationTime" in schema["indexes"]


def test_a_function_runs_with_its_result_and_log_line(visit):
    shown, _ = visit
    assert shown["greet"]["value"] == '"hi"'
    assert "[LOG] hello" in shown["greet"]["logs"]
    assert "j" in shown["added as carol"] and "ok" in shown["added as carol"]


def test_a_long_function_path_leaves_its_kind_badge_showing(visit):
    shown, _ = visit
    assert shown["badges cut off"] == []


def test_the_logs_show_calls_live_with_their_log_lines_and_filter_by_outcome(visit):
    shown, _ = visit
    calls = shown["log"]
    assert len(calls) >= 2 and all("values:greet" in call for call in calls)
    assert any("[LOG] hello" in call for call in calls)
    assert shown["failed greets"] == 0


def test_a_pending_scheduled_function_is_canceled(visit):
    shown, _ = visit
    assert "digest:make_digest" in shown["pending"] and "pending" in shown["pending"]
    assert "canceled" in shown["canceled"]


def test_a_file_is_uploaded_listed_downloaded_and_deleted(visit):
    shown, _ = visit
    file = shown["file"]
    assert file["cells"][1:3] == ["5 B", "text/plain"]
    assert file["sha256"] == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    assert file["downloaded"] == "hello"
    assert shown["files after delete"] == "No files stored."


def test_the_deployment_page_reveals_the_key_sets_a_variable_and_a_wrong_key_is_refused(visit):
    shown, _ = visit
    assert shown["deployment"] == {"engine": "SQLite", "key": ADMIN_KEY}
    assert shown["variable"] == "hello"
    assert shown["variables after remove"] == 0
    assert "admin key" in shown["wrong key"]


def test_confect_serve_prints_the_dashboard_link_without_the_key(tmp_path: Path):
    app, _ = notes_app(tmp_path)
    with confect_serve(app, env={"PYTHONUNBUFFERED": "1"}) as served:
        assert httpx.get(f"{served.url}/").status_code == 200  # it serves
    assert f"dashboard: {served.url}/_dashboard\n" in served.output
    assert ADMIN_KEY not in served.output
