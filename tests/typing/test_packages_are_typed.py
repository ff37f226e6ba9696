"""The packages say they are typed (PEP 561 `py.typed`), so an app checked with pyright
strict outside this repository gets their types, not "Stub file not found"."""

import json
import subprocess
import sys
from pathlib import Path

APP = """\
import effects
from confect import ConvexError, define_schema, define_table, v

schema = define_schema(notes=define_table({"text": v.string()}))
answer: int = effects.run_sync(effects.succeed(42))
error = ConvexError("no")
"""


def test_an_app_outside_the_repository_sees_the_packages_as_typed(tmp_path: Path):
    (tmp_path / "app.py").write_text(APP)
    venv = Path(sys.prefix)
    config = {"typeCheckingMode": "strict", "venvPath": str(venv.parent), "venv": venv.name}
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(config))
    pyright = venv / "bin" / "pyright"
    checked = subprocess.run(
        [str(pyright), "--outputjson", "app.py"], cwd=tmp_path, capture_output=True, text=True
    )
    report = json.loads(checked.stdout)
    rules = [d.get("rule") for d in report["generalDiagnostics"]]
    assert "reportMissingTypeStubs" not in rules, report["generalDiagnostics"]
    assert report["summary"]["errorCount"] == 0, report["generalDiagnostics"]
