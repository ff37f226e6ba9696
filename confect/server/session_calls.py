"""The function calls of one sync connection: its mutations run one after another, in the
order sent (each once per session and request id), its actions side by side; each ends
in its response, which the connection sends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from confect.runtime.session_requests import SessionRequest
from confect.server.calls import Caller, ClientCalls, Outcome, RequestError
from confect.server.protocol.client import Action, Mutation
from confect.server.protocol.server import ServerMessage, action_response, mutation_response

Finish = Callable[[Coroutine[Any, Any, ServerMessage]], Awaitable[ServerMessage]]
"""Runs a call to its end even if the connection closes meanwhile (`Server.finish`)."""


class TooManyOperations(Exception):
    """The client has more calls pending than one connection may (as Convex's
    TooManyConcurrentMutations): the connection closes with code 1013, try again later."""


class SessionCalls:
    """Runs a connection's calls; `respond` hears each response, in the order they end.
    At most `max_pending` mutations (and, apart, actions) wait or run at once."""

    def __init__(
        self,
        functions: ClientCalls,
        finish: Finish,
        respond: Callable[[ServerMessage], Awaitable[None]],
        max_pending: int,
    ) -> None:
        self._functions = functions
        self._finish = finish
        self._respond = respond
        self._max_pending = max_pending
        self.session_id: str | None = None
        """From the client's Connect: with a request id, names a mutation to run once."""
        # each with the caller it was sent as: a later Authenticate does not change it
        self._mutations: asyncio.Queue[tuple[Mutation, Caller]] = asyncio.Queue()
        self._pending: dict[type[Mutation | Action], int] = {Mutation: 0, Action: 0}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._runner: asyncio.Task[None] | None = None
        self.unanswered_mutations = 0
        """Mutations begun whose response the connection has not sent yet (it counts them
        down): it holds its transitions meanwhile, so that none reaches the ts of a
        mutation's commit before its response does (Convex's clients drop a mutation's
        optimistic update on the first transition after its response)."""

    def submit(self, message: Mutation | Action, caller: Caller) -> None:
        """Run the call `message` asks for, as `caller`; raises `TooManyOperations`."""
        kind = type(message)
        if self._pending[kind] >= self._max_pending:
            raise TooManyOperations(
                f"Too many concurrent {kind.__name__.lower()}s: only up to {self._max_pending} "
                "may be pending on one connection"
            )
        self._pending[kind] += 1
        if isinstance(message, Mutation):
            self._mutations.put_nowait((message, caller))
            if self._runner is None:
                self._runner = self._spawn(self._run_mutations())
        else:
            self._spawn(self._action(message, caller))

    def close(self) -> None:
        """Stop waiting for the calls (a mutation under way still commits)."""
        for task in list(self._tasks):
            task.cancel()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run_mutations(self) -> None:
        while True:
            message, caller = await self._mutations.get()
            self.unanswered_mutations += 1
            # one that has begun commits even if the client goes meanwhile, as over HTTP
            response = await self._finish(self._request(message, caller))
            self._pending[Mutation] -= 1
            await self._respond(response)

    async def _action(self, message: Action, caller: Caller) -> None:
        response = await self._request(message, caller)
        self._pending[Action] -= 1
        await self._respond(response)

    async def _request(self, message: Mutation | Action, caller: Caller) -> ServerMessage:
        mutation = isinstance(message, Mutation)
        session = self.session_id
        once = SessionRequest(session, message.request_id) if mutation and session else None
        try:
            outcome = await self._functions.call(
                message.udf_path,
                [{}] if message.args is None else message.args,
                caller,
                "mutation" if mutation else "action",
                request=once,
            )
        except RequestError as error:
            outcome = Outcome(False, error_message=error.message)
        if not mutation:
            return action_response(message.request_id, outcome)
        ts = outcome.ts or self._functions.deployment.last_ts()
        return mutation_response(message.request_id, outcome, ts)
