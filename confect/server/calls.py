"""Running function calls for clients: paths and wire JSON in, wire outcomes out.

Shared by the HTTP API and the WebSocket sync protocol. A request that cannot run (no
such function, malformed arguments) is a `RequestError`; a call that ran and failed is an
`Outcome` with `success=False`, whose message names the error but never the server's
own stack.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import hmac
import logging
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import attrs

import effects
from confect.app.auth_config import LEEWAY_SECONDS
from confect.app.functions import FunctionDefinition, Kind
from confect.engine.interface import ReadRange
from confect.model.errors import (
    ArgumentValidationError,
    FunctionNotFoundError,
    FunctionTimeout,
    InvalidValueError,
    TimestampTooOldError,
)
from confect.model.values import Value, from_wire, to_wire
from confect.runtime import logs
from confect.runtime.call_log import CallRecord, failure
from confect.runtime.deployment import Deployment
from confect.runtime.execution import MutationResult, QueryResult
from confect.runtime.logs import LogLine
from confect.runtime.session_requests import SessionRequest
from confect.server.query_cache import (
    MAX_TIME_DEPENDENT_AGE,
    QueryCache,
    query_key,
    unwrap_args,
)
from confect.services.auth import UserIdentity
from effects import Effect
from effects.exit import Exit, Failure, Success

T = TypeVar("T")
log = logging.getLogger("confect.server")


def is_admin_key(presented: object, admin_key: str | None) -> bool:
    """Whether `presented` is the deployment's admin key (compared in constant time)."""
    if admin_key is None or not isinstance(presented, str):
        return False
    return hmac.compare_digest(presented.encode(), admin_key.encode())


class ErrorCode(enum.StrEnum):
    """Why a request was refused (its `code` on the wire), with the HTTP status that
    answers it."""

    status: int

    def __new__(cls, code: str, status: int) -> ErrorCode:
        member = str.__new__(cls, code)
        member._value_ = code
        member.status = status
        return member

    BAD_REQUEST = "BadRequest", 400
    BAD_JSON_BODY = "BadJsonBody", 400
    INVALID_UPLOAD_TOKEN = "InvalidUploadToken", 400
    UNAUTHENTICATED = "Unauthenticated", 401
    FUNCTION_NOT_FOUND = "FunctionNotFound", 404
    NOT_FOUND = "NotFound", 404
    NO_ROUTE = "NoRoute", 404
    REQUEST_TOO_LARGE = "RequestTooLarge", 413
    INTERNAL_SERVER_ERROR = "InternalServerError", 500
    INTERRUPTED = "Interrupted", 503
    TOO_MANY_UPLOADS = "TooManyUploads", 503
    # an environment variable change refused (`EnvVarProblem`'s codes, Convex's)
    ENV_VAR_NAME_INVALID = "EnvironmentVariableNameInvalid", 400
    ENV_VAR_NAME_TOO_LONG = "EnvironmentVariableNameTooLong", 400
    ENV_VAR_NAME_FORBIDDEN = "EnvVarNameForbidden", 400
    ENV_VAR_VALUE_TOO_LARGE = "EnvironmentVariableValueTooLarge", 400
    ENV_VAR_LIMIT_MET = "EnvVarLimitMet", 400
    ENV_VAR_TOTAL_SIZE_LIMIT_MET = "EnvVarTotalSizeLimitMet", 400


