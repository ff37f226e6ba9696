"""`confect codegen`: the files of an app's `_generated/` package, typed for its schema
and functions.

`services.py`, `docs.py` and `refs.py` type the app's Python code (pyright sees its
tables and functions; at run time they are confect's own services and the functions'
paths); `api.d.ts`, `dataModel.d.ts` and `api.js` let a TypeScript client call the app
with the `convex` npm package, its arguments and results type-checked. The files depend
only on the app, byte for byte, so a stale `_generated/` is found by comparing them.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

from confect.app.registry import App, load_app
from confect.codegen._python import render_docs, render_init, render_refs, render_services
from confect.codegen._typescript import render_api_d_ts, render_api_js, render_data_model_d_ts
from confect.model.schema import Schema, define_schema

GENERATED = "_generated"
"""The name of the package codegen writes inside the app."""


def generate(app: App, package: str) -> dict[str, str]:
    """The generated files of `app` (loaded as the package named `package`) by name."""
    return {
        "__init__.py": render_init(),
        "api.d.ts": render_api_d_ts(app),
        "api.js": render_api_js(),
        "dataModel.d.ts": render_data_model_d_ts(app),
        "docs.py": render_docs(app, package),
        "refs.py": render_refs(app),
        "services.py": render_services(app, package),
    }


def stale_files(app: App, package: str, directory: Path) -> list[str]:
    """The files of `directory` (the app's `_generated/`) that are missing or differ from
    what `generate` makes now."""
    return [
        name
        for name, text in generate(app, package).items()
        if not (directory / name).is_file() or (directory / name).read_text() != text
    ]


def write(app: App, package: str, directory: Path) -> list[str]:
    """Write the generated files into `directory`; the names of those that changed (a
    file that is already up to date is left untouched, so watchers see no change)."""
    changed = stale_files(app, package, directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = generate(app, package)
    for name in changed:
        (directory / name).write_text(files[name])
    return changed


def load_generating(package: str) -> App:
    """Load the app `package` (importable) to generate its files. If it fails to import
    (its modules import a `_generated/` that is missing, or lacks the document class of a
    new table), first write what the schema alone gives (`docs.py`, and the files that are
    missing, without functions), then load it again: the caller writes the whole."""
    try:
        return load_app(package)
    except ImportError:
        root = importlib.import_module(package)
        directory = Path(root.__file__ or ".").parent / GENERATED
        _forget(package)
        _write_from_schema(_schema_alone(package), package, directory)
        _forget(package)
        return load_app(package)


def _write_from_schema(schema: Schema, package: str, directory: Path) -> None:
    """`docs.py` (which depends on the schema only) and the missing files, as an app of
    `schema` without functions has them."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in generate(App({}, schema), package).items():
        path = directory / name
        if name == "docs.py" or not path.exists():
            path.write_text(text)


def _schema_alone(package: str) -> Schema:
    """The schema of `package` (in its `schema` module), importing no other module of it."""
    try:
        module = importlib.import_module(f"{package}.schema")
    except ModuleNotFoundError:
        return define_schema()
    found = [value for value in vars(module).values() if isinstance(value, Schema)]
    return found[0] if found else define_schema()


def _forget(package: str) -> None:
    """Drop the modules of `package` that were imported, so they import afresh."""
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]
    importlib.invalidate_caches()


__all__ = ["GENERATED", "generate", "load_generating", "stale_files", "write"]
