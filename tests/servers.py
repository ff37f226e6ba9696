"""Live servers for tests, on sockets bound here: a confect `Server` on uvicorn on the test's
own event loop (`served`), and `confect serve` in a child process (`confect_serve`); and the
copy of an app they serve, away from the source tree."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import uvicorn

from confect.server.asgi import Server, create_app

ROOT = Path(__file__).resolve().parents[1]
NOTES = ROOT / "examples" / "notes"
CONFECT = (sys.executable, "-m", "confect.cli")
STOP_SECONDS = 60.0  # the most a stopping `confect serve` is waited for


def listening_socket(backlog: int = 256) -> socket.socket:
    """A TCP socket listening on a free port of 127.0.0.1. Clients that connect before a
    server accepts wait in its backlog, so nobody has to wait for a server to be ready."""
    listener = socket.socket(
        socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
    )  # TCP: asyncio turns Nagle off
    listener.bind(("127.0.0.1", 0))
    listener.listen(backlog)
    return listener


def copy_app(source: Path, directory: Path, name: str | None = None) -> Path:
    """A copy of the app package `source` in `directory` (named `name`, by default as the
    source is), without its data, bytecode or tests: `confect serve` writes its data (or its
    admin key) beside the app, which must not be the source tree."""
    target = directory / (name or source.name)
    ignored = shutil.ignore_patterns(".confect", "__pycache__", "tests")
    shutil.copytree(source, target, ignore=ignored)
    return target


@contextlib.asynccontextmanager
async def served(server: Server, **options: Any) -> AsyncIterator[str]:
    """`server` on uvicorn on this loop (`options` for uvicorn's Config); its address."""
    listener = listening_socket(64)
    config = uvicorn.Config(
        create_app(server),
        log_level="warning",
        ws="websockets-sansio",
        lifespan="on",
        ws_per_message_deflate=False,
        **options,
    )
    running = uvicorn.Server(config)
    task = asyncio.get_running_loop().create_task(running.serve(sockets=[listener]))
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        running.should_exit = True
        await task
        listener.close()


def serve_command(app: Path, fd: int, *options: str, command: str = "serve") -> list[str]:
    """The command line of `confect serve APP OPTIONS` (or `command`: `dev`) on the
    passed socket `fd`."""
    return [*CONFECT, command, str(app), "--fd", str(fd), *options]


@attrs.define
class ServeProcess:
    """A `confect serve` child process: where it listens, and what it printed (once it
    has stopped)."""

    address: str
    process: subprocess.Popen[str]
    output: str = ""

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    @property
    def port(self) -> int:
        return int(self.address.rsplit(":", 1)[1])


@contextlib.contextmanager
def confect_serve(
    app: Path,
    *options: str,
    backlog: int = 256,
    env: Mapping[str, str] | None = None,
    pass_fds: Sequence[int] = (),
    command: str = "serve",
) -> Iterator[ServeProcess]:
    """`confect serve APP OPTIONS` (or `command`: `dev`) in a child process (its environment this one's, with
    `env`; given `pass_fds` too, for options that name them) while the block runs; then
    SIGTERM, and its output is kept and printed (pytest shows it when the test fails)."""
    listener = listening_socket(backlog)
    fd = listener.fileno()
    process = subprocess.Popen(
        serve_command(app, fd, *options, command=command),
        pass_fds=[fd, *pass_fds],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    serving = ServeProcess(f"127.0.0.1:{listener.getsockname()[1]}", process)
    listener.close()  # the process has its own: if it exits, connecting fails
    try:
        yield serving
    finally:
        process.terminate()
        serving.output = process.communicate(timeout=STOP_SECONDS)[0]
        print(serving.output)
