"""Benchmark of the `effects` runtime against plain Python, Python peers and Effect-TS on
Node, in one run.

Workloads are those of shared/design/PERFORMANCE.md. Every figure is the best of a few
repeats, in milliseconds for the whole workload, and compared as a ratio to plain Python
measured in the same run. Effect-TS 3.x runs workloads 1-6 in one Node process
(benchmarks/ts/effect_bench.ts, warmed up): V8 compiles it to machine code, so its column
is a JIT beside an interpreter, context rather than a target. Prints a table and writes
JSON to benchmarks/results/.

    python benchmarks/effects_bench.py [--quick]
"""

from __future__ import annotations

import gc
import json
import platform
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import _bench
import _ts

import effects
from effects import Layer, Tag, TaggedError, gen

QUICK = "--quick" in sys.argv
N = 100_000
N_FAIL = 10_000
N_DEEP = 1_000_000
REPEAT = 3 if QUICK else 5


def best_ms(fn: Callable[[], Any], repeat: int = REPEAT) -> float:
    return _bench.best_ms(fn, repeat)


# --- shared pieces --------------------------------------------------------------------------------


class BenchError(TaggedError):
    code: int


class Counter:
    def __init__(self) -> None:
        self.n = 0


class CounterTag(Tag["CounterTag", Counter]): ...


# --- 1. chain -------------------------------------------------------------------------------------


def chain_plain() -> int:
    fs = [lambda x: x + 1 for _ in range(N)]
    x = 0
    for f in fs:
        x = f(x)
    return x


def chain_effects() -> int:
    e = effects.succeed(0)
    succeed = effects.succeed
    for _ in range(N):
        e = e.flat_map(lambda x: succeed(x + 1))
    return effects.run_sync(e)


def chain_returns() -> int:
    from returns.result import Success

    r = Success(0)
    for _ in range(N):
        r = r.bind(lambda x: Success(x + 1))
    return r.unwrap()


def chain_expression() -> int:
    from expression import Ok

    r = Ok(0)
    for _ in range(N):
        r = r.bind(lambda x: Ok(x + 1))
    return r.ok


PYEFFECT_CHAIN_N = 2_000  # python-effect's chain is quadratic: a full run takes minutes
PYEFFECT_DEEP_N = 10_000  # and so is its recursion: 1,000,000 deep would take about an hour


def chain_python_effect() -> int:
    from effect import Constant, Effect, base_dispatcher, sync_perform

    e = Effect(Constant(0))
    for _ in range(PYEFFECT_CHAIN_N):
        e = e.on(success=lambda x: Effect(Constant(x + 1)))
    return sync_perform(base_dispatcher, e)


# --- 2. gen loop ----------------------------------------------------------------------------------


def gen_plain() -> int:
    def step(i: int) -> int:
        return i

    total = 0
    for i in range(N):
        total += step(i)
    return total


def gen_effects() -> int:
    succeed = effects.succeed

    @gen
    def loop():
        total = 0
        for i in range(N):
            total += yield from succeed(i)
        return total

    return effects.run_sync(loop())


def gen_expression() -> int:
    from expression import Ok, effect

    @effect.result[int, str]()
    def loop():
        total = 0
        for i in range(N):
            total += yield from Ok(i)
        return total

    return loop().ok


def gen_python_effect() -> int:
    from effect import Constant, Effect, base_dispatcher, sync_perform
    from effect.do import do

    @do
    def loop():
        total = 0
        for i in range(N):
            total += yield Effect(Constant(i))
        return total

    return sync_perform(base_dispatcher, loop())


# --- 3. fail + catch ------------------------------------------------------------------------------


def fail_plain() -> int:
    caught = 0
    for i in range(N_FAIL):
        try:
            raise BenchError(code=i)
        except BenchError:
            caught += 1
    return caught


