"""Function definitions: `@query`, `@mutation`, `@action`, their internal twins, `@http_action`."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any, ClassVar, Generic, Literal, ParamSpec, TypeVar, cast, overload

import attrs

from confect.model.errors import (
    ArgumentValidationError,
    ConvexError,
    InvalidValueError,
    SchemaError,
    ValidationError,
)
from confect.model.validators import ObjectV, Validator, decode_any, encode_any
from confect.model.values import Value, check_value
from effects import Effect, TaggedError, gen

A = TypeVar("A")
E = TypeVar("E")
P = ParamSpec("P")

Kind = Literal["query", "mutation", "action", "http_action"]
Visibility = Literal["public", "internal"]


@attrs.define(eq=False)
class FunctionDefinition(Generic[P, A, E]):
    """A registered confect function. Call it through a runner, a client or `ConfectTest`.

    `P` is its handler's parameters (what the args validators give), `A` its result and
    `E` its typed errors. Each kind has its own subclass, so that a runner takes only the
    kind it runs; public and internal functions share the class (`visibility` tells)."""

    kind: Kind
    visibility: Visibility
    handler: Callable[P, Effect[A, E, Any]]
    args: ObjectV[dict[str, Any]] | None
    returns: Validator[Any] | None
    errors: tuple[type[TaggedError], ...]
    path: str | None = None  # "module:name", set when the app is loaded

    @property
    def name(self) -> str:
        return self.path or getattr(self.handler, "__qualname__", "<function>")

    def decode_args(self, args: Value) -> dict[str, Any]:
        """The handler's keyword arguments from Convex-valued `args` (validated)."""
        if not isinstance(args, dict):
            raise ArgumentValidationError(path="args", message=f"expected an object, got {args!r}")
        if self.args is None:
            return {name: decode_any(value) for name, value in args.items()}
        try:
            return self.args.decode(args, "args")
        except ValidationError as error:
            raise ArgumentValidationError(path=error.path, message=error.message) from None

    def encode_args(self, args: Mapping[str, Any]) -> dict[str, Value]:
        """Convex-valued args from Python values (validated, and checked as Convex checks
        every value: field names, nesting)."""
        encoded = (
            self.args.encode(args, "args") if self.args is not None else encode_any(args, "args")
        )
        assert isinstance(encoded, dict)
        check_value(encoded, "args")
        return encoded

    def encode_result(self, value: Any) -> Value:
        """The Convex value of what the handler returned (checked by `returns`, and as
        Convex checks every value)."""
        if self.returns is None:
            encoded = encode_any(value, "return value")
        else:
            encoded = self.returns.encode(value, "return value")
        check_value(encoded, "return value")
        return encoded

    def decode_result(self, value: Value) -> Any:
        """What a Python caller gets back (a `Doc` for `v.doc(...)`, attrs objects, ...)."""
        if self.returns is None:
            return decode_any(value)
        return self.returns.decode(value, "return value")

    def error_data(self, error: object) -> Value | None:
        """The `errorData` for a declared typed error, None for any other failure, and for
        data that is not a Convex value (the failure's message still shows it)."""
        try:
            data = self._error_data(error)
            if data is not None:
                check_value(data, "error data")
        except (ValidationError, InvalidValueError):
            return None
        return data

    def _error_data(self, error: object) -> Value | None:
        if isinstance(error, ConvexError):
            return encode_any(error.data, "error data")
        if isinstance(error, self.errors):
            fields = encode_any(error, "error")
            assert isinstance(fields, dict)
            return {"_tag": type(error)._tag, **fields}  # pyright: ignore[reportPrivateUsage]
        return None

    def decode_error(self, data: Value) -> TaggedError:
        """The typed error for `errorData`, or a `ConvexError` when it is not a declared one
        (its values as values without a validator decode: an int64 is a `ConvexInt64`)."""
        data = decode_any(data)
        if isinstance(data, dict):
            tag = data.get("_tag")
            for cls in self.errors:
                if cls._tag == tag:  # pyright: ignore[reportPrivateUsage]
                    fields = {k: x for k, x in data.items() if k != "_tag"}
                    try:
                        return cls(**fields)
                    except TypeError:
                        break
        return ConvexError(data=data)


@attrs.define(eq=False)
class QueryDefinition(FunctionDefinition[P, A, E]):
    """A query (`@query`, `@internal_query`)."""


@attrs.define(eq=False)
class MutationDefinition(FunctionDefinition[P, A, E]):
    """A mutation (`@mutation`, `@internal_mutation`)."""


@attrs.define(eq=False)
class ActionDefinition(FunctionDefinition[P, A, E]):
    """An action (`@action`, `@internal_action`)."""


@attrs.define(eq=False)
class HttpActionDefinition(FunctionDefinition[P, A, E]):
    """An HTTP action (`@http_action`): its handler takes the request."""


def call_args(positional: tuple[Any, ...], keywords: Mapping[str, Any]) -> Mapping[str, Any]:
    """The arguments of a call like `run_query(fn, ...)`: its keywords, or its one
    positional Convex-shaped dict (or None), not both."""
    if not positional:
        return keywords
    if len(positional) == 1 and (positional[0] is None or isinstance(positional[0], Mapping)):
        if keywords:
            raise TypeError("pass a function's arguments as keywords or as one dict, not both")
        return cast(Mapping[str, Any], positional[0] or {})
    raise TypeError(
        f"pass a function's arguments as keywords or as one dict, not positionally: {positional!r}"
    )


