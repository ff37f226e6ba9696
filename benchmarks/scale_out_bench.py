"""Benchmark of scale-out (PERFORMANCE.md, server workload 5): confect server processes on one
PostgreSQL deployment, against the same number of bare Starlette + psycopg processes on the
same database, in one run. The load comes from this process, spread evenly over the servers.

For 1, 2 and 4 server processes: the query by index over HTTP (over 1,000 keys, so mostly
answered from each process's query cache, and with every key distinct, so each request
reads PostgreSQL), and durable inserts from 64 clients. The figure that matters is the
growth from 1 to 2 processes; it is bounded by the machine's cores (printed), which the
servers share with PostgreSQL and with this load generator.

    python benchmarks/scale_out_bench.py [--quick] [POSTGRES_URL]
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import sys
import tempfile
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import _bench
import psycopg
from _bench import run_clients
from psycopg import sql
from server_bench import HOT_KEYS

QUICK = "--quick" in sys.argv
URL = next((a for a in sys.argv[1:] if not a.startswith("--")), "postgresql://127.0.0.1:5432/test")
HERE = Path(__file__).parent
PROCESSES = (1, 2, 4)
N_READS = 2_000 if QUICK else 10_000
N_WRITES = 500 if QUICK else 2_000
SEED = N_READS
CLIENTS = 64


def serving(kind: str, app: Path, schema: str) -> Any:
    """One server process of `kind` on `schema`; yields (url, pid)."""
    if kind == "confect":
        return _bench.serving(_bench.confect_serve(app, "--engine", f"{URL}?schema={schema}"))
    return _bench.serving(_bench.baseline("starlette_psycopg", URL, schema))


async def measure(urls: list[str], seeded: bool) -> dict[str, float]:
    def key(keys: int) -> Any:
        return lambda i: {"key": f"k{i % keys}"}

    if not seeded:  # the first run fills the deployment; the others share it
        insert = lambda i: {"key": f"k{i}", "n": float(i)}  # noqa: E731
        await run_clients(urls, 16, SEED, "mutation", "items:insert", insert)
    for url in urls:  # every server has started and warmed up before the clock runs
        await run_clients(url, 4, 200, "query", "items:by_key", key(SEED))
    hot = await run_clients(urls, CLIENTS, N_READS, "query", "items:by_key", key(HOT_KEYS))
    cold = await run_clients(urls, CLIENTS, N_READS, "query", "items:by_key", key(SEED))
    tag = uuid.uuid4().hex[:6]
    writes = await run_clients(
        urls,
        CLIENTS,
        N_WRITES,
        "mutation",
        "items:insert",
        lambda i: {"key": f"w{tag}-{i}", "n": 1.0},
    )
    return {"hot reads": hot, "distinct reads": cold, "inserts": writes}


def main() -> None:
    cores = os.cpu_count()
    print(f"scale-out benchmark · Python {platform.python_version()} · {cores} cores · {URL}")
    results: dict[str, Any] = {"quick": QUICK, "cores": cores, "runs": {}}
    schemas = {kind: f"bench_{kind}_{uuid.uuid4().hex[:8]}" for kind in ("starlette", "confect")}
    with tempfile.TemporaryDirectory(prefix="confect-scale-bench-") as temporary:
        app = _bench.copy_benchapp(Path(temporary))
        try:
            for kind, schema in schemas.items():
                for count in PROCESSES:
                    with ExitStack() as stack:
                        urls = [
                            stack.enter_context(serving(kind, app, schema))[0] for _ in range(count)
                        ]
                        rates = asyncio.run(measure(urls, seeded=count != PROCESSES[0]))
                    results["runs"][f"{kind} ×{count}"] = rates
                    print(
                        f"  {kind:<9} ×{count}: "
                        + "  ".join(f"{k} {v:7.0f}/s" for k, v in rates.items())
                    )
        finally:
            with psycopg.connect(URL, autocommit=True) as db:
                for schema in schemas.values():
                    db.execute(
                        sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                    )
    runs = results["runs"]
    print("\ngrowth from 1 process (ratio of requests/s)")
    for kind in schemas:
        base = runs[f"{kind} ×1"]
        for count in PROCESSES[1:]:
            row = runs[f"{kind} ×{count}"]
            print(
                f"  {kind:<9} ×{count}: " + "  ".join(f"{k} {row[k] / base[k]:4.2f}×" for k in row)
            )
    print("\nconfect against bare Starlette + psycopg with as many processes")
    for count in PROCESSES:
        ours, bare = runs[f"confect ×{count}"], runs[f"starlette ×{count}"]
        print(f"  ×{count}: " + "  ".join(f"{k} {ours[k] / bare[k]:4.2f}×" for k in ours))
    out = HERE / "results" / "scale_out_bench.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
