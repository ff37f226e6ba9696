"""Benchmark of confect's per-call machinery, against the effects and plain-Python baselines.

Rows (best of a few repeats, µs per call, same run):
- query layer build: the services of a query call (db reader over a transaction, auth,
  storage reader, query runner, ctx, stand-ins) made into a layer; vs the effects
  per-request layer of effects_bench (four ready services merged) and a plain dict.
- query call, layer + handler: run a handler touching each query service once under the
  per-call layer; vs the same handler under a prebuilt effects layer, and plain Python.
- ConfectTest round trip: `t.mutation(insert)` then `t.query(get)`; vs the same insert and
  get straight on the in-memory engine (a transaction, no functions, no validation).
- against Confect TS: the app of benchmarks/apps/benchapp through ConfectTest, and the same
  app in Confect TS (benchmarks/ts/benchapp) through convex-test in one Node process
  (benchmarks/ts/confect_bench.ts): a query by index, an insert mutation, the two in turn,
  and an action running the two. The ratio is ConfectTest's time to Confect TS's (the
  target: below 1, the per-call cost beats Confect on Effect). Both harnesses get the same
  calls on the same data; Confect TS is reported missing if it cannot be installed or run.
  The same functions on Convex alone under convex-test (no Confect, no Effect) are shown as
  context: what the harness itself costs.

    python benchmarks/confect_bench.py [--quick]
"""

from __future__ import annotations

import json
import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _bench
import _ts

