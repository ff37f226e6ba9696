"""Benchmark of the confect server against a bare Starlette + sqlite3 handler and FastAPI +
SQLAlchemy, in one run. Servers run in child processes; the load comes from this one.

1. query by index returning one document, over HTTP: requests/s (32 concurrent clients),
   over 1,000 keys (repeats answered from confect's query cache), and again with every
   request's key distinct (each one runs the query).
2. a mutation inserting one small document, durable: commits/s at 1, 16, 64 clients.
3. reactivity (confect only): N WebSocket subscriptions to a query over one table (the
   ten newest messages); one mutation posts a message; time until every subscriber has
   its Transition (p50, p99).
4. connections (confect only): N idle WebSocket connections held; the server's RSS.
5. one connection holding N subscriptions that one commit all affects (each a different
   number of newest messages): the longest another client waits for an answer while the
   server refreshes them (PERFORMANCE.md: at most 50 ms at 10,000).
6. user code (confect only, in this process): the cost per call of running handlers as the
   server does (inline first, stopped and moved to a worker thread past 50 ms) and on a
   worker thread, against running them inline unwatched, for a query that runs (no cache)
   and a mutation, on SQLite.

    python benchmarks/server_bench.py [--quick]
"""

from __future__ import annotations

import asyncio
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _bench
import websockets
from _bench import Connection, run_clients

QUICK = "--quick" in sys.argv
HERE = Path(__file__).parent
N_READS = 1_000 if QUICK else 5_000
N_WRITES = 300 if QUICK else 1_000
READERS = 32
SUBSCRIBERS = 200 if QUICK else 1_000
IDLE = 1_000 if QUICK else 10_000
ONE_CONNECTION = 2_000 if QUICK else 10_000
HOT_KEYS = 1_000
SEED = N_READS  # a document for every distinct read


def serving(kind: str, workdir: Path) -> Any:
    """A server of `kind` in a child process; yields (url, pid)."""
    if kind == "confect":
        return _bench.serving(_bench.confect_serve(_bench.copy_benchapp(workdir)))
    module = {"starlette": "starlette_sqlite", "fastapi": "fastapi_sqlalchemy"}[kind]
    return _bench.serving(_bench.baseline(module, str(workdir / f"{kind}.sqlite3")))


async def seed(url: str) -> None:
    await run_clients(
        url, 16, SEED, "mutation", "items:insert", lambda i: {"key": f"k{i}", "n": float(i)}
    )


async def reads_per_second(url: str, distinct: bool) -> float:
    keys = SEED if distinct else HOT_KEYS
    return await run_clients(
        url, READERS, N_READS, "query", "items:by_key", lambda i: {"key": f"k{i % keys}"}
    )


async def writes_per_second(url: str, clients: int) -> float:
    return await run_clients(
        url,
        clients,
        N_WRITES,
        "mutation",
        "items:insert",
        lambda i: {"key": f"w{clients}-{i}", "n": 1.0},
    )


async def reactivity(url: str) -> tuple[float, float]:
    """p50 and p99 ms from a commit to each subscriber's Transition."""
    ws_url = url.replace("http", "ws") + "/api/sync"
    sockets = [await websockets.connect(ws_url, max_queue=None) for _ in range(SUBSCRIBERS)]
    add = {"type": "Add", "queryId": 0, "udfPath": "items:latest", "args": [{}]}
    for connection in sockets:
        await connection.send(
            json.dumps(
                {
                    "type": "ModifyQuerySet",
                    "baseVersion": 0,
                    "newVersion": 1,
                    "modifications": [add],
                }
            )
        )
    for connection in sockets:
        await connection.recv()  # the first result

    async def next_update(connection: Any) -> float:
        while True:
            message = json.loads(await connection.recv())
            if message["type"] == "Transition" and message["modifications"]:
                return time.perf_counter()

    waiting = [asyncio.ensure_future(next_update(c)) for c in sockets]
    start = time.perf_counter()
    writer = await Connection.open(url)
    await writer.call("mutation", "items:post", {"text": "hello, subscribers"})
    writer.close()
    latencies = sorted((t - start) * 1000 for t in await asyncio.gather(*waiting))
    for connection in sockets:
        await connection.close()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]


async def one_connection_stall(url: str) -> tuple[float, float, int]:
    """Another client's longest wait (ms) while one connection's ONE_CONNECTION queries are
    refreshed after a commit, the time until their Transition (ms), and its probes."""
    ws_url = url.replace("http", "ws") + "/api/sync"
    socket_ = await websockets.connect(ws_url, max_queue=None, max_size=None)
    adds = [
        {"type": "Add", "queryId": i, "udfPath": "items:newest", "args": [{"n": float(i + 1)}]}
        for i in range(ONE_CONNECTION)
    ]
    message = {"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": adds}
    await socket_.send(json.dumps(message))

    async def big_transition(size: int) -> float:
        while True:
            reply = json.loads(await socket_.recv())
            if reply["type"] == "Transition" and len(reply["modifications"]) >= size:
                return time.perf_counter()

    await big_transition(ONE_CONNECTION)
    prober, writer = await Connection.open(url), await Connection.open(url)
    # every query's result changes but the one that keeps the single newest message
    done = asyncio.ensure_future(big_transition(ONE_CONNECTION - 1))
    start = time.perf_counter()
    await writer.call("mutation", "items:post", {"text": "one more"})
    waits: list[float] = []
    while not done.done():
        sent = time.perf_counter()
        await prober.call("query", "items:by_key", {"key": "k1"})
        waits.append((time.perf_counter() - sent) * 1000)
    refreshed = (await done - start) * 1000
    prober.close()
    writer.close()
    await socket_.close()
    return max(waits, default=0.0), refreshed, len(waits)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def idle_connections(url: str, pid: int) -> tuple[int, float, float]:
    before = rss_mb(pid)
    ws_url = url.replace("http", "ws") + "/api/sync"
    held = []
    for _ in range(IDLE):
        held.append(await websockets.connect(ws_url, ping_interval=None))
    after = rss_mb(pid)
    for connection in held:
        await connection.close()
    return len(held), before, after