def fail_effects() -> int:
    fail, succeed = effects.fail, effects.succeed

    def handler(e: BenchError) -> effects.Effect[int]:
        return succeed(1)

    @gen
    def loop():
        caught = 0
        for i in range(N_FAIL):
            caught += yield from fail(BenchError(code=i)).catch_tag(BenchError, handler)
        return caught

    return effects.run_sync(loop())


def fail_returns() -> int:
    from returns.result import Failure, Success

    caught = 0
    for i in range(N_FAIL):
        caught += Failure(BenchError(code=i)).lash(lambda e: Success(1)).unwrap()
    return caught


def fail_expression() -> int:
    from expression import Error, Ok

    caught = 0
    for i in range(N_FAIL):
        caught += Error(BenchError(code=i)).or_else_with(lambda e: Ok(1)).ok
    return caught


def fail_python_effect() -> int:
    from effect import Effect, Error, base_dispatcher, sync_perform

    caught = 0
    for i in range(N_FAIL):
        caught += sync_perform(
            base_dispatcher, Effect(Error(BenchError(code=i))).on(error=lambda e: 1)
        )
    return caught


# --- 4. run_sync of a trivial effect -----------------------------------------------------------------


def run_plain() -> int:
    def trivial() -> int:
        return 1

    total = 0
    for _ in range(N):
        total += trivial()
    return total


def run_effects() -> int:
    e = effects.succeed(1)
    run_sync = effects.run_sync
    total = 0
    for _ in range(N):
        total += run_sync(e)
    return total


def run_python_effect() -> int:
    from effect import Constant, Effect, base_dispatcher, sync_perform

    e = Effect(Constant(1))
    total = 0
    for _ in range(N):
        total += sync_perform(base_dispatcher, e)
    return total


# --- 5. service access ----------------------------------------------------------------------------------


def service_plain() -> int:
    services = {CounterTag: Counter()}
    total = 0
    for _ in range(N):
        total += services[CounterTag].n
    return total


def service_effects() -> int:
    @gen
    def loop():
        total = 0
        for _ in range(N):
            counter = yield from CounterTag
            total += counter.n
        return total

    return effects.run_sync(loop().provide_service(CounterTag, Counter()))


# --- 6. per-request layer ---------------------------------------------------------------------------------


class Db(Tag["Db", Counter]): ...


class Auth(Tag["Auth", Counter]): ...


class Storage(Tag["Storage", Counter]): ...


class Runner(Tag["Runner", Counter]): ...


N_LAYER = 20_000


def layer_plain() -> int:
    def handler(services: dict[Any, Counter]) -> int:
        return services[Db].n + services[Auth].n + services[Storage].n + services[Runner].n

    total = 0
    for _ in range(N_LAYER):
        total += handler({Db: Counter(), Auth: Counter(), Storage: Counter(), Runner: Counter()})
    return total


@gen
def layer_handler():
    db = yield from Db
    auth = yield from Auth
    storage = yield from Storage
    runner = yield from Runner
    return db.n + auth.n + storage.n + runner.n


def layer_effects() -> int:
    total = 0
    for _ in range(N_LAYER):
        layer = Layer.merge(
            Layer.succeed(Db, Counter()),
            Layer.succeed(Auth, Counter()),
            Layer.succeed(Storage, Counter()),
            Layer.succeed(Runner, Counter()),
        )
        total += effects.run_sync(layer_handler().provide(layer))
    return total


# --- 7. spans without a tracer ----------------------------------------------------------------------
# `plain` is the same effects loop without `with_span`: the ratio is what a span costs when no
# tracer is installed (the default).

N_SPAN = 10_000


def span_free_effects() -> int:
    succeed = effects.succeed

    @gen
    def loop():
        total = 0
        for i in range(N_SPAN):
            total += yield from succeed(i)
        return total

    return effects.run_sync(loop())


def span_effects() -> int:
    succeed = effects.succeed

    @gen
    def loop():
        total = 0
        for i in range(N_SPAN):
            total += yield from succeed(i).with_span("step")
        return total

    return effects.run_sync(loop())