class RequestError(Exception):
    """A request the server refuses before running anything (HTTP 4xx)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return self.code.status


@attrs.frozen
class Caller:
    """Who calls: a verified user (or nobody), and whether with the admin key."""

    identity: UserIdentity | None = None
    admin: bool = False

    def expired(self, now: float) -> bool:
        """Whether the user's token has expired by `now` (seconds since the epoch; with the
        clock skew token checks allow)."""
        if self.identity is None:
            return False
        expires = self.identity.claims.get("exp")
        return isinstance(expires, int | float) and expires + LEEWAY_SECONDS < now


@attrs.frozen
class Outcome:
    """A finished call, ready for the wire."""

    success: bool
    value: Any = None
    error_message: str = ""
    error_data: Any = None
    has_error_data: bool = False
    log_lines: list[LogLine] = attrs.field(factory=list[LogLine])
    ts: int | None = None
    reads: list[ReadRange] = attrs.field(factory=list[ReadRange])
    journal: str | None = None  # a query's: where its page ended (see QueryResult)
    observed_time: bool = False  # a query's: whether it read real time (see QueryResult)
    ran_at: float | None = None  # a query's: when it began, by the deployment's clock


@attrs.frozen
class Limits:
    """Seconds a query or mutation (`transaction`) and an action may run."""

    transaction: float = 1.0
    action: float = 600.0


class ClientCalls:
    """Runs the calls clients make to a deployment's functions (a path and wire arguments
    in, an `Outcome` out), queries through the query cache."""

    def __init__(
        self, deployment: Deployment, time_dependent_age: float = MAX_TIME_DEPENDENT_AGE
    ) -> None:
        """`time_dependent_age`: how long (seconds) the cache serves a query's result that
        read real time (see `QueryCache`)."""
        self.deployment = deployment
        self.cache = QueryCache(deployment, time_dependent_age=time_dependent_age)

    def find(
        self, path: str, kind: Kind | None, caller: Caller
    ) -> FunctionDefinition[..., Any, Any]:
        """The function at `path` that `caller` may call as `kind` (any kind if None)."""
        try:
            function = self.deployment.app.function(path)
        except FunctionNotFoundError:
            function = None
        if function is None or (function.visibility == "internal" and not caller.admin):
            # one answer for missing and internal (as Convex's): no one without the admin
            # key learns which internal functions exist
            message = f"Could not find public function for '{path}'."
            if caller.admin:
                message = f"Could not find function for '{path}'."
            raise RequestError(ErrorCode.FUNCTION_NOT_FOUND, message)
        if kind is not None and function.kind != kind:
            raise RequestError(
                ErrorCode.BAD_REQUEST,
                f"Trying to execute {path} as a {kind}, but it is defined as a {function.kind}",
            )
        return function

    @staticmethod
    def decode_args(raw: Any) -> dict[str, Value]:
        """Arguments from the wire (see `unwrap_args`), decoded and checked to be an object."""
        try:
            args = from_wire(unwrap_args(raw), "args")
        except InvalidValueError as error:
            raise RequestError(
                ErrorCode.BAD_REQUEST, f"Arguments are not valid Convex values: {error}"
            ) from None
        if not isinstance(args, dict):
            raise RequestError(ErrorCode.BAD_REQUEST, "Arguments must be an object")
        return args

    async def call(
        self,
        path: str,
        raw_args: Any,
        caller: Caller,
        kind: Kind | None = None,
        at_ts: int | None = None,
        request: SessionRequest | None = None,
        journal: str | None = None,
    ) -> Outcome:
        """Run the function at `path` with wire arguments (a query reading as of commit
        `at_ts`, if given, its page ending where `journal` says, if given; a mutation once
        per sync-protocol `request`, if given); raises `RequestError`."""
        function = self.find(path, kind, caller)
        if at_ts is not None:
            return await self._run(function, path, raw_args, caller, at_ts, journal=journal)
        if function.kind == "query":
            key = query_key(path, raw_args, caller, journal)
            cached = self.cache.get(key)
            if cached is None:
                cached = await self._run(function, path, raw_args, caller, journal=journal)
                self.cache.put(key, cached)
            else:
                record = CallRecord(
                    time.time(), "query", path, 0.0, True, log_lines=cached.log_lines, cached=True
                )
                self.deployment.call_log.add(record)
            return cached
        return await self._run(function, path, raw_args, caller, request=request)

    async def _run(
        self,
        function: FunctionDefinition[..., Any, Any],
        path: str,
        raw_args: Any,
        caller: Caller,
        at_ts: int | None = None,
        request: SessionRequest | None = None,
        journal: str | None = None,
    ) -> Outcome:
        args = self.decode_args(raw_args)
        executor, identity = self.deployment.executor, caller.identity
        if function.kind == "query":
            body: Effect[Any, Any] = executor.query(function, args, identity, at_ts, journal)
        elif function.kind == "mutation":
            body = executor.mutation(function, args, identity, request)
        elif function.kind == "action":
            body = executor.action(function, args, identity)
        else:
            raise RequestError(
                ErrorCode.BAD_REQUEST, f"{path} is an http action; call it through its route"
            )
        started, clock, ran_at = time.time(), time.perf_counter(), self.deployment.now()
        with logs.collecting() as collector:
            # the time limit is on user code (the deployment's `user_code` enforces it), not on
            # a commit: once one begins, the answer is its real outcome
            if function.kind == "mutation":
                exit_ = await _to_the_end(effects.run_exit(body))
            else:
                exit_ = await effects.run_exit(body)
        lines = collector.lines
        took = (time.perf_counter() - clock) * 1000
        record = functools.partial(CallRecord, started, function.kind, path, took)
        try:
            outcome = self._outcome(function, exit_, lines, ran_at)
        except RequestError as refused:  # the call's own arguments were refused
            self.deployment.call_log.add(record(False, error=refused.message, log_lines=lines))
            raise
        where = failure(exit_.cause)[1] if isinstance(exit_, Failure) else ""  # a defect's
        error = outcome.error_message
        self.deployment.call_log.add(
            record(outcome.success, error=error, where=where, log_lines=lines)
        )
        return outcome

    def _outcome(
        self,
        function: FunctionDefinition[..., Any, Any],
        exit_: Exit[Any, Any],
        lines: list[LogLine],
        ran_at: float,
    ) -> Outcome:
        if isinstance(exit_, Success):
            result: Any = exit_.value
            if isinstance(result, QueryResult):
                return Outcome(
                    True,
                    to_wire(result.value),
                    log_lines=lines,
                    ts=result.ts,
                    reads=result.reads,
                    journal=result.journal,
                    observed_time=result.observed_time,
                    ran_at=ran_at,
                )
            if isinstance(result, MutationResult):
                return Outcome(True, to_wire(result.value), log_lines=lines, ts=result.ts)
            return Outcome(True, to_wire(result), log_lines=lines)  # an action's value
        assert isinstance(exit_, Failure)
        cause = exit_.cause
        failures = cause.failures()
        if failures:
            error = failures[0]
            if isinstance(
                error, ArgumentValidationError
            ):  # this call's own arguments, not a nested call's
                raise RequestError(ErrorCode.BAD_REQUEST, f"ArgumentValidationError: {error}")
            if isinstance(error, TimestampTooOldError):
                raise RequestError(ErrorCode.BAD_REQUEST, str(error))
            if isinstance(error, FunctionTimeout):
                return Outcome(False, error_message=str(error), log_lines=lines)
            data = function.error_data(error)
            if data is not None:
                return Outcome(
                    False,
                    error_message=f"Uncaught ConvexError: {error}",
                    error_data=to_wire(data),
                    has_error_data=True,
                    log_lines=lines,
                )
            return Outcome(
                False, error_message=f"Uncaught {type(error).__name__}: {error}", log_lines=lines
            )
        if cause.is_interrupted_only():
            return Outcome(False, error_message="The function was interrupted", log_lines=lines)
        defect = cause.squash()
        log.error("%s failed with a defect:\n%s", function.name, cause.pretty())
        return Outcome(
            False,
            error_message=f"Server Error: Uncaught {type(defect).__name__}: {defect}",
            log_lines=lines,
        )


async def _to_the_end(run: Coroutine[Any, Any, T]) -> T:
    """`run`'s result, even if the awaiting task is cancelled meanwhile (a shutdown past its
    grace period): a mutation cut off might commit with its caller told otherwise, and it
    is bounded anyway (its user code by the time limit, then one commit)."""
    task = asyncio.ensure_future(run)
    while True:
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if task.cancelled() or current is None:
                raise
            current.uncancel()
