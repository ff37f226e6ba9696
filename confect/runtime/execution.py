"""Running an app's functions: each call with its type's services, in a transaction for a
query or a mutation.

Top-level calls (`query`, `mutation`, `action`, `http_action`) take and give Convex
values, as a server or a test harness sees them. Calls made from inside functions
(runners, the scheduler) take and give Python values and typed errors.

A transaction that a concurrent commit raced runs again from its start: a query whose reads
changed before it was answered, a mutation whose commit conflicted, an action's own
transaction. All of them go through `_run_again`, as CONFLICT_RETRIES allows. A query's or
mutation's user code stopped on the event loop (`MovedOffLoop`, see `user_code`) runs again
too, off the loop; that is no conflict and does not count.

Each call of a function is a span of the `Tracer` (see `effects.tracing`) named by its kind
and path ("query app:list"), with its retries as the attribute "confect.retries"; calls its
runners make are child spans of their caller's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import attrs

import effects
from confect.app.functions import FunctionDefinition, Kind
from confect.engine.interface import ReadRange, Write
from confect.model.errors import ValidationError, WriteConflict
from confect.model.values import Value
from confect.runtime import logs, session_requests
from confect.runtime.determinism import QueryRun
from confect.runtime.layers import (
    ServiceMap,
    action_service_map,
    add_ctx,
    as_layer,
    mutation_service_map,
    query_service_map,
    run_service_map,
)
from confect.runtime.session_requests import SessionRequest
from confect.runtime.transaction import Transaction
from confect.runtime.user_code import MovedOffLoop
from confect.services.auth import UserIdentity
from effects import Effect, Exit, Schedule
from effects.clock import Clock
from effects.logger import MinimumLogLevel
from effects.schedule import Driver
from effects.tracing import Span, SpanKind, Tracer, current_span, with_span

if TYPE_CHECKING:
    from confect.runtime.deployment import Deployment

T = TypeVar("T")
R = TypeVar("R")

MAX_COMMIT_ATTEMPTS = 100
CONFLICT_RETRIES = Schedule.recurs(MAX_COMMIT_ATTEMPTS - 1)
"""How often a transaction that a concurrent commit raced runs again. It runs again at once:
only whether to go on is asked of the schedule. Past the last, a mutation's conflict is a
defect, and a query is answered with what it read."""

Claim = Callable[[Transaction], bool]
"""Runs first in a mutation's transaction; False calls the mutation off (a job that another
process took)."""


@attrs.frozen
class QueryResult:
    """A query's value, what it read (its reactive dependencies), the ts it read at, its
    journal (where its paginated query's page ended, to pin it there when run again) and
    whether it read real time (`effects.clock.now()`, see `determinism`)."""

    value: Value
    reads: list[ReadRange]
    ts: int
    journal: str | None = None
    observed_time: bool = False


@attrs.frozen
class MutationResult:
    """What a transaction's body returned (a Convex value for a mutation) and its commit ts."""

    value: Any
    ts: int


def _run_again(
    attempt: Callable[[Driver], R], retries: Driver | None, give_up: Callable[[], R]
) -> R:
    """After a concurrent commit raced an attempt: the next attempt (given the driver that
    counts them), or `give_up()` once CONFLICT_RETRIES says no more. The driver is made at a
    call's first conflict: a call that meets none pays nothing for it."""
    driver = CONFLICT_RETRIES.driver() if retries is None else retries
    if driver(None, 0.0)[1] is None:
        return give_up()
    return attempt(driver)


RETRIES = "confect.retries"


def _run_call_again(
    attempt: Callable[[Driver], Effect[R, Any]],
    retries: Driver | None,
    give_up: Callable[[], Effect[R, Any]],
) -> Effect[R, Any]:
    """`_run_again` for a call's transaction, each retry counted on the call's span."""
    return _run_again(lambda driver: _count_retry().then(attempt(driver)), retries, give_up)


def _count_retry() -> Effect[None]:
    def count(span: Span) -> None:
        done = span.attributes.get(RETRIES, 0)
        span.set_attribute(RETRIES, done + 1 if isinstance(done, int) else 1)

    return current_span().map(count).ignore()  # no span: not traced


def _raise(error: BaseException) -> NoReturn:
    raise error


class Executor:
    """Runs the functions of one deployment, each call with its type's services and, over
    those, `services` (what the app's layer built, and what a test laid over them). Light:
    `with_services` makes another over the same deployment, sharing all its state."""

    __slots__ = ("deployment", "services")

    def __init__(self, deployment: Deployment, services: Mapping[Any, Any]) -> None:
        self.deployment = deployment
        self.services = dict(services)

    def with_services(self, services: Mapping[Any, Any]) -> Executor:
        """Calls of the same deployment, `services` replacing or adding to each call's."""
        return Executor(self.deployment, {**self.services, **services})

    # --- resolving functions -------------------------------------------------------------------

    def resolve(self, fn: Any, kind: Kind | None = None) -> FunctionDefinition[..., Any, Any]:
        """The function for a reference (a definition or a `module:name` path)."""
        found = self.deployment.app.function(fn) if isinstance(fn, str) else fn
        if not isinstance(found, FunctionDefinition):
            raise ValidationError(path="function", message=f"{fn!r} is not a confect function")
        if kind is not None and found.kind != kind:
            raise ValidationError(
                path=found.name,
                message=f"is a {found.kind}, not a {kind}; call it as a {found.kind}",
            )
        return found  # pyright: ignore[reportUnknownVariableType]

    def resolve_for_scheduling(
        self, fn: Any, args: Mapping[str, Any]
    ) -> tuple[str, dict[str, Value]]:
        """The path of the function `fn` refers to, and `args` encoded for it."""
        function = self.resolve(fn)
        path = self.deployment.app.path_of(function)
        if path is None:
            raise ValidationError(
                path="scheduler", message=f"{function.name} is not a function of this app"
            )
        return path, function.encode_args(args)

    # --- top-level calls -----------------------------------------------------------------------

    def query(
        self,
        fn: Any,
        args: dict[str, Value],
        identity: UserIdentity | None = None,
        at_ts: int | None = None,
        journal: str | None = None,
    ) -> Effect[QueryResult, Any]:
        """Run a query in a fresh transaction (reading as of commit `at_ts`, if given; fails
        `TimestampTooOldError` if that is too far back), its page pinned to end where
        `journal` (a previous run's) says; run again if a commit raced its reads."""

        def start() -> Effect[QueryResult, Any]:
            run = QueryRun()
            attempt = self._query_attempt(fn, args, identity, at_ts, journal, run, None, False)
            return self._traced(self.resolve(fn, "query"), attempt, "server")

        return effects.suspend(start)

    def _query_attempt(
        self,
        fn: Any,
        args: dict[str, Value],
        identity: UserIdentity | None,
        at_ts: int | None,
        journal: str | None,
        run: QueryRun,
        retries: Driver | None,
        off_loop: bool,
        rewind_to: int | None = None,
    ) -> Effect[QueryResult, Any]:
        # a method, not a closure calling itself: that would be a reference cycle per query
        if rewind_to is not None:
            logs.rewind(rewind_to)
        deployment = self.deployment
        function = self.resolve(fn, "query")
        tx = deployment.new_transaction(at_ts)
        tx.journal_in = journal
        run.next_attempt()
        services = query_service_map(self, tx, identity, run)
        invoked = self._invoke(function, args, services, run)
        body = deployment.user_code.run(invoked, "query", off_loop)
        lines = logs.mark()  # a run again logs afresh: only the last run's lines are the call's

        def check(value: Value) -> Effect[QueryResult, Any]:
            result = QueryResult(
                value, tx.reads, tx.begin_ts, tx.journal_out, observed_time=run.observed_time
            )
            if deployment.engine.is_valid(tx.engine_ts, tx.reads):
                return effects.succeed(result)
            return _run_call_again(
                lambda driver: self._query_attempt(
                    fn, args, identity, at_ts, journal, run, driver, off_loop, lines
                ),
                retries,
                lambda: effects.succeed(result),
            )

        def moved(_: MovedOffLoop) -> Effect[QueryResult, Any]:
            return self._query_attempt(
                fn, args, identity, at_ts, journal, run, retries, True, lines
            )

        return body.on_exit(self._finishing(tx)).flat_map(check).catch_tag(MovedOffLoop, moved)

    def mutation(
        self,
        fn: Any,
        args: dict[str, Value],
        identity: UserIdentity | None = None,
        request: SessionRequest | None = None,
        *,
        claim: Claim | None = None,
    ) -> Effect[MutationResult, Any]:
        """Run a mutation as a transaction, run again on conflict; nothing commits if it
        fails. With a sync-protocol `request`, it runs once: a repeat of a request that
        committed is answered with its recorded value and ts. With a `claim`, that runs
        first and may call it off (see `Claim`): then it succeeds with None."""

        def start() -> Effect[MutationResult, Any]:
            function = self.resolve(fn, "mutation")

            def body(tx: Transaction) -> Effect[Value, Any]:
                return self._invoke(function, args, mutation_service_map(self, tx, identity))

            return self._traced(
                function, self._transact(body, claim, request, None, False), "server"
            )

        return effects.suspend(start)

    def transact(
        self, effect: Callable[[], Effect[Any, Any, Any]], identity: UserIdentity | None = None
    ) -> Effect[MutationResult, Any]:
        """Run any effect with a mutation's services and `StorageActionWriter` (as
        convex-test's `t.run`), as one transaction (run again on conflict)."""

        def body(tx: Transaction) -> Effect[Any, Any]:
            return self._provide(run_service_map(self, tx, identity), "mutation", effect)

        return effects.suspend(lambda: self._transact(body, None, None, None, False))

    def _transact(
        self,
        body_of: Callable[[Transaction], Effect[Any, Any]],
        claim: Claim | None,
        request: SessionRequest | None,
        retries: Driver | None,
        off_loop: bool,
        rewind_to: int | None = None,
    ) -> Effect[MutationResult, Any]:
        """`body_of(tx)` in a new transaction, committed when it succeeds. `claim(tx)`, if
        given, runs first and may call the whole thing off; so does the record of
        `request`, if it ran before, which is then the answer."""
        if rewind_to is not None:
            logs.rewind(rewind_to)
        deployment = self.deployment
        tx = deployment.new_transaction()
        if claim is not None and not claim(tx):
            deployment.finish(tx)
            return effects.succeed(MutationResult(None, tx.begin_ts))
        if request is not None and (recorded := session_requests.find(tx, request)) is not None:
            deployment.finish(tx)
            answer = effects.succeed(MutationResult(*recorded))
            if deployment.engine.is_valid(tx.engine_ts, tx.reads):
                return answer
            # the record came from a commit this process had not heard of: hear it first,
            # so that what follows the answer (a transition to its ts) can reach that ts
            return _run_call_again(
                lambda driver: self._transact(body_of, claim, request, driver, off_loop),
                retries,
                lambda: answer,
            )

        def commit(value: Any) -> Effect[MutationResult, Any]:
            if request is not None:
                session_requests.record(tx, request, value)
            writes = tx.writes()

            def done(ts: int) -> MutationResult:
                deployment.committed(ts, writes)
                return MutationResult(value, ts)

            def conflict(error: WriteConflict) -> Effect[MutationResult, Any]:
                return _run_call_again(
                    lambda driver: self._transact(body_of, claim, request, driver, off_loop, lines),
                    retries,
                    lambda: effects.die(error),
                )

            committing = deployment.commit(tx.begin_ts, tx.reads, writes)
            return committing.map(done).catch_tag(WriteConflict, conflict)

        def moved(_: MovedOffLoop) -> Effect[MutationResult, Any]:
            return self._transact(body_of, claim, request, retries, True, lines)

        lines = logs.mark()  # a run again logs afresh: only the last run's lines are the call's
        body = deployment.user_code.run(body_of(tx), "mutation", off_loop)
        body = body.flat_map(commit).on_exit(self._finishing(tx))
        return body.catch_tag(MovedOffLoop, moved)

    def action(
        self, fn: Any, args: dict[str, Value], identity: UserIdentity | None = None
    ) -> Effect[Value, Any]:
        """Run an action (not transactional)."""

        def start() -> Effect[Value, Any]:
            function = self.resolve(fn, "action")
            body = self._invoke(function, args, action_service_map(self, identity))
            return self._traced(function, self.deployment.user_code.run(body, "action"), "server")

        return effects.suspend(start)

    def http_action(
        self, fn: Any, request: Any, identity: UserIdentity | None = None
    ) -> Effect[Any, Any]:
        """Run an http action with the request; succeed with its response."""

        def start() -> Effect[Any, Any]:
            function = self.resolve(fn, "http_action")
            services = action_service_map(self, identity, "http_action")
            body = self._provide(services, "http_action", lambda: function.handler(request))
            return self._traced(
                function, self.deployment.user_code.run(body, "http_action"), "server"
            )

        return effects.suspend(start)

    def call(
        self,
        function: FunctionDefinition[..., Any, Any],
        args: dict[str, Value],
        identity: UserIdentity | None = None,
    ) -> Effect[Value, Any]:
        """Run a query, mutation or action by its kind; succeed with its Convex value."""
        if function.kind == "query":
            return self.query(function, args, identity).map(lambda r: r.value)
        if function.kind == "mutation":
            return self.mutation(function, args, identity).map(lambda r: r.value)
        return self.action(function, args, identity)

    def _invoke(
        self,
        function: FunctionDefinition[..., Any, Any],
        args: Value,
        services: ServiceMap,
        run: QueryRun | None = None,
    ) -> Effect[Value, Any]:
        def start() -> Effect[Any, Any]:
            return function.handler(**function.decode_args(args))

        return self._provide(services, function.kind, start, run).map(function.encode_result)

    def _provide(
        self,
        services: ServiceMap,
        kind: str,
        effect: Callable[[], Effect[Any, Any, Any]],
        run: QueryRun | None = None,
    ) -> Effect[Any, Any]:
        """`effect()` with a call's services, the app's and tests' own laid over them, the
        clock and generator of the query `run` it is part of (if any) over those, and the
        function context of `kind` over all of them."""
        services[MinimumLogLevel] = logs.CALL_MINIMUM_LOG_LEVEL
        if self.services:
            services.update(self.services)
        if run is not None:
            run.lay(services)
        return as_layer(add_ctx(services, kind)).provide_to(effects.suspend(effect))

    def _traced(
        self,
        function: FunctionDefinition[..., Any, Any],
        effect: Effect[T, Any],
        kind: SpanKind = "internal",
    ) -> Effect[T, Any]:
        """`effect`, a call of `function`, in a span named by its kind and path. The
        tracer and clock among this executor's services are the span's too (else the
        caller's, if any: a runner call's are its caller's)."""
        path = function.name
        traced = with_span(
            f"{function.kind} {path}",
            attributes={"confect.function": path, "confect.kind": function.kind},
            kind=kind,
        )(effect)
        services = self.services
        tracer = services.get(Tracer)
        if tracer is None:
            return traced
        clock = services.get(Clock)
        traced = traced if clock is None else traced.provide_service(Clock, clock)
        return traced.provide_service(Tracer, tracer)

    def _finishing(self, tx: Transaction) -> Callable[[Exit[Any, Any]], Effect[None]]:
        finish = functools.partial(self.deployment.finish, tx)  # a frame fewer than a lambda
        return lambda _: effects.sync(finish)

    # --- calls from inside functions -----------------------------------------------------------

    def nested_query(
        self,
        tx: Transaction,
        identity: UserIdentity | None,
        fn: Any,
        args: Mapping[str, Any],
        run: QueryRun | None = None,
    ) -> Effect[Any, Any]:
        """A query run inside the caller's transaction (so it sees the caller's writes), as
        part of the caller's query `run`, if it is a query."""

        def start() -> Effect[Any, Any]:
            function = self.resolve(fn, "query")
            services = query_service_map(self, tx, identity, run)
            body = self._invoke(function, function.encode_args(args), services, run)
            return self._traced(function, body.map(function.decode_result))

        return effects.suspend(start)

    def nested_mutation(
        self, tx: Transaction, identity: UserIdentity | None, fn: Any, args: Mapping[str, Any]
    ) -> Effect[Any, Any]:
        """A mutation run as a sub-transaction: its writes are undone if it fails."""

        def start() -> Effect[Any, Any]:
            function = self.resolve(fn, "mutation")
            mark = tx.savepoint()
            body = self._invoke(
                function, function.encode_args(args), mutation_service_map(self, tx, identity)
            )

            def undo_on_failure(exit_: Exit[Any, Any]) -> Effect[None]:
                return effects.sync(lambda: None if exit_.is_success() else tx.rollback(mark))

            return self._traced(function, body.map(function.decode_result).on_exit(undo_on_failure))

        return effects.suspend(start)

    def call_from_action(
        self, kind: Kind, identity: UserIdentity | None, fn: Any, args: Mapping[str, Any]
    ) -> Effect[Any, Any]:
        """A query, mutation or action run on its own, as an action's runners do."""

        def start() -> Effect[Any, Any]:
            function = self.resolve(fn, kind)
            encoded = function.encode_args(args)
            return self.call(function, encoded, identity).map(function.decode_result)

        return effects.suspend(start)

    def in_own_transaction(self, f: Callable[[Transaction], T]) -> T:
        """Run `f` in a new transaction and commit it (run again on conflict)."""
        return self._own_attempt(f, None)

    def _own_attempt(self, f: Callable[[Transaction], T], retries: Driver | None) -> T:
        outcome = self._commit_once(f)
        if isinstance(outcome, WriteConflict):
            conflict = outcome
            return _run_again(
                lambda driver: self._own_attempt(f, driver), retries, lambda: _raise(conflict)
            )
        result, ts, writes = outcome
        self.deployment.committed(ts, writes)
        return result

    def _commit_once(
        self, f: Callable[[Transaction], T]
    ) -> tuple[T, int, list[Write]] | WriteConflict:
        deployment = self.deployment
        tx = deployment.new_transaction()
        try:
            result = f(tx)
            writes = tx.writes()
            return result, deployment.engine.commit(tx.begin_ts, tx.reads, writes), writes
        except WriteConflict as conflict:
            return conflict
        finally:
            deployment.finish(tx)
