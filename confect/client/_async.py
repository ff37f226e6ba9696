"""`AsyncClient`: `Client` for asyncio code."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
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
from confect.client._http import post
from confect.client._pages import PAGINATION_OPTS, options, page_of
from confect.model.pagination import PaginationResult

A = TypeVar("A")
E = TypeVar("E")
T = TypeVar("T")
P = ParamSpec("P")


class AsyncClient:
    """`Client` with awaitable calls: the same arguments, results and errors. Queries,
    mutations and actions go over Convex's HTTP API in a worker thread (the `convex`
    client's calls hold the GIL while they wait, stopping the event loop); subscriptions
    await the `convex` client's own asynchronous iteration, on one WebSocket."""

    def __init__(
        self,
        url: str,
        *,
        auth: Auth | None = None,
        admin_key: str | None = None,
        app: AppSource | None = None,
    ) -> None:
        self._credentials = Credentials(auth, admin_key)
        self._url = url
        self.convex_client = convex.ConvexClient(url)
        self._functions = Functions(app)

    @overload
    async def query(
        self, fn: QueryDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs
    ) -> A: ...
    @overload
    async def query(
        self, fn: QueryDefinition[..., A, E], args: Mapping[str, Any] | None, /
    ) -> A: ...
    @overload
    async def query(
        self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> Any: ...
    async def query(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Run a query; its result."""
        return await self._run(self._call("query", fn, call_args(args, kwargs)))

    @overload
    async def mutation(
        self, fn: MutationDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs
    ) -> A: ...
    @overload
    async def mutation(
        self, fn: MutationDefinition[..., A, E], args: Mapping[str, Any] | None, /
    ) -> A: ...
    @overload
    async def mutation(
        self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> Any: ...
    async def mutation(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Run a mutation; its result once it has committed."""
        return await self._run(self._call("mutation", fn, call_args(args, kwargs)))

    @overload
    async def action(
        self, fn: ActionDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs
    ) -> A: ...
    @overload
    async def action(
        self, fn: ActionDefinition[..., A, E], args: Mapping[str, Any] | None, /
    ) -> A: ...
    @overload
    async def action(
        self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> Any: ...
    async def action(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Run an action; its result."""
        return await self._run(self._call("action", fn, call_args(args, kwargs)))

    @overload
    def subscribe(
        self, fn: QueryDefinition[P, A, E], /, *args: P.args, **kwargs: P.kwargs
    ) -> AsyncSubscription[A]: ...
    @overload
    def subscribe(
        self, fn: QueryDefinition[..., A, E], args: Mapping[str, Any] | None, /
    ) -> AsyncSubscription[A]: ...
    @overload
    def subscribe(
        self, fn: str, args: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> AsyncSubscription[Any]: ...
    def subscribe(self, fn: Any, /, *args: Any, **kwargs: Any) -> AsyncSubscription[Any]:
        """Subscribe to a query: `async for` gives its result now, then each time it
        changes. Close it (`aclose`, or leave its `async with` block) to unsubscribe."""
        call = self._call("query", fn, call_args(args, kwargs))
        self._credentials.apply(self.convex_client)
        return AsyncSubscription(
            self.convex_client.subscribe(call.path, to_client(call.args)), call
        )

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
    ) -> AsyncIterator[PaginationResult[T]]: ...
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
    ) -> AsyncIterator[PaginationResult[Any]]: ...
    async def paginate(
        self,
        fn: Any,
        args: Mapping[str, Any] | None = None,
        /,
        *,
        page_size: int = 100,
        cursor: str | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[PaginationResult[Any]]:
        """The pages of a paginated query, as `Client.paginate` gives them."""
        given = dict(call_args((args,) if args is not None else (), kwargs))
        while True:
            result = await self.query(fn, {**given, PAGINATION_OPTS: options(page_size, cursor)})
            page = page_of(result)
            yield page
            if page.is_done:
                return
            cursor = page.continue_cursor

    def _call(self, kind: Kind, fn: FunctionDefinition[..., Any, Any] | str, args: Any) -> Call:
        return self._functions.call(kind, fn, args)

    async def _run(self, call: Call) -> Any:
        return await asyncio.to_thread(self._post, call)

    def _post(self, call: Call) -> Any:
        return post(self._url, call, self._credentials.header())  # a fetcher may block too


class AsyncSubscription(Generic[A]):
    """The results of a subscribed query, as they change: an async iterator that waits for
    the next change. A declared error the query fails with is raised by `anext`; iterating
    again waits for the next result."""

    def __init__(self, inner: convex.QuerySubscription, call: Call) -> None:
        self._inner = inner
        self._call = call
        self._closed = False

    def __aiter__(self) -> AsyncSubscription[A]:
        return self

    async def __anext__(self) -> A:
        try:
            value = await self._inner.__anext__()
        except convex.ConvexError as error:
            raise self._call.refused(error) from None
        return self._call.received(value)

    async def aclose(self) -> None:
        """Unsubscribe (once; again does nothing)."""
        if not self._closed:
            self._closed = True
            if self._inner.inner.exists():  # a cancelled wait has already dropped it
                self._inner.unsubscribe()

    async def __aenter__(self) -> AsyncSubscription[A]:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
