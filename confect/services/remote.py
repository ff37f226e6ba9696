"""Remote runners: QueryRunner, MutationRunner and ActionRunner over the official `convex`
Python client, against any deployment that speaks Convex's protocol (a hosted Convex
deployment or another confect server).

    effect.provide(remote_runners("https://happy-animal-123.convex.cloud", auth_token=...))

A call's typed error comes back as that error when the function object is given (its
`errors` say how to decode it), else as `ConvexError`. The client blocks while it waits,
so calls run in worker threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any, cast

from convex import ConvexClient
from convex import ConvexError as ClientConvexError

import effects
from confect.app.functions import FunctionDefinition
from confect.model.errors import ConvexError
from confect.model.validators import decode_any, encode_any
from confect.model.values import from_wire, to_wire, with_int64_markers
from confect.services.runners import (
    ActionRunner,
    ActionRunnerService,
    MutationRunner,
    MutationRunnerService,
    QueryRunner,
    QueryRunnerService,
)
from effects import Effect, Layer, TaggedError


class RemoteCallError(TaggedError):
    """A remote function failed without error data (its message says why)."""

    path: str
    message: str


def _path(fn: Any) -> str:
    if isinstance(fn, FunctionDefinition):
        if fn.path is None:
            raise ValueError(f"{fn.name} has no path: load its app, or call it by 'module:name'")
        return fn.path
    return str(fn)


class RemoteDeployment:
    """One client connection to a deployment, shared by the three runners."""

    def __init__(
        self, url: str, auth_token: str | None = None, admin_key: str | None = None
    ) -> None:
        self._client = ConvexClient(url)
        if admin_key is not None:
            self._client.set_admin_auth(admin_key)
        elif auth_token is not None:
            self._client.set_auth(auth_token)

    def call(self, kind: str, fn: Any, args: Mapping[str, Any]) -> Effect[Any, Any]:
        """Call `fn` remotely as a query, mutation or action."""
        path = _path(fn)
        function = (
            cast(FunctionDefinition[..., Any, Any], fn)
            if isinstance(fn, FunctionDefinition)
            else None
        )
        method = {
            "query": self._client.query,
            "mutation": self._client.mutation,
            "action": self._client.action,
        }[kind]

        async def run() -> Any:
            encoded = function.encode_args(args) if function else encode_any(dict(args), "args")
            return await asyncio.to_thread(method, path, with_int64_markers(encoded))

        def failure(error: Exception) -> TaggedError:
            if isinstance(error, ClientConvexError):
                data = from_wire(to_wire(error.data))
                if function is None:
                    return ConvexError(data=decode_any(data))
                return function.decode_error(data)
            return RemoteCallError(path=path, message=str(error))

        def result(value: Any) -> Any:
            plain = from_wire(to_wire(value))
            return function.decode_result(plain) if function is not None else decode_any(plain)

        return effects.try_promise(run, failure).map(result)


def remote_runners(
    url: str, *, auth_token: str | None = None, admin_key: str | None = None
) -> Layer[Any, Any, Any]:
    """A layer whose runners call functions of the deployment at `url`."""
    deployment = RemoteDeployment(url, auth_token, admin_key)
    return Layer.merge(
        Layer.succeed(
            QueryRunner, QueryRunnerService(lambda fn, args: deployment.call("query", fn, args))
        ),
        Layer.succeed(
            MutationRunner,
            MutationRunnerService(lambda fn, args: deployment.call("mutation", fn, args)),
        ),
        Layer.succeed(
            ActionRunner, ActionRunnerService(lambda fn, args: deployment.call("action", fn, args))
        ),
    )
