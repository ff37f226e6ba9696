"""Environment variables on live `confect serve` processes, watched by the official PyPI
`convex` client: a subscription to a query reading a variable gets the new value when it
changes, through the admin endpoint (SQLite) or `confect env set` on a PostgreSQL
deployment, where every server process sharing it sees the change."""

import json
import sys
from pathlib import Path

from tests.postgres import URL, postgres_schema
from tests.servers import CONFECT, ROOT, confect_serve, copy_app

from .conftest import ADMIN_KEY, run_driver

ENV_APP = ROOT / "tests" / "confect" / "env_app"


def env_app(directory: Path) -> Path:
    app = copy_app(ENV_APP, directory, "env_app_live")
    (app / ".confect").mkdir()
    (app / ".confect" / "admin_key").write_text(ADMIN_KEY)
    return app


def watch_a_change(urls: list[str], how: dict) -> dict:
    command = [sys.executable, "-m", "tests.integration.env_client", ",".join(urls)]
    lines = run_driver([*command, json.dumps(how)])
    return {line["step"]: line["value"] for line in lines}


def test_a_subscription_gets_the_new_value_set_through_the_admin_endpoint(tmp_path: Path):
    app = env_app(tmp_path)
    with confect_serve(app) as server:
        body = {"changes": [{"name": "GREETING", "value": "set over HTTP"}]}
        how = {
            "post": f"{server.url}/api/update_environment_variables",
            "admin_key": ADMIN_KEY,
            "body": body,
        }
        seen = watch_a_change([server.url], how)
    assert seen == {"before": ["unset"], "posted": 200, "after": ["set over HTTP"]}


def test_confect_env_set_reaches_the_subscriptions_of_every_postgresql_server(tmp_path: Path):
    app = env_app(tmp_path)
    with postgres_schema() as schema:
        engine = f"{URL}?schema={schema}"
        with (
            confect_serve(app, "--engine", engine) as first,
            confect_serve(app, "--engine", engine) as second,
        ):
            command = [*CONFECT, "env", "set", str(app), "GREETING", "set by the CLI"]
            how = {"command": [*command, "--engine", engine]}
            seen = watch_a_change([first.url, second.url], how)
    assert seen["command"]["status"] == 0, seen["command"]["output"]
    assert seen["before"] == ["unset", "unset"]
    assert seen["after"] == ["set by the CLI", "set by the CLI"]
