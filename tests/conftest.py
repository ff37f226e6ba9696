"""Settings and fixtures for the whole suite."""

from collections.abc import Iterator

import pytest
from hypothesis import settings

from confect.engine.sql.postgres import PostgresEngine
from tests.engines import ENGINES, engine_fixture
from tests.postgres import postgres_engine

# No per-example deadline: the machines are shared, and a slow example is not a failure
# (the suite asserts behaviour, never timing).
settings.register_profile("confect", deadline=None)
settings.load_profile("confect")

engine = engine_fixture(*ENGINES)
"""A new engine of every kind in turn: the test runs on each."""


@pytest.fixture
def two_processes() -> Iterator[tuple[PostgresEngine, PostgresEngine]]:
    """Two engines on one PostgreSQL deployment, as two server processes have."""
    first = postgres_engine()
    second = postgres_engine(first.schema)
    yield first, second
    second.close()
    first.drop()
