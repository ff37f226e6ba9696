"""A PostgreSQL engine in a schema of its own, for tests. The server is at CONFECT_TEST_POSTGRES
(by default the local one); tests that need it are skipped only when nothing answers there."""

import contextlib
import functools
import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from confect.engine.sql.postgres import PostgresEngine

URL = os.environ.get("CONFECT_TEST_POSTGRES", "postgresql://127.0.0.1:5432/test")


@functools.cache
def _unreachable() -> str | None:
    try:
        psycopg.connect(URL, connect_timeout=5).close()
    except psycopg.OperationalError as error:
        return str(error)
    return None


def postgres_engine(schema: str | None = None) -> PostgresEngine:
    """A new engine on a new schema (or on `schema`, to share one); `drop()` it when done."""
    reason = _unreachable()
    if reason is not None:
        pytest.skip(f"no PostgreSQL at {URL}: {reason}")
    return PostgresEngine(URL, schema or f"confect_test_{uuid.uuid4().hex[:12]}")


@contextlib.contextmanager
def postgres_schema() -> Iterator[str]:
    """A new deployment's schema (made, with its tables) while the block runs, dropped
    afterwards; its name, for the servers a test starts on it (`URL?schema=NAME`)."""
    made = postgres_engine()
    made.close()
    try:
        yield made.schema
    finally:
        postgres_engine(made.schema).drop()
