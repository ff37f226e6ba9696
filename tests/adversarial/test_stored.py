"""The engines' document decoder: every value is stored and read back as itself, on SQLite
and on PostgreSQL; and whatever a stored document's body has become (corrupted on disk,
written by an older version), the deployment opens, reports the document (its table and
id), and serves the rest, in this process and as `confect serve`."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from confect import Backend, load_app
from confect.engine.interface import Engine
from confect.engine.sql.postgres import PostgresEngine
from confect.engine.sql.sqlite import SqliteEngine
from confect.model.values import Value, from_wire, to_wire
from confect.server.calls import Caller, ClientCalls, Outcome
from tests.postgres import URL, postgres_engine
from tests.servers import listening_socket

from . import wire_app
from .checks import same_value
from .servers import Served, copy_app
from .strategies import bad_specials, examples, values

ENGINES = ("sqlite", "postgres")
APP = load_app(wire_app)


class Deployment:
    """The data of one deployment of the wire app, opened as often as a test likes, and
    reachable behind the engine's back (to corrupt a stored body)."""

    def __init__(self, kind: str, root: Path) -> None:
        self.kind = kind
        self.directory = root / uuid.uuid4().hex  # SQLite
        self.schema = f"confect_test_{uuid.uuid4().hex[:12]}"  # PostgreSQL
        if kind == "postgres":
            postgres_engine(self.schema).close()  # skips when there is no PostgreSQL

    def engine(self) -> Engine:
        if self.kind == "sqlite":
            return SqliteEngine(self.directory)
        return PostgresEngine(URL, self.schema)

    def engine_url(self) -> str:
        """What `confect serve --engine` takes."""
        if self.kind == "sqlite":
            return f"sqlite:{self.directory}"
        return f"{URL}?schema={self.schema}"

    def set_body(self, id_: str, body: str | bytes) -> None:
        """Overwrite the stored body of document `id_` (bytes: as text that is no UTF-8)."""
        if self.kind == "sqlite":
            with contextlib.closing(sqlite3.connect(self.directory / "data.sqlite3")) as db:
                update = "UPDATE documents SET body = CAST(? AS TEXT) WHERE id = ?"
                assert db.execute(update, (body, id_)).rowcount == 1
                db.commit()
            return
        assert isinstance(body, str)
        with psycopg.connect(URL, autocommit=True) as db:
            db.execute(f'SET search_path TO "{self.schema}"')
            assert (
                db.execute("UPDATE documents SET body = %s WHERE id = %s", (body, id_)).rowcount
                == 1
            )

    def drop(self) -> None:
        if self.kind == "postgres":
            postgres_engine(self.schema).drop()


@pytest.fixture(params=ENGINES)
def deployments(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], Deployment]]:
    """Makes deployments on the engine of the test's parameter (dropped at its end)."""
    made: list[Deployment] = []

    def make() -> Deployment:
        made.append(Deployment(request.param, tmp_path_factory.mktemp("stored")))
        return made[-1]

    yield make
    for deployment in made:
        deployment.drop()


@pytest.fixture
def deployment(deployments: Callable[[], Deployment]) -> Deployment:
    """One deployment for all of a test's examples."""
    return deployments()


@contextlib.contextmanager
def opened(deployment: Deployment) -> Iterator[ClientCalls]:
    """The deployment opened, its functions ready to call as a server calls them."""
    engine = deployment.engine()
    try:
        backend = Backend(APP, engine)
        yield ClientCalls(backend)
        backend.close()
    finally:
        engine.close()


def call(functions: ClientCalls, path: str, args: dict[str, Any]) -> Outcome:
    return asyncio.run(functions.call(path, to_wire(args), Caller()))


def value_of(outcome: Outcome) -> Value:
    assert outcome.success, outcome.error_message
    return from_wire(outcome.value)


@examples(30)
@given(st.lists(values(), min_size=1, max_size=4))
def test_every_value_is_stored_and_read_back_as_itself(deployment, stored):
    with opened(deployment) as functions:
        ids = [
            value_of(call(functions, "wire:store", {"table": "values", "value": v})) for v in stored
        ]
    with opened(deployment) as functions:  # decoded from the engine's storage as it opens
        for id_, value in zip(ids, stored, strict=True):
            assert same_value(
                value_of(call(functions, "wire:load", {"table": "values", "id": id_})), value
            )
        listed = value_of(call(functions, "wire:values_of", {"table": "values"}))
        assert isinstance(listed, list)
        assert all(map(same_value, listed[-len(stored) :], stored))


def _document(fields: str) -> str:
    return '{"_id":"%s","_creationTime":1700000000000.5,' + fields + "}"


corrupt_bodies = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "5", "null", "[]", '"x"', "{", '{"value": 1}', '{"_id": 5, "value": 1}']),
    bad_specials.map(lambda special: _document(f'"value":{json.dumps(special)}')),
    st.sampled_from(["[" * 100_000, _document('"value":' + "[" * 100_000)]),
    st.just(_document('"value":NaN')),
)
"""What a stored body may have become: no JSON, JSON that is no document, a document with
a value no decoder takes (`%s` stands for the document's own id)."""