# --- 8. log lines nobody prints --------------------------------------------------------------------------------
# `plain` is the same effects loop without the log call: the ratio is what `effects.log` costs
# when its record goes nowhere (the default logger, through stdlib logging at its default
# WARNING level: an INFO line is dropped).

N_LOG = N_SPAN  # the plain loop is the span workload's


def log_effects() -> int:
    succeed, log = effects.succeed, effects.log

    @gen
    def loop():
        total = 0
        for i in range(N_LOG):
            yield from log("step")
            total += yield from succeed(i)
        return total

    return effects.run_sync(loop())


# --- 9. deep recursion --------------------------------------------------------------------------------------


def deep_chain_effects() -> int:
    e = effects.succeed(0)
    succeed = effects.succeed
    for _ in range(N_DEEP):
        e = e.flat_map(lambda x: succeed(x + 1))
    return effects.run_sync(e)


def deep_gen_effects() -> int:
    @gen
    def down(n: int):
        if n == 0:
            return 0
        return (yield from down(n - 1)) + 1

    return effects.run_sync(down(N_DEEP))


def deep_returns() -> int:
    from returns.result import Success

    def down(n: int) -> Any:
        return Success(0) if n == 0 else down(n - 1).map(lambda r: r + 1)

    return down(N_DEEP).unwrap()


def deep_expression() -> int:
    from expression import Ok

    def down(n: int) -> Any:
        return Ok(0) if n == 0 else down(n - 1).map(lambda r: r + 1)

    return down(N_DEEP).ok


def deep_python_effect() -> int:
    from effect import base_dispatcher, sync_perform
    from effect.do import do

    @do
    def down(n: int):
        if n == 0:
            return 0
        return (yield down(n - 1)) + 1

    return sync_perform(base_dispatcher, down(PYEFFECT_DEEP_N))


def deep_run(fn: Callable[[], Any]) -> dict[str, Any]:
    """Run once untraced for time and outcome, then once under tracemalloc for peak memory."""
    gc.collect()
    with _bench.Stopwatch() as watch:
        try:
            fn()
            outcome = "ok"
        except RecursionError:
            outcome = "RecursionError"
        except Exception as exc:  # a peer failing is a result, not a crash
            outcome = type(exc).__name__
    elapsed = watch.seconds * 1000
    peak_mb = None
    if outcome == "ok" and not QUICK:
        tracemalloc.start()
        fn()
        peak_mb = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
    return {"ms": round(elapsed, 1), "outcome": outcome, "peak_mb": peak_mb}


# --- driver -------------------------------------------------------------------------------------------------

WORKLOADS: dict[str, dict[str, Callable[[], Any] | None]] = {
    "chain 100k": {
        "plain": chain_plain,
        "effects": chain_effects,
        "returns": chain_returns,
        "expression": chain_expression,
        "python-effect": chain_python_effect,
    },
    "gen loop 100k": {
        "plain": gen_plain,
        "effects": gen_effects,
        "returns": None,
        "expression": gen_expression,
        "python-effect": gen_python_effect,
    },
    "fail+catch 10k": {
        "plain": fail_plain,
        "effects": fail_effects,
        "returns": fail_returns,
        "expression": fail_expression,
        "python-effect": fail_python_effect,
    },
    "run_sync 100k": {
        "plain": run_plain,
        "effects": run_effects,
        "returns": None,
        "expression": None,
        "python-effect": run_python_effect,
    },
    "service access 100k": {
        "plain": service_plain,
        "effects": service_effects,
        "returns": None,
        "expression": None,
        "python-effect": None,
    },
    "per-request layer 20k": {
        "plain": layer_plain,
        "effects": layer_effects,
        "returns": None,
        "expression": None,
        "python-effect": None,
    },
    "with_span 10k": {
        "plain": span_free_effects,
        "effects": span_effects,
        "returns": None,
        "expression": None,
        "python-effect": None,
    },
    "log 10k": {
        "plain": span_free_effects,
        "effects": log_effects,
        "returns": None,
        "expression": None,
        "python-effect": None,
    },
}

