"""`@paginated_query` and `@internal_paginated_query`: queries in Convex's paginated
convention, as Confect's `publicPaginatedQuery`. Their arguments are the declared ones plus
`paginationOpts` (`v.pagination_opts()`), their result `v.pagination_result(item)`, the
shape `usePaginatedQuery` and the other clients' pagination expect."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Generator, Mapping, Sequence
from typing import Any, Protocol, TypeVar, cast, overload

from confect.app.functions import QueryDefinition, internal_query, query
from confect.model.errors import SchemaError
from confect.model.pagination import PaginationResult
from confect.model.validators import Validator, v
from effects import Effect, TaggedError, gen

PAGINATION_OPTS = "paginationOpts"
PARAMETER = "pagination_opts"

T = TypeVar("T")
E = TypeVar("E")
Handler = Callable[..., Any]


class Decorator(Protocol):
    """Turns a handler returning a `PaginationResult[T]` (failing with `E`) into a
    `QueryDefinition[..., PaginationResult[T], E]` (its arguments are not typed: the
    handler's `pagination_opts` is the wire's `paginationOpts`)."""

    @overload
    def __call__(
        self, handler: Callable[..., Generator[Effect[Any, E, Any], Any, PaginationResult[T]]]
    ) -> QueryDefinition[..., PaginationResult[T], E]: ...
    @overload
    def __call__(
        self, handler: Callable[..., Effect[PaginationResult[T], E, Any]]
    ) -> QueryDefinition[..., PaginationResult[T], E]: ...


def paginated_query(
    *,
    item: Validator[Any],
    args: Mapping[str, Validator[Any]] | None = None,
    errors: Sequence[type[TaggedError]] = (),
) -> Decorator:
    """A public paginated query whose pages hold values of `item`. Its handler takes
    `pagination_opts` (the `PaginationOptions` the client sent as `paginationOpts`) and
    the declared `args`, and returns a `PaginationResult`: what `.paginate(pagination_opts)`
    gives, or one with its page mapped. Do not declare `paginationOpts` in `args`."""
    return _paginated(query, item, args, errors)


def internal_paginated_query(
    *,
    item: Validator[Any],
    args: Mapping[str, Validator[Any]] | None = None,
    errors: Sequence[type[TaggedError]] = (),
) -> Decorator:
    """A paginated query only other functions and admins can call (see `paginated_query`)."""
    return _paginated(internal_query, item, args, errors)


def _paginated(
    definer: Callable[..., Callable[[Handler], QueryDefinition[..., Any, Any]]],
    item: Validator[Any],
    args: Mapping[str, Validator[Any]] | None,
    errors: Sequence[type[TaggedError]],
) -> Decorator:
    own = dict(args or {})
    if PAGINATION_OPTS in own:
        raise SchemaError(
            message=f"a paginated query declares no {PAGINATION_OPTS!r} argument: it is added"
        )
    every = {**own, PAGINATION_OPTS: v.pagination_opts()}
    define = definer(args=every, returns=v.pagination_result(item), errors=errors)

    def decorate(handler: Handler) -> QueryDefinition[..., Any, Any]:
        as_effect = gen(handler) if inspect.isgeneratorfunction(handler) else handler

        @functools.wraps(handler)
        def run(**given: Any) -> Effect[Any, Any, Any]:
            options = given.pop(PAGINATION_OPTS)
            return as_effect(**{PARAMETER: options}, **given)

        signature = _wire_signature(handler)
        if signature is not None:
            run.__signature__ = signature  # pyright: ignore[reportAttributeAccessIssue]
        return define(run)

    return cast(Decorator, decorate)


def _wire_signature(handler: Handler) -> inspect.Signature | None:
    """`handler`'s signature with `pagination_opts` named as the argument it comes from, so
    that `@query` checks the handler's parameters against the arguments."""
    try:
        signature = inspect.signature(handler)
    except (TypeError, ValueError):  # no signature to read (a builtin, ...)
        return None
    parameters = [
        p.replace(name=PAGINATION_OPTS) if p.name == PARAMETER else p
        for p in signature.parameters.values()
    ]
    return signature.replace(parameters=parameters)
