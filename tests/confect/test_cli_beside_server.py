"""The data commands beside a running server: `confect run`, `data`, `export` and `import`
work on the deployment the server holds (found through the URL it records in the app's
`.confect/`), its subscribers see their writes; a record left by a killed server does not
get in the way; `--url` and `--admin-key` reach a deployment elsewhere."""

import contextlib
import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from confect.cli import cli
from confect.cli._deployment import SERVER_RECORD, ServerRecord
from confect.engine.sql.sqlite import SqliteEngine
from tests.servers import NOTES, ROOT, ServeProcess, confect_serve, copy_app, listening_socket

WAIT_SECONDS = 30.0  # the most a subscriber's next update is waited for (a bound, not a measure)
ENV_APP = ROOT / "tests" / "confect" / "env_app"
NO_SITE = ("--site-port", "0")  # not Convex's 3211: tests run side by side
DIGEST = '{"author": "a", "summary": "s", "count": 1}'


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return copy_app(NOTES, tmp_path, "notes_beside")


def invoke(*args: object, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def query(serving: ServeProcess, path: str, args: dict[str, Any]) -> Any:
    body = json.dumps({"path": path, "args": args}).encode()
    request = urllib.request.Request(
        f"{serving.url}/api/query", body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["value"]


def wait_for_record(
    app: Path,
    serving: ServeProcess,
    answered: tuple[str, dict[str, Any]] = ("notes:digests", {"author": "nobody"}),
) -> ServerRecord:
    """The server's record, once it listens (the query `answered` answered means it does)."""
    query(serving, *answered)
    record = ServerRecord.read(app / ".confect")
    assert record is not None
    return record


class Subscriber:
    """The official Python client subscribed to a query in a child process (tests/subscriber.py),
    its results read in a thread of this one."""

    def __init__(self, url: str, path: str, args: dict[str, Any]) -> None:
        self.updates: queue.Queue[Any] = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.subscriber", url, path, json.dumps(args)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        output = self.process.stdout
        assert output is not None

        def read() -> None:
            for line in output:
                self.updates.put(json.loads(line))

        threading.Thread(target=read, daemon=True).start()

    def next(self) -> Any:
        """The next result (waited for, up to a bound)."""
        return self.updates.get(timeout=WAIT_SECONDS)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


@contextlib.contextmanager
def subscribed(url: str, path: str, args: dict[str, Any]) -> Iterator[Subscriber]:
    subscriber = Subscriber(url, path, args)
    try:
        yield subscriber
    finally:
        subscriber.close()


@pytest.fixture
def dev(app: Path) -> Iterator[ServeProcess]:
    with confect_serve(app, *NO_SITE, command="dev") as serving:
        yield serving
    assert not (app / ".confect" / SERVER_RECORD).exists()  # removed as it shut down


def test_dev_records_where_it_listens(app: Path, dev: ServeProcess):
    record = wait_for_record(app, dev)
    assert record.url == dev.url and record.pid == dev.process.pid


def test_run_calls_the_running_server_and_its_subscribers_see_the_write(
    app: Path, dev: ServeProcess
):
    wait_for_record(app, dev)
    with subscribed(dev.url, "notes:digests", {"author": "a"}) as watcher:
        assert watcher.next() == []
        saved = invoke("run", app, "notes:save_digest", DIGEST)  # internal: with the admin key
        assert saved.exit_code == 0, saved.output
        assert watcher.next() == ["s"]
    listed = invoke("run", app, "notes:digests", '{"author": "a"}')
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output) == ["s"]
    assert query(dev, "notes:digests", {"author": "a"}) == ["s"]


def test_run_reports_a_failure_and_an_unknown_function_from_the_server(
    app: Path, dev: ServeProcess
):
    wait_for_record(app, dev)
    failing = invoke("run", app, "notes:add", '{"text": "x"}')
    assert failing.exit_code == 1 and "NoUserIdentityFoundError" in failing.output
    unknown = invoke("run", app, "notes:nope")
    assert unknown.exit_code == 2 and "notes:nope" in unknown.output
    assert "Traceback" not in failing.output + unknown.output


def test_data_lists_the_running_servers_tables_and_documents(app: Path, dev: ServeProcess):
    wait_for_record(app, dev)
    assert invoke("run", app, "notes:save_digest", DIGEST).exit_code == 0
    tables = invoke("data", app)
    assert tables.exit_code == 0, tables.output
    assert re.search(r"\bdigests\b\W+1\b", tables.output), tables.output
    documents = invoke("data", app, "digests", "--limit", "5")
    assert documents.exit_code == 0, documents.output
    assert '"summary": "s"' in documents.output
    unknown = invoke("data", app, "nope")
    assert unknown.exit_code == 2 and "no table 'nope'" in unknown.output


@pytest.mark.parametrize("format_", ["confect", "convex"])
def test_export_from_one_running_server_and_import_into_another(
    app: Path, tmp_path: Path, dev: ServeProcess, format_: str
):
    wait_for_record(app, dev)
    assert invoke("run", app, "notes:save_digest", DIGEST).exit_code == 0
    snapshot = tmp_path / ("snap.zip" if format_ == "convex" else "snap")
    exported = invoke("export", app, snapshot, "--format", format_)
    assert exported.exit_code == 0, exported.output
    assert "exported 1 documents" in exported.output
    assert snapshot.is_file() if format_ == "convex" else (snapshot / "tables.json").is_file()
    other = copy_app(NOTES, tmp_path, "notes_other")
    with confect_serve(other, *NO_SITE, command="dev") as receiving:
        wait_for_record(other, receiving)
        with subscribed(receiving.url, "notes:digests", {"author": "a"}) as watcher:
            assert watcher.next() == []
            imported = invoke("import", other, snapshot)
            assert imported.exit_code == 0, imported.output
            assert "imported 1 documents" in imported.output
            assert watcher.next() == ["s"]  # the subscriber hears of the import
        again = invoke("import", other, snapshot)
        assert again.exit_code == 1 and "not empty" in again.output


def test_a_record_left_by_a_killed_server_is_stale_and_removed(app: Path):
    with confect_serve(app) as serving:
        record = wait_for_record(app, serving)
        os.kill(serving.process.pid, signal.SIGKILL)
        serving.process.wait()
    assert ServerRecord.read(app / ".confect") == record  # it could not remove it
    saved = invoke("run", app, "notes:save_digest", DIGEST)  # the data, opened directly
    assert saved.exit_code == 0, saved.output
    assert not (app / ".confect" / SERVER_RECORD).exists()
    assert json.loads(invoke("run", app, "notes:digests", '{"author": "a"}').output) == ["s"]


def test_data_held_by_a_process_that_is_no_server_is_a_clear_error(app: Path):
    engine = SqliteEngine(app / ".confect")
    try:
        held = invoke("data", app)
    finally:
        engine.close()
    assert held.exit_code == 1
    assert "in use by another process, which is not a confect server" in held.output


def test_url_and_admin_key_reach_a_deployment_elsewhere(
    app: Path, tmp_path: Path, dev: ServeProcess
):
    wait_for_record(app, dev)
    key = (app / ".confect" / "admin_key").read_text().strip()
    elsewhere = tmp_path / "elsewhere"  # a directory that is no app: it is not loaded
    elsewhere.mkdir()
    saved = invoke(
        "run", elsewhere, "notes:save_digest", DIGEST, "--url", dev.url, "--admin-key", key
    )
    assert saved.exit_code == 0, saved.output
    from_env = invoke(
        "data", elsewhere, "digests", env={"CONFECT_URL": dev.url, "CONFECT_ADMIN_KEY": key}
    )
    assert from_env.exit_code == 0 and '"summary": "s"' in from_env.output
    wrong = invoke("data", elsewhere, "--url", dev.url, "--admin-key", "not-the-key")
    assert wrong.exit_code == 1
    assert f"the deployment at {dev.url} refused the admin key" in wrong.output
    no_key = invoke("data", elsewhere, "--url", dev.url)
    assert no_key.exit_code == 2 and "--admin-key" in no_key.output
    assert "Traceback" not in wrong.output + no_key.output


def test_a_url_nothing_answers_at_is_a_clear_error(app: Path):
    closed = listening_socket()
    url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()  # nothing listens there now
    result = invoke("data", app, "--url", url, "--admin-key", "k")
    assert result.exit_code == 1 and f"cannot reach the deployment at {url}" in result.output


def test_env_sets_and_lists_the_running_servers_variables(tmp_path: Path):
    app = copy_app(ENV_APP, tmp_path, "env_beside")
    with confect_serve(app, *NO_SITE, command="dev") as serving:
        wait_for_record(app, serving, ("settings:greeting", {}))
        with subscribed(serving.url, "settings:greeting", {}) as watcher:
            assert watcher.next() == "unset"
            set_ = invoke("env", "set", app, "GREETING", "hello")
            assert set_.exit_code == 0, set_.output
            assert watcher.next() == "hello"  # the server's subscriber sees it
        assert invoke("env", "list", app).output == "GREETING=hello\n"
        assert invoke("env", "get", app, "GREETING").output == "hello\n"
        bad = invoke("env", "set", app, "9LIVES", "x")
        assert bad.exit_code == 1 and "is invalid" in bad.output, bad.output
        assert invoke("env", "unset", app, "GREETING").exit_code == 0
        assert invoke("env", "list", app).output == "No environment variables set\n"


@pytest.mark.parametrize(
    "url", ["http://confect-attacker.invalid:9", "http://192.0.2.1:9", "https://127.0.0.1:9"]
)
def test_the_admin_key_is_not_sent_where_a_record_names_another_machine(app: Path, url: str):
    """Anyone who can write the record could name their own host to have the CLI send it
    the admin key: only a loopback http URL, as a server here records, is trusted."""
    engine = SqliteEngine(app / ".confect")
    try:
        ServerRecord(url, os.getpid()).write(app / ".confect")
        held = invoke("data", app)
    finally:
        engine.close()
    assert held.exit_code == 1
    assert "not on this machine: the admin key is not sent there" in " ".join(held.output.split())
