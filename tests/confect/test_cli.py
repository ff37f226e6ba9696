"""The command line: run, data, export and import on an app directory."""

import contextlib
import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from confect.cli import cli
from tests.servers import (
    NOTES,
    ROOT,
    STOP_SECONDS,
    confect_serve,
    copy_app,
    listening_socket,
    serve_command,
)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    return copy_app(NOTES, tmp_path, "notes_copy")


def invoke(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_run_calls_functions_and_prints_json(app: Path):
    saved = invoke("run", app, "notes:save_digest", '{"author": "a", "summary": "s", "count": 1}')
    assert saved.exit_code == 0, saved.output
    listed = invoke("run", app, "notes:digests", '{"author": "a"}')
    assert json.loads(listed.output) == ["s"]
    assert (app / ".confect" / "data.sqlite3").exists()


def test_bad_input_gets_a_message_not_a_traceback(app: Path):
    unknown = invoke("run", app, "notes:nope")
    assert unknown.exit_code == 2 and "no function 'notes:nope'" in unknown.output
    bad_json = invoke("run", app, "notes:digests", "{bad")
    assert bad_json.exit_code == 2 and "not valid JSON" in bad_json.output
    failing = invoke("run", app, "notes:add", '{"text": "x"}')
    assert failing.exit_code == 1 and "NoUserIdentityFoundError" in failing.output
    assert "Traceback" not in unknown.output + bad_json.output


def test_an_app_that_raises_as_it_is_imported_is_named_with_the_line_not_a_traceback(
    tmp_path: Path,
):
    app = copy_app(NOTES, tmp_path, "notes_raising")
    schema = app / "schema.py"
    schema.write_text(schema.read_text() + '\nraise ValueError("a typo in the schema")\n')
    failed = invoke("data", app)
    assert failed.exit_code == 1, failed.output
    assert "the app notes_raising failed to import: ValueError: a typo in the schema" in (
        failed.output
    )
    assert re.search(r"at \S*schema.py:\d+ in <module>: raise ValueError", failed.output)
    assert "Traceback" not in failed.output
    schema.write_text("def broken(:\n")
    unparsed = invoke("run", app, "notes:digests")
    assert unparsed.exit_code == 1 and "SyntaxError: invalid syntax (schema.py, line 1)" in (
        unparsed.output
    )


def test_token_codegen_and_env_list_work_on_the_app_in_the_current_directory(
    app: Path, monkeypatch: pytest.MonkeyPatch
):
    """As `confect dev`, the commands whose only argument is the app take the current
    directory when it is not given (an app's README runs them from the app's directory)."""
    monkeypatch.chdir(app)
    token = invoke("token", "--subject", "alice")
    assert token.exit_code == 0, token.output
    assert token.output.count(".") == 2  # a JWT: header.claims.signature
    assert (app / ".confect").is_dir()  # the issuer's key, made in the app's data
    assert invoke("codegen", "--check").exit_code == 0
    assert invoke("env", "set", app, "GREETING=hi").exit_code == 0
    assert invoke("env", "list").output == "GREETING=hi\n"


def test_export_then_import_into_an_empty_copy(app: Path, tmp_path: Path):
    invoke("run", app, "notes:save_digest", '{"author": "a", "summary": "s", "count": 1}')
    exported = invoke("export", app, tmp_path / "snap")
    assert exported.exit_code == 0 and "exported 1 documents" in exported.output
    refused = invoke("import", app, tmp_path / "snap")
    assert refused.exit_code == 1 and "not empty" in refused.output
    shutil.rmtree(app / ".confect")
    imported = invoke("import", app, tmp_path / "snap")
    assert imported.exit_code == 0, imported.output
    assert json.loads(invoke("run", app, "notes:digests", '{"author": "a"}').output) == ["s"]
    tables = invoke("data", app)
    assert "digests" in tables.output and "1" in tables.output


def test_export_in_convex_format_then_import_the_zip(app: Path, tmp_path: Path):
    invoke("run", app, "notes:save_digest", '{"author": "a", "summary": "s", "count": 1}')
    exported = invoke("export", app, tmp_path / "snap.zip", "--format", "convex")
    assert exported.exit_code == 0 and "exported 1 documents" in exported.output
    shutil.rmtree(app / ".confect")
    imported = invoke("import", app, tmp_path / "snap.zip")
    assert imported.exit_code == 0, imported.output
    assert json.loads(invoke("run", app, "notes:digests", '{"author": "a"}').output) == ["s"]


def served_output(app: Path, *flags: str) -> str:
    """What `confect serve` prints while answering one query (twice: once from the cache)."""
    body = json.dumps({"path": "notes:digests", "args": {"author": "a"}}).encode()
    with confect_serve(app, *flags, env={"COLUMNS": "200"}) as serving:
        for _ in range(2):
            request = urllib.request.Request(
                f"{serving.url}/api/query", body, headers={"content-type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                assert json.loads(response.read())["value"] == []
    return serving.output


def test_serve_prints_each_call_only_when_asked(app: Path):
    quiet = served_output(app)
    assert "notes:digests" not in quiet
    loud = served_output(app, "--log-calls")
    assert re.search(r"query notes:digests ok [\d.]+ ms", loud), loud
    assert "query notes:digests ok (cached)" in loud, loud


LOUD_MODULE = """
import logging

import effects
from confect import query

@query()
def greet():
    print("hello")
    logging.getLogger("loud").warning("careful")
    return effects.succeed(1)

@query()
def broken():
    raise ValueError("it broke")
"""


def test_serve_prints_a_calls_log_lines_under_it_and_why_a_call_failed(app: Path):
    (app / "loud.py").write_text(LOUD_MODULE)
    with confect_serve(app, "--log-calls", env={"COLUMNS": "200"}) as serving:
        for path in ("loud:greet", "loud:broken"):
            body = json.dumps({"path": path, "args": {}}).encode()
            request = urllib.request.Request(
                f"{serving.url}/api/query", body, headers={"content-type": "application/json"}
            )
            with contextlib.suppress(urllib.error.HTTPError):  # the failed call's 560
                urllib.request.urlopen(request, timeout=30).close()
    out = serving.output
    under = r"query loud:greet ok [\d.]+ ms *\n +[\d:.]+ \[LOG\] 'hello' *\n +[\d:.]+ \[WARN\]"
    assert re.search(under, out), out
    assert out.count("careful") == 1  # under its call, not also as a record of its own
    failed = r"query loud:broken failed [\d.]+ ms: Server Error: Uncaught ValueError: it broke"
    assert re.search(failed, out), out
    assert re.search(r"at \S*loud.py:\d+ in broken: raise ValueError\(\"it broke\"\)", out), out


def test_serve_prints_a_call_whole_on_one_line_in_a_narrow_terminal(app: Path):
    """A call's line starts with its own time and is not cut into rich's message column
    (beside a second time and the level), where a failure's message wrapped mid-word; the
    banner names the app and keeps each path on its line."""
    (app / "loud.py").write_text(LOUD_MODULE)
    with confect_serve(app, "--log-calls", env={"COLUMNS": "80"}) as serving:
        body = json.dumps({"path": "loud:broken", "args": {}}).encode()
        request = urllib.request.Request(
            f"{serving.url}/api/query", body, headers={"content-type": "application/json"}
        )
        with contextlib.suppress(urllib.error.HTTPError):  # the failed call's 560
            urllib.request.urlopen(request, timeout=30).close()
    line = (
        r"^[\d:.]+ query loud:broken failed [\d.]+ ms: Server Error: Uncaught ValueError: it broke$"
    )
    assert re.search(line, serving.output, re.MULTILINE), serving.output
    assert re.search(r"^    at \S*loud.py:\d+ in broken: ", serving.output, re.MULTILINE)
    banner = r"^confect serving notes_copy at http://127\.0\.0\.1:\d+ \(data in \S+\)$"
    assert re.search(banner, serving.output, re.MULTILINE), serving.output


def test_serve_log_format_json_writes_one_call_event_a_line_on_stdout(app: Path):
    """`confect serve --log-format json`: stdout is one JSON object a line, each call as
    Convex's `function_execution` log event (status, time, cached, error message, the
    app's code line of a defect) with its log lines; the banner goes to stderr."""
    (app / "loud.py").write_text(LOUD_MODULE)
    listener = listening_socket()
    fd = listener.fileno()
    process = subprocess.Popen(
        serve_command(app, fd, "--log-format", "json"),
        pass_fds=[fd],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()
    try:
        for path in ("loud:greet", "loud:broken", "notes:digests", "notes:digests"):
            args = {"author": "a"} if path == "notes:digests" else {}
            body = json.dumps({"path": path, "args": args}).encode()
            request = urllib.request.Request(
                f"{url}/api/query", body, headers={"content-type": "application/json"}
            )
            with contextlib.suppress(urllib.error.HTTPError):  # the failed call's 560
                urllib.request.urlopen(request, timeout=30).close()
    finally:
        process.terminate()
        out, err = process.communicate(timeout=STOP_SECONDS)
    print(out, err)
    events = [json.loads(line) for line in out.splitlines()]  # every line is JSON
    calls = [e for e in events if e["topic"] == "function_execution"]
    greet, broken, first, cached = calls
    assert greet["function"] == {"type": "query", "path": "loud:greet", "cached": False}
    assert (greet["status"], greet["error_message"], greet["where"]) == ("success", None, None)
    assert isinstance(greet["execution_time_ms"], float) and greet["timestamp"] > 0
    assert [(line["log_level"], line["message"]) for line in greet["log_lines"]] == [
        ("LOG", "'hello'"),
        ("WARN", "'careful'"),
    ]
    assert broken["status"] == "failure"
    assert broken["error_message"] == "Server Error: Uncaught ValueError: it broke"
    assert re.search(r"loud.py:\d+ in broken: raise ValueError", broken["where"])
    assert (first["function"]["cached"], cached["function"]["cached"]) == (False, True)
    assert "confect serving" in err and "confect serving" not in out


def test_every_command_takes_the_engine_it_is_given(app: Path, tmp_path: Path):
    from tests.postgres import URL, postgres_engine

    engine = postgres_engine()  # skips when there is no PostgreSQL
    target = postgres_engine()
    postgres = f"{URL}?schema={engine.schema}"
    try:
        saved = invoke(
            "run",
            app,
            "notes:save_digest",
            '{"author": "a", "summary": "s", "count": 1}',
            "--engine",
            postgres,
        )
        assert saved.exit_code == 0, saved.output
        assert not (app / ".confect" / "data.sqlite3").exists()  # nothing went to SQLite
        listed = invoke("run", app, "notes:digests", '{"author": "a"}', "--engine", postgres)
        assert json.loads(listed.output) == ["s"]
        assert invoke("export", app, tmp_path / "snap", "--engine", postgres).exit_code == 0
        elsewhere = f"sqlite:{tmp_path / 'other'}"
        assert invoke("import", app, tmp_path / "snap", "--engine", elsewhere).exit_code == 0
        tables = invoke("data", app, "digests", "--engine", elsewhere)
        assert '"summary": "s"' in tables.output
        into_postgres = f"{URL}?schema={target.schema}"
        assert invoke("import", app, tmp_path / "snap", "--engine", into_postgres).exit_code == 0
        copied = invoke("run", app, "notes:digests", '{"author": "a"}', "--engine", into_postgres)
        assert json.loads(copied.output) == ["s"]
        unknown = invoke("data", app, "--engine", "mysql://db")
        assert unknown.exit_code == 2 and "unknown engine" in unknown.output
    finally:
        engine.drop()
        target.drop()


def test_serve_help_lists_the_settings_the_readme_points_to():
    result = CliRunner().invoke(cli, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--shutdown-grace", "--header-timeout", "--max-connections-per-address"):
        assert option in result.output


def test_help_lists_each_command_on_one_line_and_keeps_brackets():
    """`confect --help` lists each command by a one-line summary (rich markup mode kept a
    docstring's line breaks there), and option help keeps its brackets (rich markup ate
    `[otel]`)."""
    listing = CliRunner().invoke(cli, ["--help"], env={"COLUMNS": "200"}).output
    commands = [line for line in listing[listing.index("Commands") :].splitlines() if "│" in line]
    assert len(commands) == len(cli.registered_commands) + len(cli.registered_groups)
    dev = next(line for line in commands if line.startswith("│ dev "))
    assert "Serve the app for development, reloading it as its files change." in dev
    served = CliRunner().invoke(cli, ["dev", "--help"], env={"COLUMNS": "200"}).output
    assert "needs confect-py[otel]." in served


@pytest.mark.parametrize("command", ["serve", "dev"])
def test_the_http_routes_answer_at_their_own_paths_on_the_site_port(app: Path, command: str):
    site = listening_socket()
    site_url = f"http://127.0.0.1:{site.getsockname()[1]}"
    with confect_serve(
        app, "--site-fd", str(site.fileno()), pass_fds=[site.fileno()], command=command
    ) as serving:
        site.close()  # the process has its own
        with urllib.request.urlopen(f"{site_url}/count?author=a", timeout=30) as response:
            assert json.loads(response.read()) == {"author": "a", "count": 0}
        with urllib.request.urlopen(f"{serving.url}/http/count?author=a", timeout=30) as response:
            assert json.loads(response.read()) == {"author": "a", "count": 0}  # the prefix stays
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{site_url}/http/count", timeout=30)
        assert missing.value.code == 404
    assert f"HTTP routes at {site_url}" in serving.output


def test_dev_serves_the_site_on_convexs_port_and_serve_only_when_asked():
    for command, default in (("dev", "3211"), ("serve", "0")):
        result = CliRunner().invoke(cli, [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0
        site_port = result.output[result.output.index("--site-port") :]
        assert f"[default: {default}]" in site_port[: site_port.index("--", 2)]
