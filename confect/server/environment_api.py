"""The admin endpoints of the deployment's environment variables, as Convex's (which its
CLI and dashboard call): `POST /api/update_environment_variables` with
`{"changes": [{"name": ..., "value": ...}]}` (a null or absent value unsets; all changes
commit together, or none when one breaks a rule, answered 400 with the rule's code), and
`GET /api/list_environment_variables`, answering `{"environmentVariables": {name: value}}`;
both also under `/api/v1/`. Only for the admin key (`Authorization: Convex <admin key>`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import cattrs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from confect.model.errors import EnvironmentVariableError
from confect.runtime.deployment import Deployment
from confect.runtime.environment import EnvVarChange
from confect.server.api import MAX_BODY_BYTES, json_object, read_body
from confect.server.calls import ErrorCode, RequestError
from confect.server.protocol._wire import converter

if TYPE_CHECKING:
    from confect.server.asgi import Server

UPDATE_PATHS = ("/api/update_environment_variables", "/api/v1/update_environment_variables")
LIST_PATHS = ("/api/list_environment_variables", "/api/v1/list_environment_variables")


@attrs.frozen
class UpdateRequest:
    """The body of an update: the changes, made in order."""

    changes: list[EnvVarChange]


@attrs.frozen
class Listing:
    """The answer of a list: every variable by name."""

    environment_variables: dict[str, str]


async def update(server: Server, request: Request) -> Response:
    """Make the changes of the request, all in one commit; 200 with no body when done."""
    await _require_admin(server, request)
    body = await read_body(request.receive, request.headers.get("content-length"), MAX_BODY_BYTES)
    try:
        changes = converter.structure(json_object(body), UpdateRequest).changes
    except (cattrs.BaseValidationError, ValueError, TypeError) as error:
        message = (
            "; ".join(cattrs.transform_error(error))
            if isinstance(error, cattrs.BaseValidationError)
            else str(error)
        )
        raise RequestError(
            ErrorCode.BAD_REQUEST,
            f'the body must be {{"changes": [{{"name": string, "value": string | null}}]}}: {message}',
        ) from None
    apply_changes(server.backend, changes)
    return Response(status_code=200)


def apply_changes(deployment: Deployment, changes: list[EnvVarChange]) -> None:
    """Make `changes` in one commit; a broken rule is a `RequestError` with Convex's code
    for it (and nothing changed)."""
    try:
        deployment.update_environment_variables(changes)
    except EnvironmentVariableError as error:
        raise RequestError(ErrorCode(error.problem.value), error.message) from None


async def list_(server: Server, request: Request) -> Response:
    """Every variable of the deployment (the system ones aside)."""
    await _require_admin(server, request)
    listing = Listing(server.backend.environment_variables())
    return JSONResponse(converter.unstructure(listing))


async def _require_admin(server: Server, request: Request) -> None:
    await server.require_admin(
        request.headers.get("authorization"),
        "the environment variables are for the deployment's admin key only "
        "(Authorization: Convex <admin key>)",
    )
