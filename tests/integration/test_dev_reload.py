"""`confect dev` reloading an app whose services (`services.py`) hold a resource: each
version's layer is built on a runtime of its own, the old one disposed after the swap (its
finalizer runs) and the last on shutdown; connected clients, the official PyPI client
among them, keep their connections and their subscriptions' updates; a layer that fails to
build leaves the previous version serving, and the failure is printed."""

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from convex.http_client import ConvexHttpClient
from websockets.sync.client import connect

from tests.servers import ROOT, STOP_SECONDS, confect_serve

SERVICES = """\
from pathlib import Path

import effects
from effects import Layer, Tag

VERSION = "{version}"


class Prefix(Tag["Prefix", str]): ...


def _release(_: str):
    def record() -> None:
        with Path({released!r}).open("a") as released:
            released.write(VERSION + "\\n")

    return effects.sync(record)


layer = Layer.scoped(Prefix, effects.acquire_release(effects.sync(lambda: VERSION + ":"), _release))
"""

FAILING_SERVICES = """\
import effects
from effects import Layer, Tag


class Prefix(Tag["Prefix", str]): ...


layer = Layer.effect(Prefix, effects.fail(ValueError("no prefix today")))
"""

ITEMS = """\
from confect import DatabaseReader, DatabaseWriter, mutation, query, v

from .services import Prefix


@query()
def names():
    prefix = yield from Prefix
    db = yield from DatabaseReader
    return [prefix + item["name"] for item in (yield from db.table("items").collect())]


@mutation(args={"name": v.string()})
def add(name: str):
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"name": name})
"""

SCHEMA = """\
from confect import define_schema, define_table, v

schema = define_schema(items=define_table({"name": v.string()}))
"""


def write_app(directory: Path, released: Path) -> Path:
    app = directory / f"reloading_{directory.name}"
    app.mkdir()
    (app / "__init__.py").write_text("")
    (app / "schema.py").write_text(SCHEMA)
    (app / "items.py").write_text(ITEMS)
    (app / "services.py").write_text(SERVICES.format(version="v1", released=str(released)))
    return app


def lines_until(output: IO[str], start: str) -> list[str]:
    """The lines of `output` up to the first that starts with `start`."""
    lines: list[str] = []
    for line in output:
        lines.append(line)
        if line.startswith(start):
            return lines
    raise AssertionError(f"no line starting {start!r} in {lines}")


def updates(watcher: subprocess.Popen[str]) -> Iterator[list[str]]:
    assert watcher.stdout is not None
    for line in watcher.stdout:
        yield json.loads(line)["value"]


def transitions(socket_) -> Iterator[list[str]]:
    """The values of query 0 in the socket's transitions (skipping those without it)."""
    while True:
        message = json.loads(socket_.recv(timeout=STOP_SECONDS))
        for modification in message.get("modifications", []):
            if modification.get("queryId") == 0:
                yield modification["value"]


SUBSCRIBE = json.dumps(
    {
        "type": "ModifyQuerySet",
        "baseVersion": 0,
        "newVersion": 1,
        "modifications": [{"type": "Add", "queryId": 0, "udfPath": "items:names", "args": [{}]}],
    }
)


def test_dev_swaps_the_services_runtime_on_reload_under_open_connections(tmp_path: Path):
    released = tmp_path / "released.txt"
    app = write_app(tmp_path, released)
    env = {"COLUMNS": "300", "PYTHONUNBUFFERED": "1"}
    with confect_serve(app, "--site-port", "0", command="dev", env=env) as dev:
        output = dev.process.stdout
        assert output is not None
        # if a line never comes, the stopped processes end their output and the test fails
        watcher = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.python_client", dev.url, "watch"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        watchdog = threading.Timer(STOP_SECONDS, lambda: (dev.process.kill(), watcher.kill()))
        watchdog.start()
        try:
            lines_until(output, "confect serving")
            seen = updates(watcher)
            assert next(seen) == []
            with connect(f"ws://{dev.address}/api/sync") as socket_:
                socket_.send(SUBSCRIBE)
                on_socket = transitions(socket_)
                assert next(on_socket) == []
                writer = ConvexHttpClient(dev.url)
                writer.mutation("items:add", {"name": "a"})
                assert next(seen) == next(on_socket) == ["v1:a"]

                (app / "services.py").write_text(
                    SERVICES.format(version="v2", released=str(released))
                )
                lines_until(output, "reloaded")
                assert next(seen) == next(on_socket) == ["v2:a"]  # the new version's services

                (app / "services.py").write_text(FAILING_SERVICES)
                failed = lines_until(output, "reload failed")[-1]
                assert "no prefix today" in failed, failed
                writer.mutation("items:add", {"name": "b"})  # v2 still serves
                assert next(seen) == next(on_socket) == ["v2:a", "v2:b"]

                # a module raising as it is imported: the error and the app's line
                (app / "broken.py").write_text('raise ValueError("no [b]rackets lost")\n')
                failed = lines_until(output, "reload failed")[-1]
                assert "failed to import: ValueError: no [b]rackets lost" in failed, failed
                where = next(output)
                assert re.search(r"^ +at \S*broken.py:1 in <module>: raise", where), where
            assert released.read_text() == "v1\n"  # the old one, once swapped out
        finally:
            watchdog.cancel()
            watcher.kill()
            watcher.wait()
    assert released.read_text() == "v1\nv2\n"  # the serving one, on shutdown
