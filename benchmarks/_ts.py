"""The TypeScript peers of the benchmarks: a script of `benchmarks/ts/` built with esbuild
and run under Node, its JSON answer read back, or why it could not be run.

Not a benchmark itself (its name starts with `_`); the scripts beside it import it. The npm
packages come from `benchmarks/ts/package-lock.json` (`make bench` runs `npm ci` there).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import attrs

TS = Path(__file__).parent / "ts"
BUILD = TS / "build"  # inside benchmarks/ts, so that the built scripts find its node_modules


@attrs.frozen
class Missing:
    """A peer that could not be installed or run, and why (shown in the tables)."""

    reason: str


def run(script: str, *args: int | str, timeout: float = 900) -> dict[str, Any] | Missing:
    """The JSON that `benchmarks/ts/SCRIPT` (a .ts file) prints when run with `args`."""
    node = shutil.which("node")
    if node is None:
        return Missing("node is not on PATH")
    esbuild = TS / "node_modules" / ".bin" / "esbuild"
    if not esbuild.exists():
        return Missing("benchmarks/ts/node_modules is not installed (`npm ci` in benchmarks/ts)")
    built = BUILD / Path(script).with_suffix(".js").name
    build = subprocess.run(
        [
            *(str(esbuild), str(TS / script), "--bundle", "--platform=node", "--format=esm"),
            *("--packages=external", f"--outfile={built}", "--log-level=error"),
        ],
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        return Missing(f"esbuild could not build {script}: {_error_line(build.stderr)}")
    try:
        ran = subprocess.run(
            [node, str(built), *map(str, args)], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return Missing(f"{script} did not finish within {timeout:.0f} s")
    if ran.returncode != 0:
        return Missing(f"{script} failed: {_error_line(ran.stderr)}")
    return json.loads(ran.stdout.strip().splitlines()[-1])


def _error_line(stderr: str) -> str:
    """The line of `stderr` naming the error (Node ends its report with its own version)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    named = [line for line in lines if re.match(r"(\w*Error|error)\b", line)]
    return (named or lines or ["(no output)"])[0]