def _refuse_unmatched_parameters(handler: Callable[..., Any], keys: Sequence[str]) -> None:
    """A SchemaError unless `handler` takes exactly the args validators' keys as keywords."""
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):  # no signature to read (a builtin, ...)
        return
    name = f"{getattr(handler, '__module__', '?')}.{getattr(handler, '__qualname__', handler)}"
    by_keyword = [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if any(p.kind is p.POSITIONAL_ONLY for p in parameters):
        raise SchemaError(message=f"{name}: its parameters are passed by keyword, not position")
    if unvalidated := [p for p in by_keyword if p not in keys]:
        raise SchemaError(message=f"{name}: parameters {unvalidated} have no args validator")
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return
    if untaken := [k for k in keys if k not in by_keyword]:
        raise SchemaError(message=f"{name}: takes no parameter for args {untaken}")


class _Wrap:
    """Turns a handler into a definition of its kind (the second step of `@query(...)`)."""

    definition: ClassVar[type[FunctionDefinition[..., Any, Any]]]

    def __init__(
        self,
        visibility: Visibility,
        args: Mapping[str, Validator[Any]] | None,
        returns: Validator[Any] | None,
        errors: Sequence[type[TaggedError]],
    ) -> None:
        self._visibility: Visibility = visibility
        self._arg_names = list(args) if args is not None else None
        self._args: ObjectV[dict[str, Any]] | None = (
            ObjectV(dict(args)) if args is not None else None
        )
        self._returns = returns
        self._errors = tuple(errors)

    def _define(self, handler: Callable[..., Any]) -> Any:
        if self._arg_names is not None:
            _refuse_unmatched_parameters(handler, self._arg_names)
        as_effect = gen(handler) if inspect.isgeneratorfunction(handler) else handler
        return self.definition(
            _KINDS[self.definition],
            self._visibility,
            as_effect,
            self._args,
            self._returns,
            self._errors,
        )


class _QueryWrap(_Wrap):
    definition = QueryDefinition

    @overload
    def __call__(
        self, handler: Callable[P, Generator[Effect[Any, E, Any], Any, A]]
    ) -> QueryDefinition[P, A, E]: ...
    @overload
    def __call__(self, handler: Callable[P, Effect[A, E, Any]]) -> QueryDefinition[P, A, E]: ...
    def __call__(self, handler: Callable[..., Any]) -> Any:
        return self._define(handler)


class _MutationWrap(_Wrap):
    definition = MutationDefinition

    @overload
    def __call__(
        self, handler: Callable[P, Generator[Effect[Any, E, Any], Any, A]]
    ) -> MutationDefinition[P, A, E]: ...
    @overload
    def __call__(self, handler: Callable[P, Effect[A, E, Any]]) -> MutationDefinition[P, A, E]: ...
    def __call__(self, handler: Callable[..., Any]) -> Any:
        return self._define(handler)


class _ActionWrap(_Wrap):
    definition = ActionDefinition

    @overload
    def __call__(
        self, handler: Callable[P, Generator[Effect[Any, E, Any], Any, A]]
    ) -> ActionDefinition[P, A, E]: ...
    @overload
    def __call__(self, handler: Callable[P, Effect[A, E, Any]]) -> ActionDefinition[P, A, E]: ...
    def __call__(self, handler: Callable[..., Any]) -> Any:
        return self._define(handler)


class _HttpActionWrap(_Wrap):
    definition = HttpActionDefinition

    @overload
    def __call__(
        self, handler: Callable[P, Generator[Effect[Any, E, Any], Any, A]]
    ) -> HttpActionDefinition[P, A, E]: ...
    @overload
    def __call__(
        self, handler: Callable[P, Effect[A, E, Any]]
    ) -> HttpActionDefinition[P, A, E]: ...
    def __call__(self, handler: Callable[..., Any]) -> Any:
        return self._define(handler)


_KINDS: dict[type[FunctionDefinition[..., Any, Any]], Kind] = {
    QueryDefinition: "query",
    MutationDefinition: "mutation",
    ActionDefinition: "action",
    HttpActionDefinition: "http_action",
}

W = TypeVar("W", bound=_Wrap)


class _Definer(Generic[W]):
    """`@query(args=..., returns=..., errors=...)` and its siblings."""

    def __init__(self, wrap: type[W], visibility: Visibility, doc: str) -> None:
        self._wrap = wrap
        self._visibility: Visibility = visibility
        self.__doc__ = doc

    def __call__(
        self,
        *,
        args: Mapping[str, Validator[Any]] | None = None,
        returns: Validator[Any] | None = None,
        errors: Sequence[type[TaggedError]] = (),
    ) -> W:
        return self._wrap(self._visibility, args, returns, errors)


query = _Definer(
    _QueryWrap, "public", "A public query: reads the database, reactive, deterministic."
)
mutation = _Definer(_MutationWrap, "public", "A public mutation: a serializable transaction.")
action = _Definer(
    _ActionWrap,
    "public",
    "A public action: may do I/O; calls queries and mutations through runners.",
)
internal_query = _Definer(
    _QueryWrap, "internal", "A query only other functions and admins can call."
)
internal_mutation = _Definer(
    _MutationWrap, "internal", "A mutation only other functions and admins can call."
)
internal_action = _Definer(
    _ActionWrap, "internal", "An action only other functions and admins can call."
)
http_action = _Definer(
    _HttpActionWrap,
    "public",
    "A handler for an HTTP route; gets the request, returns a response.",
)