class Reports(logging.Handler):
    """Collects what anything logs while it is installed."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())

    @contextlib.contextmanager
    def installed(self) -> Iterator[Reports]:
        root = logging.getLogger()
        root.addHandler(self)
        try:
            yield self
        finally:
            root.removeHandler(self)


def stored_three(deployment: Deployment) -> tuple[str, str, str]:
    """The ids of three documents: "good" and "bad" in `values`, "other" in `others`."""
    with opened(deployment) as functions:
        good, bad, other = (
            str(value_of(call(functions, "wire:store", {"table": table, "value": value})))
            for table, value in (("values", "good"), ("values", "bad"), ("others", "other"))
        )
    return good, bad, other


def assert_served_and_reported(
    functions: ClientCalls, ids: tuple[str, str, str], reports: Reports
) -> None:
    """The documents beside the undecodable one are served; a read of its table gives
    the others or fails saying which document; unless the bad one was read as some value
    after all, something (a log line, the failure) named it."""
    good, bad, other = ids
    assert value_of(call(functions, "wire:load", {"table": "others", "id": other})) == "other"
    assert value_of(call(functions, "wire:load", {"table": "values", "id": good})) == "good"
    assert value_of(call(functions, "wire:values_of", {"table": "others"})) == ["other"]
    listed = call(functions, "wire:values_of", {"table": "values"})
    if listed.success:
        found = value_of(listed)
        assert isinstance(found, list) and "good" in found, found
        if len(found) == 2:
            return  # what the body held was read as a value
    said = [*reports.lines, listed.error_message]
    assert any(bad in line for line in said), f"nothing named the document {bad}: {said}"


@examples(15, shrink=False)  # each attempt to shrink is a deployment made anew
@given(corrupt_bodies)
def test_a_deployment_opens_and_serves_the_rest_whatever_a_stored_body_holds(deployments, body):
    deployment = deployments()
    if deployment.kind == "postgres" and "\x00" in body:
        return  # PostgreSQL text holds no NUL: such a body cannot come about there
    ids = stored_three(deployment)
    deployment.set_body(ids[1], body.replace("%s", ids[1]))
    with Reports().installed() as reports, opened(deployment) as functions:
        assert_served_and_reported(functions, ids, reports)


def test_a_body_that_is_no_utf8_does_not_stop_sqlite_from_opening(tmp_path):
    deployment = Deployment("sqlite", tmp_path)
    ids = stored_three(deployment)
    deployment.set_body(ids[1], b'{"_id":"' + ids[1].encode() + b'","value":"\xff\xfe"}')
    with Reports().installed() as reports, opened(deployment) as functions:
        assert_served_and_reported(functions, ids, reports)


@pytest.mark.parametrize("kind", ENGINES)
def test_confect_serve_starts_on_a_deployment_with_an_undecodable_document(kind, tmp_path):
    """The issue's case: one `{"$integer": "AA"}` stopped every process of a deployment at
    start. Two processes (on PostgreSQL; one on SQLite, which is single-process) start,
    and answer."""
    deployment = Deployment(kind, tmp_path)
    try:
        with opened(deployment) as functions:
            bad = value_of(call(functions, "wire:store", {"table": "values", "value": "bad"}))
            value_of(call(functions, "wire:store", {"table": "others", "value": "other"}))
        assert isinstance(bad, str)
        deployment.set_body(bad, _document('"value":{"$integer":"AA"}').replace("%s", bad))
        app = copy_app("wire_app", tmp_path)
        with contextlib.ExitStack() as stack:
            servers = []
            for number in range(2 if kind == "postgres" else 1):
                listener = stack.enter_context(listening_socket())
                served = Served(
                    app,
                    listener,
                    tmp_path / f"server-{number}.log",
                    "--engine",
                    deployment.engine_url(),
                )
                stack.callback(served.stop)
                servers.append(served)
                listener.close()  # the process has its own: if it exits, connecting fails
            for served in servers:
                with httpx.Client(base_url=f"http://{served.url}", timeout=60) as client:
                    listed = client.post(
                        "/api/query", json={"path": "wire:values_of", "args": {"table": "others"}}
                    )
                    assert listed.status_code == 200, (listed.text, served.output())
                    assert listed.json()["value"] == ["other"]
                    values_listed = client.post(
                        "/api/query", json={"path": "wire:values_of", "args": {"table": "values"}}
                    )
                    assert values_listed.status_code in (200, 560), values_listed.text
                assert bad in served.output() + values_listed.text, served.output()
    finally:
        deployment.drop()


def test_a_reserved_field_name_written_by_app_code_cannot_brick_a_restart(tmp_path):
    """The issue's case end to end: `{key: value}` built from a string argument, stored,
    then the server started again."""
    app = copy_app("wire_app", tmp_path)
    data = tmp_path / "data"
    with listening_socket() as listener:
        served = Served(app, listener, tmp_path / "server.log", "--engine", f"sqlite:{data}")
        try:
            with httpx.Client(base_url=f"http://{served.url}", timeout=60) as client:
                client.post(
                    "/api/mutation",
                    json={"path": "wire:store_field", "args": {"key": "$integer", "value": "AA"}},
                )
                served.stop()
                served.restart()
                listener.close()  # the process has its own: if it exits, connecting fails
                listed = client.post(
                    "/api/query", json={"path": "wire:values_of", "args": {"table": "values"}}
                )
                assert listed.status_code in (200, 560), (listed.text, served.output())
                other = client.post(
                    "/api/mutation",
                    json={"path": "wire:store", "args": {"table": "others", "value": "x"}},
                )
                assert other.json()["status"] == "success", (other.text, served.output())
        finally:
            served.stop()
