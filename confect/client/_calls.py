"""What both clients share: a reference resolved to its function (loading the app when a
reference needs one), values between confect's forms and the `convex` client's, a result
decoded by the function's validators, a declared error raised as its class."""

from __future__ import annotations

import importlib.util
import types
from typing import Any, cast

import attrs
import convex

from confect.app.functions import FunctionDefinition, Kind
from confect.app.registry import App, load_app
from confect.model.errors import ConvexError, ValidationError
from confect.model.validators import DocV, decode_any, encode_any, walk
from confect.model.values import Value, check_value, with_int64_markers

AppSource = App | types.ModuleType | str


@attrs.frozen
class Call:
    """One call: the function's path, its arguments as Convex values, and the function
    (None for a path the client has no app for), which decodes what comes back."""

    kind: Kind
    path: str
    args: dict[str, Value]
    function: FunctionDefinition[..., Any, Any] | None

    def run(self, client: convex.ConvexClient) -> Any:
        """Make the call with the `convex` client (blocking); its result, or its error."""
        run = {"query": client.query, "mutation": client.mutation}.get(self.kind, client.action)
        try:
            value = run(self.path, to_client(self.args))
        except convex.ConvexError as error:
            raise self.refused(error) from None
        return self.received(value)

    def received(self, value: Any) -> Any:
        """The caller's value of a result the `convex` client gave."""
        return self.result(from_client(value))

    def refused(self, error: convex.ConvexError) -> Exception:
        """The caller's error for a `ConvexError` the `convex` client raised."""
        return self.error(from_client(error.data), str(error))

    def result(self, value: Value) -> Any:
        """The caller's value of the function's result."""
        if self.function is None:
            return decode_any(value)
        return self.function.decode_result(value)

    def error(self, data: Value, message: str) -> Exception:
        """The declared error whose `errorData` is `data`, else confect's `ConvexError`."""
        if self.function is None:
            return ConvexError(data=decode_any(data), message=message)
        return self.function.decode_error(data)


class Functions:
    """Resolves references (definitions, or `module:name` paths) to calls. A path is
    resolved through `app` when given; a definition through the app it belongs to
    (`app`, else the package above its module that has a `schema` module), loaded once."""

    def __init__(self, app: AppSource | None) -> None:
        self._source = app
        self._apps: dict[str, App] = {}

    def call(self, kind: Kind, ref: FunctionDefinition[..., Any, Any] | str, args: Any) -> Call:
        function = self._function(kind, ref)
        if function is None:
            encoded = encode_any(args, "args")
            check_value(encoded, "args")
            return Call(kind, cast(str, ref), cast(dict[str, Value], encoded), None)
        assert function.path is not None
        return Call(kind, function.path, function.encode_args(args), function)

    def _function(
        self, kind: Kind, ref: FunctionDefinition[..., Any, Any] | str
    ) -> FunctionDefinition[..., Any, Any] | None:
        if isinstance(ref, str):
            if self._source is None:
                return None  # called untyped, its values as the `convex` client has them
            found = self._load(self._source).function(ref)
        elif isinstance(cast(object, ref), FunctionDefinition):
            found = ref
            self._load_app_of(found)
        else:
            raise ValidationError(path="function", message=f"{ref!r} is not a confect function")
        if found.kind != kind:
            raise ValidationError(
                path=found.name,
                message=f"is a {found.kind}, not a {kind}; call it as a {found.kind}",
            )
        if found.path is None:
            raise ValidationError(
                path=found.name,
                message="belongs to no app the client found: pass the app's package as app=",
            )
        return found

    def _load_app_of(self, function: FunctionDefinition[..., Any, Any]) -> None:
        if self._source is not None:
            self._load(self._source)
        if function.path is None or not _is_bound(function):
            package = _app_package_of(function)
            if package is not None:
                self._load(package)

    def _load(self, source: AppSource) -> App:
        key = _key(source)
        app = self._apps.get(key)
        if app is None:
            app = self._apps[key] = source if isinstance(source, App) else load_app(source)
            _bind_documents(app)
        return app


def _key(source: AppSource) -> str:
    if isinstance(source, str):
        return source
    return source.__name__ if isinstance(source, types.ModuleType) else f"app {id(source)}"


def _app_package_of(function: FunctionDefinition[..., Any, Any]) -> str | None:
    """The nearest package above the function's module that has a `schema` module."""
    parts = str(getattr(function.handler, "__module__", "")).split(".")
    for end in range(len(parts) - 1, 0, -1):
        package = ".".join(parts[:end])
        if importlib.util.find_spec(f"{package}.schema") is not None:
            return package
    return None


def _bind_documents(app: App) -> None:
    """Tell the `v.doc` validators of the app's functions their tables' validators, so
    documents decode into the tables' classes (a backend binds them when it starts; the
    table numbers, which only the server knows, are left as they are)."""
    documents = {name: table.validator for name, table in app.schema.tables.items()}
    for function in app.functions.values():
        for validator in (function.args, function.returns):
            for _, node in walk(validator):
                if isinstance(node, DocV) and node.validator is None:
                    node.validator = documents.get(node.table)


def _is_bound(function: FunctionDefinition[..., Any, Any]) -> bool:
    docs = [node for _, node in walk(function.returns) if isinstance(node, DocV)]
    return all(doc.validator is not None for doc in docs)


def to_client(value: Value) -> Any:
    """A Convex value as the `convex` client takes it (an int64 as a `ConvexInt64`)."""
    return with_int64_markers(value)


def from_client(value: Any) -> Value:
    """A value the `convex` client returned, as a Convex value (an int64 as an `int`)."""
    if isinstance(value, convex.ConvexInt64):
        return int(value.value)
    if isinstance(value, list):
        return [from_client(item) for item in cast(list[Any], value)]
    if isinstance(value, dict):
        return {str(k): from_client(item) for k, item in cast(dict[Any, Any], value).items()}
    return cast(Value, value)