async def per_call_us(workdir: Path) -> dict[str, dict[str, float]]:
    """µs per call through the server's function runner: user code inline with nothing
    watching it, as the server runs it (inline first, preemptible), and on a worker thread
    (where a call goes once it has held the loop 50 ms)."""
    from confect.app.registry import load_app
    from confect.engine.sql.sqlite import SqliteEngine
    from confect.runtime.deployment import Backend
    from confect.runtime.user_code import Inline
    from confect.server.asgi import Server
    from confect.server.calls import Caller

    sys.path.insert(0, str(HERE / "apps"))
    backend = Backend(load_app("benchapp"), SqliteEngine(workdir / "per-call"), group_commit=True)
    server = Server(backend)
    backend.listener_loop = asyncio.get_running_loop()
    workers, calls, out = server.workers, server.functions, {}

    class OnThreads:
        def run(self, effect: Any, kind: str, off_loop: bool = False) -> Any:
            return workers.run(effect, kind, off_loop=True)

    n = 500 if QUICK else 3_000
    for kind, path in (("query", "items:by_key"), ("mutation", "items:insert")):
        out[kind] = {}
        for name, user_code in (
            ("inline", Inline()),
            ("server", workers),
            ("threads", OnThreads()),
            ("inline again", Inline()),
        ):
            backend.user_code = user_code
            with _bench.Stopwatch() as watch:
                for i in range(n):
                    args = {"key": f"{name}-{i}", "n": float(i)}
                    if kind == "query":
                        calls.cache.clear()
                        await calls.call(path, {"key": args["key"]}, Caller(), kind)
                    else:
                        await calls.call(path, args, Caller(), kind)
            out[kind][name] = watch.seconds / n * 1e6
    workers.close()
    backend.engine.close()
    return out


def main() -> None:
    results: dict[str, Any] = {"quick": QUICK, "python": platform.python_version()}
    print(f"server benchmark · Python {platform.python_version()} · load from a second process")
    with tempfile.TemporaryDirectory(prefix="confect-server-bench-") as temporary:
        workdir = Path(temporary)
        reads: dict[str, float] = {}
        cold: dict[str, float] = {}
        writes: dict[str, dict[int, float]] = {}
        for kind in ("starlette", "fastapi", "confect"):
            with serving(kind, workdir) as (url, pid):
                asyncio.run(seed(url))
                reads[kind] = asyncio.run(reads_per_second(url, distinct=False))
                cold[kind] = asyncio.run(reads_per_second(url, distinct=True))
                writes[kind] = {c: asyncio.run(writes_per_second(url, c)) for c in (1, 16, 64)}
                if kind == "confect":
                    results["reactivity_ms"] = asyncio.run(reactivity(url))
                    results["idle"] = asyncio.run(idle_connections(url, pid))
                    results["one_connection"] = asyncio.run(one_connection_stall(url))
        results["per_call_us"] = asyncio.run(per_call_us(workdir))
        results["reads_per_s"] = reads
        results["distinct_reads_per_s"] = cold
        results["writes_per_s"] = writes
    for title, rates in (
        (f"over {HOT_KEYS} keys", reads),
        ("every key distinct (no cache hits)", cold),
    ):
        print(
            f"\n1. query by index, {N_READS} requests, {READERS} clients, {title} (requests/s; ratio to bare Starlette + sqlite3)"
        )
        for kind, rate in rates.items():
            print(
                f"   {kind:<10} {rate:8.0f}/s   {rate / rates['starlette']:5.2f}×   ({rate / rates['fastapi']:.2f}× FastAPI + SQLAlchemy)"
            )
    print(
        f"\n2. durable inserts, {N_WRITES} mutations (commits/s; ratio to bare Starlette + sqlite3)"
    )
    for clients in (1, 16, 64):
        row = "   ".join(
            f"{kind} {writes[kind][clients]:7.0f}/s {writes[kind][clients] / writes['starlette'][clients]:4.2f}×"
            for kind in writes
        )
        print(f"   {clients:>2} clients: {row}")
    p50, p99 = results["reactivity_ms"]
    print(
        f"\n3. reactivity: {SUBSCRIBERS} subscriptions, one commit: p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    count, before, after = results["idle"]
    print(
        f"\n4. idle connections: {count} held; server RSS {before:.0f} MB before, {after:.0f} MB with them"
    )
    stall, refreshed, probes = results["one_connection"]
    print(
        f"\n5. one connection, {ONE_CONNECTION} subscriptions, one commit: refreshed in "
        f"{refreshed:.0f} ms; another client's longest wait {stall:.1f} ms ({probes} probes)"
    )
    print(
        "\n6. user code: unwatched inline, as served (inline first), on a thread (in process, SQLite; µs per call, sequential)"
    )
    for kind, times in results["per_call_us"].items():
        inline = (times["inline"] + times["inline again"]) / 2
        print(
            f"   {kind:<8} inline {inline:6.1f} µs   served {times['server']:6.1f} µs "
            f"({times['server'] / inline:.2f}×)   on a thread {times['threads']:6.1f} µs "
            f"({times['threads'] / inline:.2f}×, the hand-off {times['threads'] - inline:+.1f} µs)"
        )
    out = HERE / "results" / "server_bench.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
