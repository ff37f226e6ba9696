"""Engines of every kind, each made new for a test and released after it: what the
conformance suites and the tests of guarantees that hold on every engine run over."""

import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from confect.engine.interface import Engine
from confect.engine.memory import MemoryEngine
from confect.engine.sql.postgres import PostgresEngine
from confect.engine.sql.sqlite import SqliteEngine
from tests.postgres import postgres_engine


def _sqlite() -> Engine:
    return SqliteEngine(tempfile.mkdtemp(prefix="confect-test-"))


ENGINES: dict[str, Callable[[], Engine]] = {
    "memory": MemoryEngine,
    "sqlite": _sqlite,
    "postgres": postgres_engine,
}
"""A new engine of each kind (the PostgreSQL one skips its test when there is no server):
a new engine is added here, and every suite over engines runs on it."""


def release(engine: Engine) -> None:
    """Close `engine` and delete what it stored."""
    if isinstance(engine, SqliteEngine):
        engine.close()
        shutil.rmtree(engine.directory)
    elif isinstance(engine, PostgresEngine):
        engine.drop()


def engine_fixture(*kinds: str) -> Any:
    """A pytest fixture `engine`: a new engine of each of `kinds` in turn (the test runs
    once per kind, with the kind as its id), released when the test ends."""

    @pytest.fixture(params=kinds)
    def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
        made = ENGINES[request.param]()
        yield made
        release(made)

    return engine