import effects
from confect import (
    App,
    Auth,
    DatabaseReader,
    DatabaseWriter,
    QueryRunner,
    StorageReader,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.runtime.deployment import Backend
from confect.runtime.layers import as_layer, query_service_map
from confect.testing import ConfectTest
from effects import Layer, Tag, gen

QUICK = "--quick" in sys.argv
N = 5_000 if QUICK else 20_000
REPEAT = 3 if QUICK else 5
N_APP = 50 if QUICK else 200  # calls per timed run against Confect TS (milliseconds each)
REPEAT_APP = 2 if QUICK else 3
CONFECT_TS = "Confect TS (convex-test)"
CONVEX_TS = "Convex TS alone (convex-test)"

SCHEMA = define_schema(items=define_table({"n": v.number()}))


@query(args={"id": v.id("items")})
def get_item(id: str):
    db = yield from DatabaseReader
    return (yield from db.table("items").get(id)).n


@mutation(args={"n": v.number()})
def insert_item(n: float):
    db = yield from DatabaseWriter
    return (yield from db.table("items").insert({"n": n}))


APP = App({"items:get": get_item, "items:insert": insert_item}, SCHEMA)


def per_call_us(fn: Callable[[], Any], n: int = N) -> float:
    return _bench.per_call_us(fn, n, REPEAT)


# --- the handler touching each query service once -------------------------------------------------


@gen
def touch_services():
    db = yield from DatabaseReader
    auth = yield from Auth
    storage = yield from StorageReader
    runner = yield from QueryRunner
    return (db is not None) + (auth is not None) + (storage is not None) + (runner is not None)


class S1(Tag["S1", object]): ...


class S2(Tag["S2", object]): ...


class S3(Tag["S3", object]): ...


class S4(Tag["S4", object]): ...


@gen
def touch_four():
    a = yield from S1
    b = yield from S2
    c = yield from S3
    d = yield from S4
    return (a is not None) + (b is not None) + (c is not None) + (d is not None)


# --- the benchmark app against Confect TS -----------------------------------------------------------

APP_CALLS: dict[str, Callable[[ConfectTest, int], Any]] = {
    "query": lambda t, i: t.query("items:by_key", {"key": "k0"}),
    "mutation": lambda t, i: t.mutation("items:insert", {"key": f"m{i}", "n": 1}),
    "mutation + query": lambda t, i: (
        t.mutation("items:insert", {"key": f"r{i}", "n": 1}),
        t.query("items:by_key", {"key": f"r{i}"}),
    ),
    "action: mutation + query": lambda t, i: t.action(
        "items:insert_then_get", {"key": f"a{i}", "n": 1}
    ),
}


def confect_test_us(call: Callable[[ConfectTest, int], Any]) -> float:
    """µs per call through ConfectTest, as benchmarks/ts/confect_bench.ts times Confect TS:
    a fresh harness holding the item "k0", N_APP calls of warm-up, the best of REPEAT_APP
    runs of N_APP calls."""
    t = ConfectTest("benchapp")
    t.mutation("items:insert", {"key": "k0", "n": 0})
    keys = iter(range(10**9))
    for _ in range(N_APP):
        call(t, next(keys))
    return _bench.per_call_us(lambda: call(t, next(keys)), N_APP, REPEAT_APP)


def against_confect_ts() -> dict[str, Any]:
    """Each call's µs through ConfectTest and, in a Node process started just after (so
    that both see the same machine load), through Confect TS and Convex TS alone; their
    ratios; or why the TypeScript side is missing."""
    sys.path.insert(0, str(_bench.HERE / "apps"))  # for ConfectTest("benchapp")
    vs: dict[str, Any] = {"ConfectTest": {}, CONFECT_TS: {}, CONVEX_TS: {}, "missing": {}}
    for name, call in APP_CALLS.items():
        vs["ConfectTest"][name] = confect_test_us(call)
        theirs = _ts.run("confect_bench.ts", N_APP, REPEAT_APP, name)
        if isinstance(theirs, _ts.Missing):
            vs["missing"] = {CONFECT_TS: theirs.reason, CONVEX_TS: theirs.reason}
            continue
        vs[CONFECT_TS][name] = theirs["us"]["confect"][name]
        vs[CONVEX_TS][name] = theirs["us"]["plain"][name]
        vs["versions"] = {k: theirs[k] for k in ("confect", "convex_test", "node")}
    if vs["missing"]:
        return {"ConfectTest": vs["ConfectTest"], "missing": vs["missing"]}
    confect_ts = vs[CONFECT_TS]
    vs["ratio"] = {name: us / confect_ts[name] for name, us in vs["ConfectTest"].items()}
    vs["ratio_convex_ts"] = {name: us / confect_ts[name] for name, us in vs[CONVEX_TS].items()}
    return vs


def print_against_confect_ts(vs: dict[str, Any]) -> None:
    print(f"\nthe benchmark app per call (µs; ratio ÷ {CONFECT_TS})")
    print(f"  {'':<28} {'ConfectTest':>18} {CONFECT_TS:>26} {CONVEX_TS:>31}")
    for name, us in vs["ConfectTest"].items():
        if vs["missing"]:
            print(f"  {name:<28} {us:18.1f} {'missing':>26} {'missing':>31}")
            continue
        ours = f"{us:.1f} ({vs['ratio'][name]:.3f}×)"
        plain = f"{vs[CONVEX_TS][name]:.1f} ({vs['ratio_convex_ts'][name]:.3f}×)"
        print(f"  {name:<28} {ours:>18} {vs[CONFECT_TS][name]:26.1f} {plain:>31}")
    for peer, reason in vs["missing"].items():
        print(f"  {peer} missing: {reason}")


def main() -> None:
    backend = Backend(APP)
    tx = backend.new_transaction()
    four = Layer.merge(*(Layer.succeed(tag, object()) for tag in (S1, S2, S3, S4)))

    rows: dict[str, dict[str, float]] = {}
    rows["query layer build"] = {
        "plain dict": per_call_us(lambda: {1: tx, 2: None, 3: backend.files, 4: backend}),
        "effects 4-service layer": per_call_us(
            lambda: Layer.merge(*(Layer.succeed(tag, tx) for tag in (S1, S2, S3, S4)))
        ),
        "confect query layer": per_call_us(
            lambda: as_layer(query_service_map(backend.executor, tx, None))
        ),
    }
    rows["query call: layer + handler"] = {
        "plain function": per_call_us(lambda: sum(x is not None for x in (tx, None, backend, 1))),
        "effects prebuilt layer": per_call_us(lambda: effects.run_sync(touch_four().provide(four))),
        "confect per-call layer": per_call_us(
            lambda: effects.run_sync(
                as_layer(query_service_map(backend.executor, tx, None)).provide_to(touch_services())
            )
        ),
    }

    t = ConfectTest(APP)
    engine_backend = Backend(APP)

    def raw_round_trip() -> Any:
        write = engine_backend.new_transaction()
        id_ = write.insert("items", {"n": 1.0})
        write.commit()
        return engine_backend.new_transaction().get("items", id_)

    def harness_round_trip() -> Any:
        return t.query(get_item, {"id": t.mutation(insert_item, {"n": 1})})

    n_trip = N // 10
    rows["mutation + query round trip"] = {
        "engine, no functions": per_call_us(raw_round_trip, n_trip),
        "ConfectTest": per_call_us(harness_round_trip, n_trip),
    }

    print(f"confect per-call benchmark · Python {platform.python_version()} · µs per call")
    for name, figures in rows.items():
        base = next(iter(figures.values()))
        print(f"\n{name}")
        for label, us in figures.items():
            print(f"  {label:<28} {us:9.2f} µs   {us / base:6.1f}×")
    vs = against_confect_ts()
    print_against_confect_ts(vs)
    out = Path(__file__).parent / "results" / "confect_bench.json"
    out.parent.mkdir(exist_ok=True)
    results = {"python": platform.python_version(), "quick": QUICK, "us": rows, "vs_confect_ts": vs}
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
