"""The app's own services (its layer) on a ManagedRuntime: built once per deployment and
released on close or on the server's shutdown, finalizers last-acquired first; a reload
builds the new version's before anything changes, and disposes the old once the calls
that began with them have ended."""

import asyncio

import pytest

import effects
from confect import App, Backend, action, define_schema, query
from confect.server.asgi import Server
from confect.server.calls import Caller
from effects import Layer, Tag
from tests.servers import served


class Named:
    def __init__(self, name: str) -> None:
        self.name = name


class First(Tag["First", Named]): ...


class Second(Tag["Second", Named]): ...


def resource(tag: type[Tag[object, Named]], name: str, log: list[str]) -> Layer:
    def acquire() -> Named:
        log.append(f"acquire {name}")
        return Named(name)

    def release(service: Named):
        return effects.sync(lambda: log.append(f"release {service.name}"))

    return Layer.scoped(tag, effects.acquire_release(effects.sync(acquire), release))


def layer(log: list[str], version: str) -> Layer:
    first = resource(First, f"first {version}", log)
    return Layer.merge(first, resource(Second, f"second {version}", log))


def failing(log: list[str]) -> Layer:
    broken = Layer.effect(Second, effects.fail(ValueError("no second service today")))
    return broken.provide_merge(resource(First, "first v3", log))  # First, then Second


@query()
def names():
    first = yield from First
    second = yield from Second
    return [first.name, second.name]


release_action = asyncio.Event()


@action()
def waits():
    first = yield from First
    yield from effects.promise(release_action.wait)
    return first.name


def app(log: list[str], version: str = "v1", services: Layer | None = None) -> App:
    functions = {"s:names": names, "s:waits": waits}
    return App(functions, define_schema(), layer=services or layer(log, version))


async def call(server: Server, path: str):
    return (await server.functions.call(path, {}, Caller())).value


def test_the_layer_is_built_once_per_deployment_and_close_releases_it_in_reverse():
    log: list[str] = []
    backend = Backend(app(log))
    for _ in range(3):
        assert effects.run_sync(backend.query("s:names", {})).value == ["first v1", "second v1"]
    assert log == ["acquire first v1", "acquire second v1"]
    backend.close()
    assert log[2:] == ["release second v1", "release first v1"]


async def test_the_servers_shutdown_releases_the_apps_services():
    log: list[str] = []
    server = Server(Backend(app(log)))
    async with served(server):
        assert await call(server, "s:names") == ["first v1", "second v1"]
        assert log == ["acquire first v1", "acquire second v1"]
    assert log[2:] == ["release second v1", "release first v1"]


async def test_a_reload_swaps_the_services_and_disposes_the_old_after_the_calls_in_flight():
    log: list[str] = []
    release_action.clear()
    server = Server(Backend(app(log)))
    in_flight = asyncio.create_task(server.finish(call(server, "s:waits")))
    while not server._in_flight:
        await asyncio.sleep(0)
    retiring = await server.reload(app(log, "v2"))
    assert await call(server, "s:names") == ["first v2", "second v2"]
    assert not retiring.done()  # the action that began with the old services still runs
    assert "release first v1" not in log
    release_action.set()
    assert await in_flight == "first v1"
    await retiring
    assert log == [
        "acquire first v1",
        "acquire second v1",
        "acquire first v2",
        "acquire second v2",
        "release second v1",
        "release first v1",
    ]
    await server.close()
    assert log[6:] == ["release second v2", "release first v2"]


async def test_a_layer_failing_to_build_on_reload_leaves_the_old_version_serving():
    log: list[str] = []
    server = Server(Backend(app(log)))
    with pytest.raises(ValueError, match="no second service today"):
        await server.reload(app(log, services=failing(log)))
    # what the failed build had acquired is released; the old services still serve
    assert log == ["acquire first v1", "acquire second v1", "acquire first v3", "release first v3"]
    assert await call(server, "s:names") == ["first v1", "second v1"]
    await server.close()
    assert log[4:] == ["release second v1", "release first v1"]
