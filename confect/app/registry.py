"""An app: a Python package whose modules hold functions, plus its schema, crons and routes.

Function paths are `module:name`, the module relative to the app package, folders joined
with `/` (`messages/admin:list`), as Convex names them.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
import types
from typing import Any, cast

from confect.app.crons import Crons
from confect.app.functions import FunctionDefinition
from confect.model.errors import FunctionNotFoundError
from confect.model.schema import Schema, define_schema, refuse_unknown_tables
from effects import Layer


class App:
    """The loaded app: functions by path, schema, crons, HTTP routes (`http.py`), auth
    providers (`auth_config.py`), and `layer`: the app's own services (from
    `services.py`), built once per deployment."""

    def __init__(
        self,
        functions: dict[str, FunctionDefinition[..., Any, Any]],
        schema: Schema,
        crons: Crons | None = None,
        http: Any = None,
        layer: Layer[Any, Any, Any] | None = None,
        auth_providers: list[Any] | None = None,
    ) -> None:
        self.functions = functions
        self.layer = layer
        self.auth_providers = auth_providers or []  # JwtProviders, from auth_config.py
        self.schema = schema
        self.crons = crons or Crons()
        self.http = http
        for path, function in functions.items():
            function.path = path
            refuse_unknown_tables(f"{path} args", function.args, schema)
            refuse_unknown_tables(f"{path} returns", function.returns, schema)

    def function(self, path: str) -> FunctionDefinition[..., Any, Any]:
        """The function at `path` (`module:name`; no `:` means `module:default`)."""
        if ":" not in path:
            path = f"{path}:default"
        path = path.removesuffix(".js")
        found = self.functions.get(path) or self.functions.get(path.replace(".js:", ":"))
        if found is None:
            raise FunctionNotFoundError(path=path)
        return found

    def path_of(self, function: FunctionDefinition[..., Any, Any]) -> str | None:
        return function.path if self.functions.get(function.path or "") is function else None


def load_app(package: types.ModuleType | str) -> App:
    """Import every module of `package` (tests aside) and collect its functions, and the
    `schema`, `crons`, `http` and services `layer` of the modules so named."""
    root = importlib.import_module(package) if isinstance(package, str) else package
    if root.__name__ in _loading:
        raise RuntimeError(
            f"the app {root.__name__!r} was used while its modules were being imported "
            "(refs used at import?): use its refs inside handlers"
        )
    _loading.add(root.__name__)
    try:
        return _load(root)
    finally:
        _loading.discard(root.__name__)


_loading: set[str] = set()
"""The apps whose modules are being imported by `load_app`."""


def _load(root: types.ModuleType) -> App:
    modules: dict[str, types.ModuleType] = {}
    if hasattr(root, "__path__"):
        for info in pkgutil.walk_packages(root.__path__, prefix=root.__name__ + "."):
            if _is_test_module(info.name.removeprefix(root.__name__ + ".")):
                continue
            modules[info.name.removeprefix(root.__name__ + ".").replace(".", "/")] = (
                importlib.import_module(info.name)
            )
    else:
        modules[root.__name__.rsplit(".", 1)[-1]] = root
    functions: dict[str, FunctionDefinition[..., Any, Any]] = {}
    schema: Schema | None = None
    crons: Crons | None = None
    http: Any = None
    layer: Layer[Any, Any, Any] | None = None
    providers: list[Any] = []
    for module_path, module in sorted(modules.items()):
        for name, found in vars(module).items():
            value: Any = found
            if isinstance(value, FunctionDefinition) and _defined_in(cast(Any, value), module):
                functions[f"{module_path}:{name}"] = cast(FunctionDefinition[..., Any, Any], value)
            elif isinstance(value, Schema) and module_path.endswith("schema"):
                schema = value
            elif isinstance(value, Crons) and module_path.endswith("crons"):
                crons = value
            elif name == "http" and module_path.endswith("http"):
                http = cast(Any, value)
            elif name == "providers" and module_path.endswith("auth_config"):
                providers = list(cast(list[Any], value))
            elif isinstance(value, Layer) and module_path.endswith("services") and name == "layer":
                layer = cast(Layer[Any, Any, Any], value)
    return App(functions, schema or define_schema(), crons, http, layer, providers)


def _is_test_module(name: str) -> bool:
    """Tests, and the `_generated` package `confect codegen` writes (which holds no
    functions), are not the app's modules."""
    return any(
        part in ("tests", "_generated") or part.startswith("test_") for part in name.split(".")
    )


def _defined_in(function: FunctionDefinition[..., Any, Any], module: types.ModuleType) -> bool:
    return getattr(function.handler, "__module__", module.__name__) == module.__name__


class _Namespace:
    """`refs.api.notes.list_by_author`: attribute access over function paths."""

    def __init__(self, entries: dict[str, Any], where: str) -> None:
        self._entries = entries
        self._where = where

    def __getattr__(self, name: str) -> Any:
        try:
            return self._entries[name]
        except KeyError:
            raise AttributeError(f"no function or module {name!r} in {self._where}") from None

    def __dir__(self) -> list[str]:
        return sorted(self._entries)


class Refs:
    """`confect.refs(app)`: `.api` holds public functions, `.internal` internal ones.

    The app is loaded when first used, not when the refs are made, so a module of the app
    may make them at import (`refs = confect.refs("myapp")` in `myapp/refs.py`) and any
    module import them; only using them while the app's modules import is an error."""

    def __init__(self, app: App | types.ModuleType | str) -> None:
        self._source = app

    @functools.cached_property
    def app(self) -> App:
        return self._source if isinstance(self._source, App) else load_app(self._source)

    @functools.cached_property
    def api(self) -> _Namespace:
        return _tree(self.app, "public", "api")

    @functools.cached_property
    def internal(self) -> _Namespace:
        return _tree(self.app, "internal", "internal")


def _tree(app: App, visibility: str, root: str) -> _Namespace:
    tree: dict[str, Any] = {}
    for path, function in app.functions.items():
        if function.visibility != visibility:
            continue
        module, name = path.split(":")
        node = tree
        for part in module.split("/"):
            node = node.setdefault(part, {})
        node[name] = function
    return _build(tree, root)


def _build(tree: dict[str, Any], where: str) -> _Namespace:
    return _Namespace(
        {
            k: _build(cast(dict[str, Any], x), f"{where}.{k}") if isinstance(x, dict) else x
            for k, x in tree.items()
        },
        where,
    )


def refs(app: App | types.ModuleType | str) -> Refs:
    """Function references of an app, for discovery and for clients (loaded when used)."""
    return Refs(app)