NOTES = {
    (
        "chain 100k",
        "python-effect",
    ): f"measured at n={PYEFFECT_CHAIN_N} (its chain is quadratic); ratio per step",
    ("gen loop 100k", "returns"): "no generator notation",
    ("fail+catch 10k", "plain"): "every contender raises/builds the same TaggedError class",
    ("run_sync 100k", "returns"): "no runtime: containers are eager",
    ("run_sync 100k", "expression"): "no runtime: containers are eager",
    ("with_span 10k", "effects"): "plain is the same effects loop without with_span (no tracer)",
    ("log 10k", "effects"): "plain is the loop without the log (its INFO record dropped)",
}
EFFECT_TS = "Effect-TS (Node)"
EFFECT_TS_LAYER_N = 2_000  # Effect 3's layer build costs ~300 µs: 20,000 would take a minute
JIT_NOTE = "V8's JIT, not CPython: context, not a target"
PEERS = ["effects", "returns", "expression", "python-effect", EFFECT_TS]
EFFECT_TS_WORKLOADS = list(WORKLOADS)[:6]  # PERFORMANCE.md's workloads 1-6


def effect_ts(workload: str) -> dict[str, Any] | _ts.Missing:
    """Effect-TS's versions and best ms for `workload` (if it runs it), from a Node process
    started just after the plain-Python baseline, so that both see the same machine load
    (the layer workload scaled from EFFECT_TS_LAYER_N builds to N_LAYER)."""
    if workload not in EFFECT_TS_WORKLOADS:
        return {"ms": {}}
    answer = _ts.run("effect_bench.ts", N, N_FAIL, EFFECT_TS_LAYER_N, REPEAT, workload)
    if not isinstance(answer, _ts.Missing) and workload == "per-request layer 20k":
        answer["ms"][workload] *= N_LAYER / EFFECT_TS_LAYER_N
    return answer


def effect_ts_note(workload: str) -> str:
    if workload == "per-request layer 20k":
        return f"{JIT_NOTE}; measured at n={EFFECT_TS_LAYER_N}, scaled to 20k"
    return JIT_NOTE


