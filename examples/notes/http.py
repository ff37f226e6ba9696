"""HTTP routes, served at the site URL (`confect dev`: GET http://127.0.0.1:3211/count) and
under /http on the main port (GET http://127.0.0.1:3210/http/count)."""

import effects
from confect import HttpRequest, HttpResponse, HttpRouter, QueryRunner, http_action
from effects import Effect, EffectGen

from ._generated.refs import api


@http_action()
def count(request: HttpRequest) -> EffectGen[HttpResponse]:
    """The number of notes of `?author=...`."""
    runner = yield from QueryRunner
    author = request.query.get("author", "")
    notes = yield from runner.run_query(api.notes.list_by_author, author=author)
    return HttpResponse.json({"author": author, "count": len(notes)})


@http_action()
def echo(request: HttpRequest) -> Effect[HttpResponse]:
    """Sends the request body back (a handler may return an effect instead of yielding)."""
    content_type = request.headers.get("content-type", "text/plain")
    return effects.succeed(HttpResponse(200, request.body, {"content-type": content_type}))


http = HttpRouter(cors_origins=["*"])
http.route(path="/count", method="GET", handler=count)
http.route(path_prefix="/echo/", method="POST", handler=echo)
