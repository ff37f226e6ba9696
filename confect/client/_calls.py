"""What both clients share: a reference resolved to its function (loading the app when a
reference needs one), values between confect's forms and the `convex` client's, a result
decoded by the function's validators, a declared error raised as its class, and the token
the client signs in with."""

from __future__ import annotations

import importlib.util
import time
import types
from collections.abc import Callable, Mapping
from typing import Any, cast

import attrs
import convex
import jwt

from confect.app.functions import FunctionDefinition, Kind
from confect.app.registry import App, load_app
from confect.model.errors import ConvexError, ValidationError
from confect.model.validators import DocV, decode_any, encode_any, walk
from confect.model.values import Value, check_value, with_int64_markers

Auth = str | Callable[[], str]
"""A JWT, or a function that fetches one (called again once the last one's `exp` is near)."""
AppSource = App | types.ModuleType | str

REFRESH_MARGIN = 60.0
"""How many seconds before its `exp` a fetched token is fetched again."""


@attrs.frozen
class Call:
    """One call, ready for the `convex` client: the function's path, its arguments in the
    client's forms, and the function (None for a path the client has no app for)."""

    kind: Kind
    path: str
    args: dict[str, Any]
    function: FunctionDefinition[..., Any, Any] | None

    def run(self, client: convex.ConvexClient) -> Any:
        """Make the call with `client` (blocking); its result, or its declared error."""
        run = {"query": client.query, "mutation": client.mutation}.get(self.kind, client.action)
        try:
            value = run(self.path, self.args)
        except convex.ConvexError as error:
            raise self.error(error) from None
        return self.result(value)

    def result(self, value: Any) -> Any:
        """The caller's value of what the `convex` client returned."""
        received = from_client(value)
        if self.function is None:
            return decode_any(received)
        return self.function.decode_result(received)

    def error(self, error: convex.ConvexError) -> Exception:
        """The declared error a `ConvexError` carries, or confect's `ConvexError`."""
        data = from_client(error.data)
        if self.function is None:
            return ConvexError(data=decode_any(data), message=str(error))
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
            return Call(kind, cast(str, ref), to_client(encoded), None)
        assert function.path is not None
        return Call(kind, function.path, to_client(function.encode_args(args)), function)

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


class Credentials:
    """Who the client calls as: an admin key, a user's token, or no one. A token fetcher
    is called before the first call, and again before a call once its token's `exp`
    claim is less than `REFRESH_MARGIN` seconds away."""

    def __init__(self, auth: Auth | None, admin_key: str | None) -> None:
        if auth is not None and admin_key is not None:
            raise ValueError("give a client auth= or admin_key=, not both")
        self._auth = auth
        self._admin_key = admin_key
        self._applied = False
        self._expires = float("inf")

    def apply(self, client: convex.ConvexClient) -> None:
        """Set `client`'s auth, if it is not set or its token is about to expire."""
        if self._applied and time.time() < self._expires - REFRESH_MARGIN:
            return
        if self._admin_key is not None:
            client.set_admin_auth(self._admin_key)
        elif isinstance(self._auth, str):
            client.set_auth(self._auth)
        elif self._auth is not None:
            token = self._auth()
            client.set_auth(token)
            self._expires = _expiry(token)
        self._applied = True


def _expiry(token: str) -> float:
    """A JWT's `exp` (seconds since the epoch), infinity if it has none or is no JWT."""
    try:
        claims: Mapping[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return float("inf")
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, (int, float)) else float("inf")
