"""One call over Convex's HTTP API (`POST /api/query`, `/api/mutation`, `/api/action`),
as `AsyncClient` makes its calls: the `convex` client's calls hold the GIL while they
wait for the answer, which would stop the event loop; a socket read in a worker thread
does not."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any, cast

from confect.client._calls import Call
from confect.model.values import from_wire, to_wire


def post(url: str, call: Call, authorization: str | None) -> Any:
    """Make `call` to the deployment at `url` (blocking); its result, or its error: the
    declared one, a `ConvexError`, or a `RuntimeError` with the server's message."""
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    body = {"path": call.path, "args": to_wire(call.args), "format": "json"}
    request = urllib.request.Request(
        f"{url.rstrip('/')}/api/{call.kind}", json.dumps(body).encode(), headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request) as response:
            answer = _answer(response.read())
    except urllib.error.HTTPError as error:
        answer = _answer(error.read(), f"HTTP {error.code}")
    if answer.get("status") == "success":
        return call.result(from_wire(answer.get("value")))
    if answer.get("status") == "error":
        message = str(answer.get("errorMessage", ""))
        if "errorData" in answer:
            raise call.error(from_wire(answer["errorData"]), message)
        raise RuntimeError(message)
    raise RuntimeError(f"{answer.get('code', 'refused')}: {answer.get('message', answer)}")


def _answer(body: bytes, status: str = "") -> dict[str, Any]:
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise RuntimeError(f"the deployment answered {status} {body[:200]!r}".replace("  ", " "))
    return cast(dict[str, Any], answer)
