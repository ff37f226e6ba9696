"""The benchmark scripts' pieces run, at tiny sizes: the TypeScript peers under Node (when
benchmarks/ts is installed), the benchmark app through ConfectTest, and the plots.

Nothing here times anything: these tests check that the benchmarks can run and say what
they measured, never how fast."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

BENCHMARKS = Path(__file__).parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _ts  # noqa: E402
import confect_bench  # noqa: E402

TS_INSTALLED = shutil.which("node") is not None and (_ts.TS / "node_modules/.bin/esbuild").exists()
needs_ts = pytest.mark.skipif(
    not TS_INSTALLED, reason="node or benchmarks/ts/node_modules (npm ci there) is missing"
)


@needs_ts
def test_effect_ts_runs_workloads_1_to_6() -> None:
    answer = _ts.run("effect_bench.ts", 20, 5, 2, 1)

    assert not isinstance(answer, _ts.Missing), answer
    assert answer["effect"].startswith("3.")
    assert list(answer["ms"]) == [
        "chain 100k",
        "gen loop 100k",
        "fail+catch 10k",
        "run_sync 100k",
        "service access 100k",
        "per-request layer 20k",
    ]
    assert all(ms >= 0 for ms in answer["ms"].values())


@needs_ts
def test_confect_ts_runs_the_benchmark_app_under_convex_test() -> None:
    answer = _ts.run("confect_bench.ts", 2, 1)

    assert not isinstance(answer, _ts.Missing), answer
    assert list(answer["us"]) == ["confect", "plain"]
    assert all(list(us) == list(confect_bench.APP_CALLS) for us in answer["us"].values())
    assert answer["confect"] == "2.0.0"


@needs_ts
def test_a_script_that_fails_is_reported_missing_with_its_error() -> None:
    unbuilt = _ts.run("no_such_script.ts")
    failed = _ts.run("effect_bench.ts", 1, 1, 1, 1, "no such workload")

    assert isinstance(unbuilt, _ts.Missing)
    assert "no_such_script.ts" in unbuilt.reason
    assert failed == _ts.Missing(
        'effect_bench.ts failed: Error: no workload named "no such workload"'
    )


def test_the_benchmark_app_answers_each_call_through_confect_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS / "apps"))
    monkeypatch.setattr(confect_bench, "N_APP", 2)
    monkeypatch.setattr(confect_bench, "REPEAT_APP", 1)
    t = confect_bench.ConfectTest("benchapp")

    assert t.action("items:insert_then_get", {"key": "a", "n": 2}) == {"key": "a", "n": 2.0}
    for call in confect_bench.APP_CALLS.values():
        assert confect_bench.confect_test_us(call) > 0


def test_plots_draw_every_benchmark_with_a_missing_peer_marked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("matplotlib", reason="matplotlib (the dev extra) is not installed")
    import plots

    effects: dict[str, Any] = {
        "workloads": {
            "chain 100k": {
                "plain_ms": 2.0,
                "effects": {"ms": 6.0, "ratio": 3.0},
                "returns": None,
                "Effect-TS (Node)": {"missing": "node is not on PATH"},
            }
        }
    }
    (tmp_path / "effects_bench.json").write_text(json.dumps(effects))
    monkeypatch.setattr(plots, "RESULTS", tmp_path)

    plots.main()

    assert (tmp_path / "effects_bench.png").read_bytes().startswith(b"\x89PNG")
    assert not (tmp_path / "server_bench.png").exists()  # no results, no plot
    [panel] = plots.effects_panels(effects)
    assert panel.groups[0].ratios == {"effects": 3.0, "Effect-TS (Node)": None}
    assert panel.groups[0].target == 15.0
