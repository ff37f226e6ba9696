"""Servers for the adversarial tests: one in this process on a thread of its own (so that
synchronous hypothesis tests can talk to it over real sockets), and `confect serve` in a
child process (which a test can kill with SIGKILL and start again on the same socket)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import uvicorn

from confect.server.asgi import Server, create_app
from tests import servers as shared

HERE = Path(__file__).resolve().parent
STOP_SECONDS = 30.0


@contextlib.contextmanager
def in_process(make_server: Callable[[], Server]) -> Iterator[str]:
    """Serve `make_server()` (called on the serving thread's event loop) with uvicorn, as
    `confect serve` does; its address (`127.0.0.1:PORT`) while the block runs. The engine
    is closed when the server stops."""
    listener = shared.listening_socket()
    made = threading.Event()
    holder: list[uvicorn.Server] = []
    failures: list[BaseException] = []

    async def serve() -> None:
        server = make_server()
        config = uvicorn.Config(
            create_app(server, on_shutdown=server.backend.engine.close),
            log_level="warning",
            ws="websockets-sansio",
            lifespan="on",
            ws_per_message_deflate=False,
        )
        holder.append(uvicorn.Server(config))
        made.set()
        await holder[0].serve(sockets=[listener])

    def run() -> None:
        try:
            asyncio.run(serve())
        except BaseException as error:
            failures.append(error)
        finally:
            made.set()

    thread = threading.Thread(target=run, name="adversarial-server", daemon=True)
    thread.start()
    try:
        made.wait(STOP_SECONDS)
        if failures:
            raise failures[0]
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        for running in holder:
            running.should_exit = True
        thread.join(STOP_SECONDS)
        listener.close()
        assert not thread.is_alive(), "the in-process server did not stop"


def copy_app(name: str, directory: Path) -> Path:
    """A copy of the app package `tests/adversarial/<name>` in `directory`: `confect serve`
    writes its data (or its admin key) beside the app, which must not be the source tree."""
    return shared.copy_app(HERE / name, directory)


class Served:
    """`confect serve APP` in a child process on `listener` (which stays open here, so the
    process can be killed and another started on the same port)."""

    def __init__(self, app: Path, listener: socket.socket, log: Path, *options: str) -> None:
        self.app = app
        self.listener = listener
        self.options = options
        self.log = log
        self.url = f"127.0.0.1:{listener.getsockname()[1]}"
        self.process = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        fd = self.listener.fileno()
        with open(self.log, "ab") as output:
            return subprocess.Popen(
                shared.serve_command(self.app, fd, *self.options),
                pass_fds=[fd],
                cwd=shared.ROOT,
                env={**os.environ, "PYTHONPATH": str(shared.ROOT)},
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(STOP_SECONDS)

    def restart(self) -> None:
        """A new process on the same socket and data, after `kill`."""
        self.process = self._start()

    def stop(self) -> int:
        """SIGTERM, and wait for the process to exit; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(STOP_SECONDS)

    def output(self) -> str:
        """What the server printed so far (every process started on this socket)."""
        return self.log.read_text(errors="replace")
