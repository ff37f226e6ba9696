"""The dashboard's functions: every function of the app with its validators, and a run of
one with the admin key (internal functions too), as a user if asked; the run is a call
like any client's, so it is in the call log (and the live stream) too."""

from __future__ import annotations

from confect.codegen._typescript import ts_type
from confect.server.calls import Caller, ClientCalls
from confect.server.dashboard.messages import (
    FunctionInfo,
    FunctionsResponse,
    LogLineInfo,
    RunRequest,
    RunResult,
)
from confect.services.auth import UserIdentity


def functions(calls: ClientCalls) -> FunctionsResponse:
    """The app's functions, by path."""
    listed = sorted(calls.deployment.app.functions.items())
    return FunctionsResponse(
        [
            FunctionInfo(
                path=path,
                kind=function.kind,
                visibility=function.visibility,
                args=None if function.args is None else ts_type(function.args),
                returns=None if function.returns is None else ts_type(function.returns),
            )
            for path, function in listed
        ]
    )


async def run(calls: ClientCalls, request: RunRequest) -> RunResult:
    """Run a function (`RequestError` if it cannot run: no such function, bad arguments)."""
    identity = None
    if request.identity is not None:
        claims = {"sub": request.identity.subject, "iss": request.identity.issuer}
        claims |= {"name": request.identity.name} if request.identity.name else {}
        claims |= {"email": request.identity.email} if request.identity.email else {}
        identity = UserIdentity.from_claims(claims)
    outcome = await calls.call(request.path, request.args, Caller(identity, admin=True))
    lines = [LogLineInfo(line.level, line.text, line.timestamp) for line in outcome.log_lines]
    return RunResult(outcome.success, outcome.value, outcome.error_message, lines)
