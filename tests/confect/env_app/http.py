"""GET /greeting: the greeting, read by an http action."""

from confect import HttpRouter

from .settings import greeting_over_http

http = HttpRouter()
http.route(path="/greeting", method="GET", handler=greeting_over_http)
