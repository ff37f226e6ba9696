"""The deployment the decoder tests attack: the wire app on SQLite (so values go through
stored JSON too), with an auth provider whose key the tests hold and an admin key,
served in this process over real sockets for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from confect import App, Backend, load_app
from confect.engine.sql.sqlite import SqliteEngine
from confect.server.asgi import Server

from . import wire_app
from .servers import in_process
from .tokens import Keys

ADMIN_KEY = "adversarial-admin-key"


@pytest.fixture(scope="session")
def keys() -> Keys:
    return Keys.make()


@pytest.fixture(scope="session")
def address(tmp_path_factory: pytest.TempPathFactory, keys: Keys) -> Iterator[str]:
    """`host:port` of the wire app."""
    loaded = load_app(wire_app)
    app = App(loaded.functions, loaded.schema, auth_providers=[keys.provider()])
    data = tmp_path_factory.mktemp("wire-data")

    def make() -> Server:
        backend = Backend(app, SqliteEngine(data), group_commit=True)
        return Server(backend, admin_key=ADMIN_KEY)

    with in_process(make) as served:
        yield served
