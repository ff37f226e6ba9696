"""Functions of every kind reading `GREETING` (and others) through `effects.Config`."""

from confect import (
    DatabaseReader,
    DatabaseWriter,
    HttpRequest,
    HttpResponse,
    Scheduler,
    action,
    http_action,
    internal_mutation,
    mutation,
    query,
)
from effects import Config, EffectGen

GREETING = Config.string("GREETING").with_default("unset")


@query()
def greeting() -> EffectGen[str]:
    """The GREETING variable, or "unset"."""
    return (yield from GREETING)


@query()
def other() -> EffectGen[str]:
    """The OTHER variable, or "unset" (reads nothing else)."""
    return (yield from Config.string("OTHER").with_default("unset"))


@query()
def database_host() -> EffectGen[str]:
    """DB_HOST, read as the nested config `HOST` under `DB`."""
    return (yield from Config.string("HOST").nested("DB"))


@query()
def port() -> EffectGen[int]:
    """PORT as an integer: a ConfigError when it is missing or not one."""
    return (yield from Config.integer("PORT"))


@query()
def urls() -> EffectGen[list[str]]:
    """The deployment's system variables CONVEX_CLOUD_URL and CONVEX_SITE_URL."""
    urls = Config.all((Config.string("CONVEX_CLOUD_URL"), Config.string("CONVEX_SITE_URL")))
    return list((yield from urls))


@query()
def home() -> EffectGen[str]:
    """HOME, which the process environment has and the deployment's does not."""
    return (yield from Config.string("HOME").with_default("not in the deployment"))


@internal_mutation()
def record() -> EffectGen[None]:
    """Keep the greeting read now in `seen`."""
    db = yield from DatabaseWriter
    yield from db.table("seen").insert({"greeting": (yield from GREETING)})


@mutation()
def record_later() -> EffectGen[None]:
    """Schedule `record` to run now."""
    scheduler = yield from Scheduler
    yield from scheduler.run_after(0, record)


@query()
def seen() -> EffectGen[list[str]]:
    """The greetings `record` kept, oldest first."""
    db = yield from DatabaseReader
    return [str(doc["greeting"]) for doc in (yield from db.table("seen").collect())]


@action()
def greeting_in_action() -> EffectGen[str]:
    """The greeting, as an action reads it."""
    return (yield from GREETING)


@http_action()
def greeting_over_http(request: HttpRequest) -> EffectGen[HttpResponse]:
    """The greeting, as an http action reads it."""
    return HttpResponse(200, (yield from GREETING).encode(), {"content-type": "text/plain"})
