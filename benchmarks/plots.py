"""The benchmark results as pictures: a PNG per benchmark beside its JSON in
benchmarks/results/, with bars of each workload's ratio to that workload's baseline (one
colour per contender) and the targets of shared/design/PERFORMANCE.md drawn as lines.

    python benchmarks/plots.py   (after the benchmarks; `make bench` runs it last)

A benchmark whose JSON is absent is skipped; a contender reported missing is drawn as the
word "missing" where its bar would be.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import matplotlib

matplotlib.use("Agg")  # files only: no display
import matplotlib.pyplot as plt

RESULTS = Path(__file__).parent / "results"
MISSING = None  # a contender's ratio when it could not be installed or run


@attrs.frozen
class Group:
    """One workload: each contender's ratio to the baseline, and the target ratio if any."""

    label: str
    ratios: dict[str, float | None]
    target: float | None = None


@attrs.frozen
class Panel:
    """One set of axes: groups of bars sharing a baseline's meaning."""

    title: str
    ylabel: str
    groups: list[Group]
    log: bool = False
    aligned: bool = True  # each contender in the same slot of every group (else packed)


# --- each benchmark's results as panels ---------------------------------------------------------

EFFECTS_TARGETS = {"chain 100k": 15.0, "gen loop 100k": 8.0, "fail+catch 10k": 5.0}
EFFECTS_TARGET_US = {  # µs targets, as (µs over plain per step, steps) or µs per call
    "run_sync 100k": (0.5, 100_000),
    "service access 100k": (0.3, 100_000),
}
LAYER_TARGET_US, LAYER_CALLS = 5.0, 20_000


def effects_target(workload: str, plain_ms: float) -> float | None:
    if workload in EFFECTS_TARGETS:
        return EFFECTS_TARGETS[workload]
    if workload in EFFECTS_TARGET_US:
        us, steps = EFFECTS_TARGET_US[workload]
        return (plain_ms + us * steps / 1000) / plain_ms
    if workload.startswith("per-request layer"):
        return LAYER_TARGET_US * LAYER_CALLS / 1000 / plain_ms
    return None


def effects_panels(data: dict[str, Any]) -> list[Panel]:
    groups = []
    for workload, row in data["workloads"].items():
        ratios: dict[str, float | None] = {}
        for peer, cell in row.items():
            if peer == "plain_ms" or cell is None:
                continue  # the baseline itself, or a peer without this workload
            ratios[peer] = MISSING if "missing" in cell else cell["ratio"]
        groups.append(Group(workload, ratios, effects_target(workload, row["plain_ms"])))
    return [
        Panel(
            "effects: time ÷ plain Python, same run (Effect-TS on Node is a JIT: context)",
            "× plain Python (log; lower is better)",
            groups,
            log=True,
        )
    ]


def confect_panels(data: dict[str, Any]) -> list[Panel]:
    machinery = []
    for name, figures in data["us"].items():
        base_label, base = next(iter(figures.items()))
        ratios = {label: us / base for label, us in list(figures.items())[1:]}
        machinery.append(Group(f"{name}\n(÷ {base_label})", ratios))
    panels = [
        Panel(
            "confect per call: time ÷ baseline",
            "× baseline (lower is better)",
            machinery,
            aligned=False,
        )
    ]
    vs = data.get("vs_confect_ts")
    if vs is not None:
        missing = bool(vs["missing"])
        groups = [
            Group(
                name,
                {
                    "ConfectTest": MISSING if missing else vs["ratio"][name],
                    "Convex TS alone": MISSING if missing else vs["ratio_convex_ts"][name],
                },
                target=1.0,
            )
            for name in vs["ConfectTest"]
        ]
        panels.append(
            Panel(
                "the benchmark app: ConfectTest time ÷ Confect TS under convex-test",
                "× Confect TS (log; lower is better)",
                groups,
                log=True,
            )
        )
    return panels


def sqlite_panels(data: dict[str, Any]) -> list[Panel]:
    lookup = data["lookup_us"]
    base_label, base = next(iter(lookup.items()))
    raw = data["raw_inserts_per_s"]
    inserts = [
        Group(
            f"{writers} writers", {"confect": per_s / raw}, target=1.0 if writers == "64" else None
        )
        for writers, per_s in data["inserts_per_s"].items()
    ]
    return [
        Panel(
            f"index lookup: time ÷ {base_label}",
            "× raw sqlite3 (lower is better)",
            [Group("index lookup", {k: us / base for k, us in list(lookup.items())[1:]})],
        ),
        Panel(
            "durable inserts/s ÷ a one-commit-per-insert sqlite3 loop",
            "× raw sqlite3 (higher is better)",
            inserts,
        ),
    ]


