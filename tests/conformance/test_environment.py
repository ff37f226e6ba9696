"""Environment variables on every engine (tests/engines.py): kept in the deployment's data,
read by calls of every kind, a change seen by the queries that read the variable (and by
no others), refused changes leaving nothing behind."""

from collections.abc import Iterator

import pytest

import effects
from confect import Backend, DatabaseWriter, action, mutation, query
from confect.app.registry import App, load_app
from confect.engine.interface import Engine
from confect.engine.sql.postgres import PostgresEngine
from confect.engine.sql.sqlite import SqliteEngine
from confect.model.errors import EnvironmentVariableError, EnvVarProblem, WriteConflict
from confect.runtime import environment
from confect.runtime.deployment import Deployment
from confect.runtime.environment import EnvVarChange
from effects import Config, Redacted
from effects.exit import Failure
from tests.engines import engine_fixture

engine = engine_fixture("memory", "sqlite", "postgres")
APP = load_app("tests.confect.env_app")


@pytest.fixture
def backend(engine: Engine) -> Iterator[Deployment]:
    deployment = Backend(APP, engine)
    yield deployment
    deployment.close()


def run_query(backend: Deployment, path: str):
    return effects.run_sync(backend.query(path, {}))


def test_set_variables_are_read_by_every_kind_of_call(backend: Deployment):
    backend.update_environment_variables(
        [EnvVarChange("GREETING", "hello"), EnvVarChange("DB_HOST", "db.internal")]
    )
    assert run_query(backend, "settings:greeting").value == "hello"
    assert run_query(backend, "settings:database_host").value == "db.internal"
    assert effects.run_sync(backend.action("settings:greeting_in_action", {})) == "hello"
    effects.run_sync(backend.mutation("settings:record_later", {}))
    effects.run_sync(backend.run_due_jobs())
    assert run_query(backend, "settings:seen").value == ["hello"]
    assert backend.environment_variables() == {"DB_HOST": "db.internal", "GREETING": "hello"}


def test_set_replaces_and_unset_removes(backend: Deployment):
    backend.update_environment_variables([EnvVarChange("GREETING", "one")])
    backend.update_environment_variables([EnvVarChange("GREETING", "two")])
    assert backend.environment_variables() == {"GREETING": "two"}
    assert run_query(backend, "settings:greeting").value == "two"
    backend.update_environment_variables([EnvVarChange("GREETING"), EnvVarChange("NEVER_SET")])
    assert backend.environment_variables() == {}
    assert run_query(backend, "settings:greeting").value == "unset"


def test_a_change_invalidates_the_queries_that_read_that_variable_only(backend: Deployment):
    backend.update_environment_variables([EnvVarChange("GREETING", "one")])
    read_greeting = run_query(backend, "settings:greeting")
    read_other = run_query(backend, "settings:other")
    backend.update_environment_variables([EnvVarChange("OTHER", "x")])
    assert not backend.invalidated_since(read_greeting.reads, read_greeting.ts)
    assert backend.invalidated_since(read_other.reads, read_other.ts)
    backend.update_environment_variables([EnvVarChange("GREETING", "two")])
    assert backend.invalidated_since(read_greeting.reads, read_greeting.ts)


def test_a_transaction_that_read_a_variable_conflicts_with_its_change(backend: Deployment):
    tx = backend.new_transaction()
    assert environment.get(tx, "GREETING") is None
    backend.update_environment_variables([EnvVarChange("GREETING", "meanwhile")])
    tx.insert("seen", {"greeting": "stale"})
    with pytest.raises(WriteConflict):
        tx.commit()
    backend.finish(tx)


def test_a_refused_update_changes_nothing(backend: Deployment):
    backend.update_environment_variables([EnvVarChange("GREETING", "kept")])
    with pytest.raises(EnvironmentVariableError) as refused:
        backend.update_environment_variables(
            [EnvVarChange("GREETING", "lost"), EnvVarChange("2BAD", "x")]
        )
    assert refused.value.problem is EnvVarProblem.NAME_INVALID and refused.value.name == "2BAD"
    assert backend.environment_variables() == {"GREETING": "kept"}


def test_variables_outlive_the_process(engine: Engine):
    """Kept in the data: another engine opened on it later (after this one closed, for
    SQLite, which one process holds) finds them."""
    if not isinstance(engine, SqliteEngine | PostgresEngine):
        pytest.skip("the memory engine keeps nothing past its object")
    first = Backend(APP, engine)
    first.update_environment_variables([EnvVarChange("GREETING", "durable")])
    first.close()
    if isinstance(engine, SqliteEngine):
        engine.close()
        again: Engine = SqliteEngine(engine.directory)
    else:
        again = PostgresEngine(engine.url, engine.schema)
    try:
        reopened = Backend(APP, again)
        assert reopened.environment_variables() == {"GREETING": "durable"}
        assert run_query(reopened, "settings:greeting").value == "durable"
        reopened.close()
    finally:
        again.close()


def test_mutations_and_actions_defined_inline_read_them_too(engine: Engine):
    @mutation()
    def remember():
        db = yield from DatabaseWriter
        token = yield from Config.redacted("TOKEN")
        yield from db.table("seen").insert({"greeting": Redacted.value(token)})
        return repr(token)

    @action()
    def port():
        return (yield from Config.integer("PORT"))

    @query()
    def missing():
        return (yield from Config.string("MISSING"))

    app = App({"m:remember": remember, "m:port": port, "m:missing": missing}, APP.schema)
    deployment = Backend(app, engine)
    deployment.update_environment_variables(
        [EnvVarChange("TOKEN", "s3cret"), EnvVarChange("PORT", "80")]
    )
    shown = effects.run_sync(deployment.mutation("m:remember", {})).value
    assert "s3cret" not in shown
    assert effects.run_sync(deployment.action("m:port", {})) == 80
    failed = effects.run_sync_exit(deployment.query("m:missing", {}))
    assert isinstance(failed, Failure)
    assert (
        "Expected MISSING to exist in the deployment's environment variables"
        in failed.cause.pretty()
    )
    deployment.close()
