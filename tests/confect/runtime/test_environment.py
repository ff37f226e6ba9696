"""A deployment's environment variables through `ConfectTest`: what handlers read with
`effects.Config`, the system variables, and Convex's rules for names and values."""

import pytest

from confect.model.errors import EnvironmentVariableError, EnvVarProblem
from confect.runtime import environment
from confect.testing import SITE_URL, ConfectTest
from effects import ConfigError

APP = "tests.confect.env_app"


def test_env_given_to_the_test_and_set_later_reach_every_kind_of_function():
    t = ConfectTest(APP, env={"GREETING": "hello"})
    assert t.query("settings:greeting") == "hello"
    assert t.action("settings:greeting_in_action") == "hello"
    assert t.fetch("/greeting").text() == "hello"
    t.set_env("GREETING", "changed")
    t.mutation("settings:record_later")
    t.finish_scheduled_functions()
    assert t.query("settings:seen") == ["changed"]
    assert t.query("settings:greeting") == "changed"
    t.set_env("GREETING", None)
    assert t.query("settings:greeting") == "unset"


def test_config_paths_join_with_underscores_as_in_the_process_environment():
    t = ConfectTest(APP, env={"DB_HOST": "db.internal", "PORT": "5432"})
    assert t.query("settings:database_host") == "db.internal"
    assert t.query("settings:port") == 5432


def test_a_missing_or_malformed_variable_is_a_config_error_naming_it():
    t = ConfectTest(APP)
    with pytest.raises(ConfigError) as missing:
        t.query("settings:port")
    assert missing.value.issues[0].key == "PORT"
    assert "the deployment's environment variables" in missing.value.issues[0].message
    t.set_env("PORT", "eighty")
    with pytest.raises(ConfigError) as malformed:
        t.query("settings:port")
    assert 'Expected an integer value but received "eighty"' in malformed.value.issues[0].message


def test_the_system_variables_are_the_deployments_urls_and_the_process_environment_is_not_read(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("HOME", "/home/someone")
    monkeypatch.setenv("GREETING", "from the process")
    t = ConfectTest(APP)
    assert t.query("settings:urls") == ["http://127.0.0.1:3210", SITE_URL]
    assert t.query("settings:home") == "not in the deployment"
    assert t.query("settings:greeting") == "unset"


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("9LIVES", "x", EnvVarProblem.NAME_INVALID),
        ("HAS-DASH", "x", EnvVarProblem.NAME_INVALID),
        ("", "x", EnvVarProblem.NAME_INVALID),
        ("TRAILING\n", "x", EnvVarProblem.NAME_INVALID),
        ("N" * 257, "x", EnvVarProblem.NAME_TOO_LONG),
        ("CONVEX_SITE_URL", "x", EnvVarProblem.NAME_FORBIDDEN),
        ("CONVEX_CLOUD_URL", "x", EnvVarProblem.NAME_FORBIDDEN),
        ("BIG", "é" * 4097, EnvVarProblem.VALUE_TOO_LARGE),  # 8194 bytes of UTF-8
    ],
)
def test_names_and_values_follow_convexs_rules(name: str, value: str, problem: EnvVarProblem):
    t = ConfectTest(APP)
    with pytest.raises(EnvironmentVariableError) as refused:
        t.set_env(name, value)
    assert refused.value.problem is problem
    assert refused.value.name == name
    assert t.backend.environment_variables() == {}


def test_the_limits_are_convexs_and_a_name_or_value_at_them_is_accepted():
    t = ConfectTest(APP)
    t.set_env("_" + "N" * 255, "v" * environment.MAX_VALUE_BYTES)
    assert t.backend.environment_variables()["_" + "N" * 255] == "v" * 8192


def test_at_most_512_variables():
    t = ConfectTest(APP, env={f"V{i}": "x" for i in range(environment.MAX_VARIABLES)})
    with pytest.raises(EnvironmentVariableError) as refused:
        t.set_env("ONE_MORE", "x")
    assert refused.value.problem is EnvVarProblem.LIMIT_MET
    t.set_env("V0", "replaced, not added")
    assert len(t.backend.environment_variables()) == 512


def test_at_most_512_kib_of_names_and_values():
    value = "x" * 8000
    t = ConfectTest(APP, env={f"V{i}": value for i in range(65)})  # 520,185 bytes of 524,288
    with pytest.raises(EnvironmentVariableError) as refused:
        t.set_env("V65", value)
    assert refused.value.problem is EnvVarProblem.TOTAL_SIZE_LIMIT_MET
    assert "V65" not in t.backend.environment_variables()
