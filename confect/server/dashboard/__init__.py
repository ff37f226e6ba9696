"""The dashboard: a web page at `/_dashboard` on the API port, and the admin-key JSON
endpoints and live channel it uses, under `/_dashboard/api/`.

Every endpoint is `POST /_dashboard/api/<name>` with a JSON body (a request type of
`messages`), answered with JSON (its answer type), or refused as the HTTP API refuses:
`{"code", "message"}` with a 4xx status (401 without the admin key, as
`Authorization: Convex <admin key>`). The page (`static/`) is plain HTML, CSS and
JavaScript shipped in the package: no build step, nothing fetched from elsewhere.

`GET /` answers a short page saying the deployment runs, linking to the dashboard.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from confect.server.api import json_object, read_body, refusal
from confect.server.calls import ErrorCode, RequestError
from confect.server.dashboard import data, environment, files, functions, schedules
from confect.server.dashboard.deployment import deployment_info
from confect.server.dashboard.live import LiveChannel
from confect.server.dashboard.messages import (
    CancelRequest,
    DeleteFileRequest,
    DeleteRequest,
    DocumentsRequest,
    Empty,
    EnvironmentChanges,
    FilesRequest,
    InsertRequest,
    JobsRequest,
    ReplaceRequest,
    RunRequest,
    read,
    write,
)
from confect.server.protocol.http import to_json

if TYPE_CHECKING:
    from confect.server.asgi import Server

PATH = "/_dashboard"
STATIC = Path(__file__).with_name("static")

_PAGE_HEADERS = {
    "cache-control": "no-cache",
    # the page runs its own script only, talks to this origin only, and is never framed
    "content-security-policy": "default-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
}

Endpoint = Callable[["Server", Any], Awaitable[Any]]


def _sync(f: Callable[[Server, Any], Any]) -> Endpoint:
    async def endpoint(server: Server, request: Any) -> Any:
        return f(server, request)

    return endpoint


# each endpoint: the request type its body is read as, and what answers it
ENDPOINTS: dict[str, tuple[type[Any], Endpoint]] = {
    "tables": (Empty, _sync(lambda s, _: data.tables(s.backend))),
    "documents": (DocumentsRequest, _sync(lambda s, r: data.documents(s.backend, r))),
    "insert": (InsertRequest, lambda s, r: data.insert(s.backend, r)),
    "replace": (ReplaceRequest, lambda s, r: data.replace(s.backend, r)),
    "delete": (DeleteRequest, lambda s, r: data.delete(s.backend, r)),
    "functions": (Empty, _sync(lambda s, _: functions.functions(s.functions))),
    "run": (RunRequest, lambda s, r: functions.run(s.functions, r)),
    "jobs": (JobsRequest, _sync(lambda s, r: schedules.jobs(s.backend, r))),
    "cancel_job": (CancelRequest, lambda s, r: schedules.cancel(s.backend, r)),
    "crons": (Empty, _sync(lambda s, _: schedules.crons(s.backend))),
    "files": (FilesRequest, _sync(lambda s, r: files.files(s.backend, r))),
    "upload_url": (Empty, _sync(lambda s, _: files.upload_url(s.backend))),
    "delete_file": (DeleteFileRequest, lambda s, r: files.delete(s.backend, r)),
    "deployment": (Empty, _sync(lambda s, _: deployment_info(s.backend))),
    "environment": (Empty, _sync(lambda s, _: environment.variables(s.backend))),
    "set_environment": (EnvironmentChanges, _sync(lambda s, r: environment.change(s.backend, r))),
}


def routes(server: Server) -> list[BaseRoute]:
    """The dashboard's routes on `server`, and `GET /`."""

    async def page(_: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers=_PAGE_HEADERS)

    async def live(websocket: WebSocket) -> None:
        await LiveChannel(websocket, server).run()

    async def api(request: Request) -> Response:
        return await _answer(server, request)

    return [
        Route("/", _home, methods=["GET"]),
        Route(PATH, page, methods=["GET"]),
        Route(PATH + "/", page, methods=["GET"]),
        Mount(PATH + "/static", StaticFiles(directory=STATIC)),
        WebSocketRoute(PATH + "/api/live", live),
        Route(PATH + "/api/{name}", api, methods=["POST"]),
    ]


async def _answer(server: Server, request: Request) -> Response:
    server.started()
    try:
        name = str(request.path_params["name"])
        if name not in ENDPOINTS:
            raise RequestError(ErrorCode.NOT_FOUND, f"no dashboard endpoint {name!r}")
        await server.require_admin(
            request.headers.get("authorization"),
            "the dashboard needs the deployment's admin key (Authorization: Convex <key>)",
        )
        kind, endpoint = ENDPOINTS[name]
        body = await read_body(request.receive, request.headers.get("content-length"))
        answer = await endpoint(server, read(json_object(body), kind))
        return JSONResponse(write(answer))
    except Exception as error:
        refused = refusal(error, f"POST {request.url.path}")
        return JSONResponse(to_json(refused), status_code=refused.code.status)
    finally:
        server.ended()


async def _home(_: Request) -> Response:
    return HTMLResponse(_HOME)


_HOME = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>confect</title>
<style>body{font:16px system-ui,sans-serif;margin:4rem auto;max-width:36rem;color:#222}
a{color:#3b5bdb}</style></head>
<body><h1>This confect deployment is running.</h1>
<p>Its functions are served under <code>/api/</code>, as a Convex deployment's are.
Open the <a href="/_dashboard">dashboard</a> to browse its data, run its functions and
follow its logs (sign in with the deployment's admin key).</p></body></html>
"""
