"""`Client`: calls a deployment's functions from scripts, workers and other services."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import TracebackType
from typing import Any, Generic, ParamSpec, TypeVar, overload

import convex

from confect.app.functions import (
    ActionDefinition,
    FunctionDefinition,
    Kind,
    MutationDefinition,
    QueryDefinition,
    call_args,
)
from confect.client._auth import Auth, Credentials
from confect.client._calls import AppSource, Call, Functions, to_client
from confect.client._pages import PAGINATION_OPTS, options, page_of
from confect.model.pagination import PaginationResult

A = TypeVar("A")
E = TypeVar("E")
T = TypeVar("T")
P = ParamSpec("P")


class Client:
    """A client of the deployment at `url`, over the official `convex` client (one
    WebSocket). Calls take a function's definition (or a ref to it) and its arguments as
    keywords, checked by pyright, or as one dict; or a `"module:name"` path. Results come
    back decoded by the function's `returns` (documents as their table's class, ids as
    `Id`s) and a declared error is raised as its class.

    `auth`: a user's JWT, or a function fetching one; `admin_key`: call as an admin
    (internal functions too). `app`: the app's package, to resolve paths into definitions
    (a definition needs none: its app is found from its module). `convex_client` is the
    `convex.ConvexClient` underneath; its calls block holding the GIL while they wait, so
    the process's other threads wait too (asyncio code: `AsyncClient`)."""

    def __init__(
        self,
        url: str,
        *,
        auth: Auth | None = None,
        admin_key: str | None = None,
        app: AppSource | None = None,
    ) -> None:
        self._credentials = Credentials(auth, admin_key)
        self.convex_client = convex.ConvexClient(url)
        self._functions = Functions(app)

    @overload
    def query(self, fn: QueryDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs) -> A: ...
    @overload
    def query(self, fn: QueryDefinition[..., A, E], args: Mapping[str, Any] | None, /) -> A: ...
    @overload
    def query(self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Any: ...
    def query(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Run a query; its result."""
        return self._run(self._call("query", fn, call_args(args, kwargs)))

    @overload
    def mutation(
        self, fn: MutationDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs
    ) -> A: ...
    @overload
    def mutation(
        self, fn: MutationDefinition[..., A, E], args: Mapping[str, Any] | None, /
    ) -> A: ...
    @overload
    def mutation(self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Any: ...
    def mutation(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Run a mutation; its result once it has committed."""
        return self._run(self._call("mutation", fn, call_args(args, kwargs)))

    @overload
    def action(self, fn: ActionDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs) -> A: ...
    @overload
    def action(self, fn: ActionDefinition[..., A, E], args: Mapping[str, Any] | None, /) -> A: ...
    @overload
    def action(self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any) -> Any: ...
    def action(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Run an action; its result."""
        return self._run(self._call("action", fn, call_args(args, kwargs)))

    @overload
    def subscribe(
        self, fn: QueryDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs
    ) -> Subscription[A]: ...
    @overload
    def subscribe(
        self, fn: QueryDefinition[..., A, E], args: Mapping[str, Any] | None, /
    ) -> Subscription[A]: ...
    @overload
    def subscribe(
        self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> Subscription[Any]: ...
    def subscribe(self, fn: Any, /, *args: Any, **kwargs: Any) -> Subscription[Any]:
        """Subscribe to a query: iterating gives its result now, then each time it changes
        (waiting for the change). Close it (or leave its `with` block) to unsubscribe."""
        call = self._call("query", fn, call_args(args, kwargs))
        return Subscription(self.convex_client.subscribe(call.path, to_client(call.args)), call)

    @overload
    def paginate(
        self,
        fn: QueryDefinition[..., PaginationResult[T], E],
        args: Mapping[str, Any] | None = None,
        /,
        *,
        page_size: int = ...,
        cursor: str | None = None,
        **kwargs: Any,
    ) -> Iterator[PaginationResult[T]]: ...
    @overload
    def paginate(
        self,
        fn: str,
        args: Mapping[str, Any] | None = None,
        /,
        *,
        page_size: int = ...,
        cursor: str | None = None,
        **kwargs: Any,
    ) -> Iterator[PaginationResult[Any]]: ...
    def paginate(
        self,
        fn: Any,
        args: Mapping[str, Any] | None = None,
        /,
        *,
        page_size: int = 100,
        cursor: str | None = None,
        **kwargs: Any,
    ) -> Iterator[PaginationResult[Any]]:
        """The pages of a paginated query (one taking `paginationOpts`), from `cursor` (the
        start if None) to the end, each of up to `page_size` items; the query's other
        arguments as keywords or one dict (not checked by pyright). A page's
        `continue_cursor` resumes after it."""
        given = dict(call_args((args,) if args is not None else (), kwargs))
        while True:
            page = page_of(self.query(fn, {**given, PAGINATION_OPTS: options(page_size, cursor)}))
            yield page
            if page.is_done:
                return
            cursor = page.continue_cursor

    def _call(self, kind: Kind, fn: FunctionDefinition[..., Any, Any] | str, args: Any) -> Call:
        self._credentials.apply(self.convex_client)
        return self._functions.call(kind, fn, args)

    def _run(self, call: Call) -> Any:
        return call.run(self.convex_client)


class Subscription(Generic[A]):
    """The results of a subscribed query, as they change: an iterator that waits for the
    next change. A declared error the query fails with is raised by `next`; iterating
    again waits for the next result."""

    def __init__(self, inner: convex.QuerySubscription, call: Call) -> None:
        self._inner = inner
        self._call = call
        self._closed = False

    def __iter__(self) -> Subscription[A]:
        return self

    def __next__(self) -> A:
        try:
            value = next(self._inner)
        except convex.ConvexError as error:
            raise self._call.refused(error) from None
        return self._call.received(value)

    def close(self) -> None:
        """Unsubscribe (once; again does nothing)."""
        if not self._closed:
            self._closed = True
            self._inner.unsubscribe()

    def __enter__(self) -> Subscription[A]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