def server_panels(data: dict[str, Any]) -> list[Panel]:
    def versus_bare(per_s: dict[str, float]) -> dict[str, float | None]:
        return {k: v / per_s["starlette"] for k, v in per_s.items() if k != "starlette"}

    reads = [
        Group("query by index,\n1,000 keys", versus_bare(data["reads_per_s"]), target=1.0),
        Group("every key\ndistinct", versus_bare(data["distinct_reads_per_s"]), target=0.7),
    ]
    clients = data["writes_per_s"]["starlette"]
    writes = [
        Group(
            f"{n} clients",
            versus_bare({name: figures[n] for name, figures in data["writes_per_s"].items()}),
        )
        for n in clients
    ]
    return [
        Panel(
            "server reads: requests/s ÷ bare Starlette + sqlite3",
            "× bare (higher is better)",
            reads,
        ),
        Panel(
            "server inserts: commits/s ÷ bare Starlette + sqlite3",
            "× bare (higher is better)",
            writes,
        ),
    ]


def scale_out_panels(data: dict[str, Any]) -> list[Panel]:
    runs = data["runs"]
    groups = []
    for workload in next(iter(runs.values())):
        ratios: dict[str, float | None] = {}
        for stack in ("starlette", "confect"):
            one = runs[f"{stack} ×1"][workload]
            for processes in (2, 4):
                ratios[f"{stack} ×{processes}"] = runs[f"{stack} ×{processes}"][workload] / one
        groups.append(Group(workload, ratios, target=1.6 if "reads" in workload else None))
    return [
        Panel(
            "scale-out on PostgreSQL: throughput ÷ one process of the same stack",
            "× one process (higher is better)",
            groups,
        )
    ]


BENCHMARKS: dict[str, Callable[[dict[str, Any]], list[Panel]]] = {
    "effects_bench": effects_panels,
    "confect_bench": confect_panels,
    "sqlite_bench": sqlite_panels,
    "server_bench": server_panels,
    "scale_out_bench": scale_out_panels,
}


# --- drawing ---------------------------------------------------------------------------------------


def contenders(panels: list[Panel]) -> list[str]:
    """Every contender of the panels, in order of first appearance (one colour each)."""
    seen: dict[str, None] = {}
    for panel in panels:
        for group in panel.groups:
            seen.update(dict.fromkeys(group.ratios))
    return list(seen)


def draw(panels: list[Panel], out: Path) -> None:
    """Write the panels, one above the other, to the PNG `out`."""
    names = contenders(panels)
    colours = {name: plt.get_cmap("tab10")(i % 10) for i, name in enumerate(names)}
    legend_rows = (len(names) + 3) // 4
    height = 3.4 * len(panels) + 0.3 * legend_rows
    figure, axes = plt.subplots(len(panels), 1, figsize=(10, height), squeeze=False)
    for ax, panel in zip(axes[:, 0], panels, strict=True):
        draw_panel(ax, panel, colours)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[name]) for name in names]
    figure.legend(handles, names, loc="lower center", ncol=min(len(names), 4), fontsize=8)
    figure.tight_layout(rect=(0, 0.3 * legend_rows / height + 0.02, 1, 1))
    figure.savefig(out, dpi=72)
    plt.close(figure)


def draw_panel(ax: Any, panel: Panel, colours: dict[str, Any]) -> None:
    """A group of bars per workload."""
    target_drawn = False
    for x, group in enumerate(panel.groups):
        slots = contenders([panel]) if panel.aligned else list(group.ratios)
        width = 0.8 / len(slots)
        for name, ratio in group.ratios.items():
            centre = x - 0.4 + (slots.index(name) + 0.5) * width
            if ratio is MISSING:
                ax.text(centre, 1, "missing", rotation=90, ha="center", va="bottom", fontsize=7)
            else:
                ax.bar(centre, ratio, width * 0.9, color=colours[name])
        if group.target is not None:
            label = None if target_drawn else "target"
            ax.hlines(group.target, x - 0.45, x + 0.45, "crimson", "dashed", label=label)
            target_drawn = True
    ax.axhline(1.0, color="grey", linewidth=0.8)
    labels = [g.label if "\n" in g.label else g.label.replace(" ", "\n", 1) for g in panel.groups]
    ax.set_xticks(range(len(panel.groups)), labels, fontsize=8)
    ax.set_title(panel.title, fontsize=9)
    ax.set_ylabel(panel.ylabel, fontsize=8)
    if panel.log:
        ax.set_yscale("log")
    if target_drawn:
        ax.legend(loc="upper right", fontsize=7)


def main() -> None:
    for name, panels_of in BENCHMARKS.items():
        source = RESULTS / f"{name}.json"
        if not source.exists():
            print(f"{name}: no results ({source} is absent), no plot")
            continue
        out = source.with_suffix(".png")
        draw(panels_of(json.loads(source.read_text())), out)
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
