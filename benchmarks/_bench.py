"""What the benchmarks share: timing, servers in child processes (and the app they serve),
and an HTTP load client.

Not a benchmark itself (its name starts with `_`); the scripts beside it import it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
BASELINES = HERE / "baselines"


# --- timing ------------------------------------------------------------------------------------


class Stopwatch:
    """The seconds a `with` block took (`seconds`, once it has ended); the block may
    await, so async code is timed the same way."""

    seconds: float

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self._start


def best_seconds(fn: Callable[[], Any], repeat: int) -> float:
    """The fastest of `repeat` runs of `fn` (seconds), each after a full collection."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        with Stopwatch() as watch:
            fn()
        best = min(best, watch.seconds)
    return best


def best_ms(fn: Callable[[], Any], repeat: int) -> float:
    """The fastest of `repeat` runs of `fn`, in milliseconds."""
    return best_seconds(fn, repeat) * 1000


def per_call_us(fn: Callable[[], Any], n: int, repeat: int) -> float:
    """µs per call of `fn`, from the fastest of `repeat` runs of `n` calls."""

    def calls() -> None:
        for _ in range(n):
            fn()

    return best_seconds(calls, repeat) / n * 1e6


def per_item_us(fn: Callable[[Any], Any], items: list[Any]) -> float:
    """µs per call of `fn`, from one run of it on each of `items`."""
    with Stopwatch() as watch:
        for item in items:
            fn(item)
    return watch.seconds / len(items) * 1e6


# --- servers in child processes ------------------------------------------------------------------


def copy_benchapp(directory: Path) -> Path:
    """A copy of `benchmarks/apps/benchapp` in `directory` (without its data or bytecode),
    for `confect serve` to keep its data beside."""
    app = directory / "benchapp"
    ignored = shutil.ignore_patterns(".*", "__pycache__")
    shutil.copytree(HERE / "apps" / "benchapp", app, ignore=ignored)
    return app


@contextmanager
def serving(command_for: Callable[[int], list[str]]) -> Iterator[tuple[str, int]]:
    """A server started as `command_for(fd)` on a socket bound here (its file descriptor
    `fd`, passed on); yields (its URL, its pid), and stops it afterwards."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    fd = listener.fileno()
    port = listener.getsockname()[1]
    process = subprocess.Popen(
        command_for(fd), pass_fds=[fd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    listener.close()
    try:
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def confect_serve(app: Path, *options: str) -> Callable[[int], list[str]]:
    """The command of `confect serve APP OPTIONS` on a passed socket (every load client
    here has one address: no cap per address)."""
    return lambda fd: [
        *(sys.executable, "-m", "confect.cli", "serve", str(app), "--fd", str(fd)),
        *("--max-connections-per-address", "0", *options),
    ]


def baseline(module: str, *argv: str) -> Callable[[int], list[str]]:
    """The command serving `benchmarks/baselines/MODULE.py`'s `app` with uvicorn, its
    `sys.argv[1:]` being `argv`."""

    def command(fd: int) -> list[str]:
        code = (
            f"import sys, uvicorn, socket; sys.argv = ['x', *{list(argv)!r}]; "
            f"sys.path.insert(0, {str(BASELINES)!r}); import {module}; "
            f"config = uvicorn.Config({module}.app, log_level='warning'); "
            f"uvicorn.Server(config).run(sockets=[socket.socket(fileno={fd})])"
        )
        return [sys.executable, "-c", code]

    return command


# --- the load client ---------------------------------------------------------------------------


class Connection:
    """A minimal keep-alive HTTP/1.1 client connection: the load generator must not be the
    bottleneck (httpx's pool slows down sharply with many concurrent connections)."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str
    ) -> None:
        self._reader, self._writer, self._host = reader, writer, host

    @staticmethod
    async def open(url: str) -> Connection:
        host, port = url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        return Connection(reader, writer, f"{host}:{port}")

    async def call(self, kind: str, path: str, args: dict[str, Any]) -> Any:
        body = json.dumps({"path": path, "args": args, "format": "convex_encoded_json"}).encode()
        self._writer.write(
            f"POST /api/{kind} HTTP/1.1\r\nHost: {self._host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await self._reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        answer = json.loads(await self._reader.readexactly(length))
        assert answer["status"] == "success", answer
        return answer["value"]

    def close(self) -> None:
        self._writer.close()


async def run_clients(
    url: str | list[str], clients: int, requests: int, kind: str, path: str, args_of: Any
) -> float:
    """Requests per second with `clients` connections sharing `requests` calls (spread
    evenly over the servers, if given several URLs)."""
    urls = [url] if isinstance(url, str) else url
    connections = [await Connection.open(urls[i % len(urls)]) for i in range(clients)]
    queue = iter(range(requests))

    async def client(connection: Connection) -> None:
        for i in queue:
            await connection.call(kind, path, args_of(i))

    with Stopwatch() as watch:
        await asyncio.gather(*(client(c) for c in connections))
    for connection in connections:
        connection.close()
    return requests / watch.seconds