def main() -> None:
    results: dict[str, Any] = {"python": platform.python_version(), "workloads": {}, "deep": {}}
    results["missing"] = {}
    header = f"{'workload':<24}{'plain ms':>10}" + "".join(
        f"{p + ' ms':>{max(18, len(p) + 4)}}{'×':>7}" for p in PEERS
    )
    print(header)
    print("-" * len(header))
    for name, runners in WORKLOADS.items():
        plain = best_ms(runners["plain"])  # type: ignore[arg-type]
        node = effect_ts(name)
        if isinstance(node, _ts.Missing):
            node_ms: dict[str, float] | _ts.Missing = node
            results["missing"] = {EFFECT_TS: node.reason}
        else:
            node_ms = node["ms"]
            if "effect" in node:
                results["effect_ts"] = {"effect": node["effect"], "node": node["node"]}
        row: dict[str, Any] = {"plain_ms": round(plain, 2)}
        line = f"{name:<24}{plain:>10.2f}"
        for peer in PEERS:
            width = max(18, len(peer) + 4)
            if peer == EFFECT_TS:
                if isinstance(node_ms, _ts.Missing):
                    row[peer] = {"missing": node_ms.reason}
                    line += f"{'missing':>{width}}{'':>7}"
                    continue
                if name not in node_ms:
                    row[peer] = None
                    line += f"{'n/a':>{width}}{'':>7}"
                    continue
                ms = node_ms[name]
                ratio = ms / plain
                row[peer] = {"ms": round(ms, 2), "ratio": round(ratio, 2)}
                row[peer]["note"] = effect_ts_note(name)
                line += f"{ms:>{width - 1}.2f}*{ratio:>6.1f}×"
                continue
            fn = runners.get(peer)
            if fn is None:
                row[peer] = None
                line += f"{'n/a':>18}{'':>7}"
                continue
            ms = best_ms(fn, repeat=1 if peer == "python-effect" else REPEAT)
            scale = PYEFFECT_CHAIN_N / N if (name, peer) == ("chain 100k", "python-effect") else 1.0
            ratio = ms / (plain * scale)
            row[peer] = {"ms": round(ms, 2), "ratio": round(ratio, 2)}
            if (name, peer) in NOTES:
                row[peer]["note"] = NOTES[(name, peer)]
            mark = "*" if (name, peer) in NOTES else ""
            line += f"{ms:>17.2f}{mark:1}{ratio:>6.1f}×"
        results["workloads"][name] = row
        print(line)
    per_call_us = results["workloads"]["per-request layer 20k"]["effects"]["ms"] * 1000 / N_LAYER
    run_sync_us = (
        (
            results["workloads"]["run_sync 100k"]["effects"]["ms"]
            - results["workloads"]["run_sync 100k"]["plain_ms"]
        )
        * 1000
        / N
    )
    service_us = (
        (
            results["workloads"]["service access 100k"]["effects"]["ms"]
            - results["workloads"]["service access 100k"]["plain_ms"]
        )
        * 1000
        / N
    )
    span_us = (
        (
            results["workloads"]["with_span 10k"]["effects"]["ms"]
            - results["workloads"]["with_span 10k"]["plain_ms"]
        )
        * 1000
        / N_SPAN
    )
    log_us = (
        (
            results["workloads"]["log 10k"]["effects"]["ms"]
            - results["workloads"]["log 10k"]["plain_ms"]
        )
        * 1000
        / N_LOG
    )
    results["derived"] = {
        "per_request_layer_us": round(per_call_us, 2),
        "run_sync_overhead_us": round(run_sync_us, 3),
        "service_access_overhead_us": round(service_us, 3),
        "span_without_tracer_us": round(span_us, 3),
        "log_without_output_us": round(log_us, 3),
    }
    print("* see notes in the JSON:", "; ".join(f"{w} / {p}: {n}" for (w, p), n in NOTES.items()))
    if EFFECT_TS in results["missing"]:
        print(f"{EFFECT_TS} missing: {results['missing'][EFFECT_TS]}")
    else:
        print(f"* {EFFECT_TS}: {JIT_NOTE} (per-request layer at n={EFFECT_TS_LAYER_N}, scaled)")
    print(
        f"\nper-request layer: {per_call_us:.2f} µs/call · run_sync overhead: {run_sync_us:.3f} µs · "
        f"service access overhead: {service_us:.3f} µs · span without tracer: {span_us:.3f} µs"
        f" · log without output: {log_us:.3f} µs"
    )

    print(f"\n{'deep recursion (1M)':<34}{'ms':>10}{'outcome':>16}{'peak MB':>10}")
    deep = {
        "effects chain": deep_chain_effects,
        "effects recursive gen": deep_gen_effects,
        "returns recursive map": deep_returns,
        "expression recursive map": deep_expression,
        f"python-effect recursive do ({PYEFFECT_DEEP_N // 1000}k)": deep_python_effect,
    }
    for label, fn in deep.items():
        if QUICK and not label.startswith("effects"):
            continue
        r = deep_run(fn)
        results["deep"][label] = r
        peak = "-" if r["peak_mb"] is None else f"{r['peak_mb']:.1f}"
        print(f"{label:<34}{r['ms']:>10.1f}{r['outcome']:>16}{peak:>10}")

    out = Path(__file__).parent / "results" / "effects_bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    sys.setrecursionlimit(10_000)
    main()
