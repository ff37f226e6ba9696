"""The admin endpoints of environment variables (Convex's `update_environment_variables`
and `list_environment_variables`) over HTTP, and the query cache under changes to them:
it never answers with a value computed from an old one."""

import httpx
import pytest

from confect import App, Backend, query
from confect.app.registry import load_app
from confect.runtime.environment import EnvVarChange
from confect.server.asgi import Server
from confect.server.calls import Caller
from confect.server.query_cache import query_key
from effects import Config
from tests.servers import served

ADMIN_KEY = "test-admin-key"
ADMIN = {"Authorization": f"Convex {ADMIN_KEY}"}
ENV_APP = load_app("tests.confect.env_app")
runs: list[str] = []


@query()
def greeting():
    runs.append("greeting")
    return (yield from Config.string("GREETING").with_default("unset"))


def env_server() -> Server:
    return Server(Backend(ENV_APP), admin_key=ADMIN_KEY)


@pytest.mark.parametrize("prefix", ["/api", "/api/v1"])
async def test_update_then_list_with_the_admin_key(prefix: str):
    server = env_server()
    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as client:
        changes = [{"name": "GREETING", "value": "hi"}, {"name": "OTHER", "value": "o"}]
        updated = await client.post(
            f"{prefix}/update_environment_variables", json={"changes": changes}, headers=ADMIN
        )
        assert updated.status_code == 200, updated.text
        unset = [{"name": "OTHER", "value": None}, {"name": "NEVER"}]
        updated = await client.post(
            f"{prefix}/update_environment_variables", json={"changes": unset}, headers=ADMIN
        )
        assert updated.status_code == 200, updated.text
        listed = await client.get(f"{prefix}/list_environment_variables", headers=ADMIN)
        called = await client.post("/api/query", json={"path": "settings:greeting", "args": {}})
    assert listed.status_code == 200
    assert listed.json() == {"environmentVariables": {"GREETING": "hi"}}
    assert called.json()["value"] == "hi"


async def test_without_the_admin_key_nothing_is_read_or_changed():
    server = env_server()
    server.backend.update_environment_variables([EnvVarChange("SECRET", "s")])
    body = {"changes": [{"name": "SECRET", "value": "stolen"}]}
    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as client:
        answers = [
            await client.get("/api/list_environment_variables"),
            await client.post("/api/update_environment_variables", json=body),
            await client.get(
                "/api/list_environment_variables", headers={"Authorization": "Convex wrong"}
            ),
        ]
    for answer in answers:
        assert answer.status_code == 401
        assert "s" not in answer.json().get("environmentVariables", {})
    assert server.backend.environment_variables() == {"SECRET": "s"}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ([{"name": "1X", "value": "v"}], "EnvironmentVariableNameInvalid"),
        ([{"name": "N" * 257, "value": "v"}], "EnvironmentVariableNameTooLong"),
        ([{"name": "CONVEX_CLOUD_URL", "value": "v"}], "EnvVarNameForbidden"),
        ([{"name": "BIG", "value": "v" * 8193}], "EnvironmentVariableValueTooLarge"),
        ([{"name": 5, "value": "v"}], "BadRequest"),
        ([{"value": "v"}], "BadRequest"),
        ({"name": "A"}, "BadRequest"),
    ],
)
async def test_a_refused_update_is_a_400_with_convexs_code_and_changes_nothing(changes, code):
    server = env_server()
    body = (
        {"changes": [{"name": "FIRST", "value": "ok"}, *changes]}
        if isinstance(changes, list)
        else {"changes": changes}
    )
    async with served(server) as address, httpx.AsyncClient(base_url=f"http://{address}") as client:
        answer = await client.post("/api/update_environment_variables", json=body, headers=ADMIN)
        not_json = await client.post(
            "/api/update_environment_variables", content=b"{nope", headers=ADMIN
        )
    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == code
    assert not_json.status_code == 400 and not_json.json()["code"] == "BadJsonBody"
    assert server.backend.environment_variables() == {}


async def test_the_query_cache_never_serves_a_value_read_from_an_old_variable():
    runs.clear()
    server = Server(Backend(App({"env:greeting": greeting}, ENV_APP.schema)))
    call = server.functions.call
    assert (await call("env:greeting", {}, Caller())).value == "unset"
    assert (await call("env:greeting", {}, Caller())).value == "unset"
    assert runs == ["greeting"]  # the second was the cache's
    server.backend.update_environment_variables([EnvVarChange("OTHER", "x")])
    assert (await call("env:greeting", {}, Caller())).value == "unset"
    assert runs == ["greeting"]  # a variable it did not read: still the cache's
    server.backend.update_environment_variables([EnvVarChange("GREETING", "new")])
    assert server.functions.cache.get(query_key("env:greeting", {}, Caller())) is None
    assert (await call("env:greeting", {}, Caller())).value == "new"
    server.backend.update_environment_variables([EnvVarChange("GREETING")])
    assert (await call("env:greeting", {}, Caller())).value == "unset"
    assert runs == ["greeting"] * 3
