"""ManagedRuntime, run_fork and Layer.launch, after Effect 3's semantics
(ManagedRuntime.test.ts, Layer.launch, Effect.runFork): each docstring names the behaviour."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import effects
from effects import Exit, Layer, ManagedRuntime, Tag, TaggedError, gen
from effects.exit import Failure


class Counter:
    def __init__(self, name: str) -> None:
        self.name = name
        self.hits = 0


class First(Tag["First", Counter]): ...


class Second(Tag["Second", Counter]): ...


class BuildFailed(TaggedError):
    why: str


def resource(tag: type[Tag[Any, Counter]], name: str, log: list[str]) -> Layer[Any]:
    acquire = effects.sync(lambda: (log.append(f"acquire {name}"), Counter(name))[1])
    release = lambda counter: effects.sync(lambda: log.append(f"release {counter.name}"))  # noqa: E731
    return Layer.scoped(tag, effects.acquire_release(acquire, release))


def app_layer(log: list[str]) -> Layer[First | Second]:
    return Layer.merge(resource(First, "first", log), resource(Second, "second", log))


@gen
def hit():
    first = yield from First
    first.hits += 1
    return first.hits


def test_layer_is_built_lazily_and_once_across_runs() -> None:
    """Effect: ManagedRuntime builds its layer on first use and memoizes it for every run."""
    log: list[str] = []
    runtime = ManagedRuntime.make(app_layer(log))
    assert log == []
    assert [runtime.run_sync(hit()) for _ in range(3)] == [1, 2, 3]
    assert log == ["acquire first", "acquire second"]
    runtime.dispose()


def test_context_is_the_layers_services_built_once() -> None:
    """Effect: runtimeEffect gives the runtime (its context) of the one build."""
    log: list[str] = []
    runtime = ManagedRuntime.make(app_layer(log))
    context = runtime.run_sync(runtime.context())
    assert context.get(First) is runtime.run_sync(runtime.context()).get(First)
    assert {context.get(First).name, context.get(Second).name} == {"first", "second"}
    assert log == ["acquire first", "acquire second"]
    runtime.dispose()


async def test_async_runs_share_one_build() -> None:
    """Effect: concurrent first runs wait for the one build (runtimeEffect is cached)."""
    builds: list[int] = []
    building, gate = asyncio.Event(), asyncio.Event()

    async def build() -> Counter:
        builds.append(1)
        building.set()
        await gate.wait()
        return Counter("slow")

    runtime = ManagedRuntime.make(Layer.effect(First, effects.promise(build)))
    runs = [asyncio.ensure_future(runtime.run(hit())) for _ in range(3)]
    await building.wait()
    gate.set()
    assert sorted(await asyncio.gather(*runs)) == [1, 2, 3]
    assert builds == [1]
    await runtime.dispose()


async def test_run_exit_run_and_run_fork() -> None:
    """Effect: runPromise, runPromiseExit and runFork run with the layer's services."""
    log: list[str] = []
    async with ManagedRuntime.make(app_layer(log)) as runtime:
        assert await runtime.run(hit()) == 1
        assert await runtime.run_exit(hit()) == Exit.succeed(2)
        assert await runtime.run_fork(hit()) == 3
        assert runtime.run_sync_exit(hit()) == Exit.succeed(4)
    assert log[-2:] == ["release second", "release first"]


def test_dispose_releases_in_reverse_order_and_is_idempotent() -> None:
    """Effect: dispose closes the runtime's scope (finalizers last-acquired first), once."""
    log: list[str] = []
    runtime = ManagedRuntime.make(app_layer(log))
    runtime.run_sync(hit())
    runtime.dispose()
    runtime.dispose()
    assert log == ["acquire first", "acquire second", "release second", "release first"]


def test_run_after_dispose_fails_clearly() -> None:
    """Effect: after dispose the runtime effect dies with "ManagedRuntime disposed"."""
    log: list[str] = []
    with ManagedRuntime.make(app_layer(log)) as runtime:
        runtime.run_sync(hit())
    with pytest.raises(RuntimeError, match="ManagedRuntime disposed"):
        runtime.run_sync(hit())
    assert log.count("acquire first") == 1  # not built again


def test_build_failure_fails_every_run_and_builds_once() -> None:
    """Effect: a failed build is cached like a successful one: every run fails with it."""
    attempts: list[int] = []
    failing = Layer.effect(
        First, effects.sync(lambda: attempts.append(1)).then(effects.fail(BuildFailed(why="no")))
    )
    runtime = ManagedRuntime.make(failing)
    for _ in range(2):
        with pytest.raises(BuildFailed):
            runtime.run_sync(hit())
    assert attempts == [1]


async def test_run_fork_from_plain_code_joins_and_interrupts() -> None:
    """Effect: runFork returns the running fiber at once; it can be joined or interrupted."""
    started, released = asyncio.Event(), asyncio.Event()

    @gen
    def forever():
        yield from effects.sync(started.set)
        yield from effects.never().ensuring(effects.sync(released.set))

    handle = effects.run_fork(forever())
    assert handle.poll() is None
    await started.wait()
    exit_ = await handle.interrupt()
    assert isinstance(exit_, Failure) and exit_.cause.is_interrupted_only()
    assert released.is_set()
    assert await effects.run_fork(effects.succeed(7)) == 7
    assert await effects.run_fork(effects.succeed(8)).join() == 8


def test_run_fork_without_a_loop_runs_sync_steps_at_once() -> None:
    """Effect: runFork starts the fiber immediately; a synchronous effect is done on return."""
    handle = effects.run_fork(effects.succeed(1))
    assert handle.poll() == Exit.succeed(1)


async def test_launch_builds_and_releases_on_interrupt() -> None:
    """Effect: `Layer.launch` builds the layer and never ends; interrupting it releases."""
    log: list[str] = []
    handle = effects.run_fork(Layer.launch(app_layer(log)))
    while len(log) < 2:  # merge builds its parts in forked fibers: let the loop run them
        await asyncio.sleep(0)
    assert log == ["acquire first", "acquire second"]
    assert handle.poll() is None
    await handle.interrupt()
    assert log[2:] == ["release second", "release first"]


def test_run_fork_without_a_loop_goes_on_where_it_is_awaited() -> None:
    """A fiber forked with no loop running suspends, then finishes on the loop awaiting it."""

    async def answer() -> int:
        await asyncio.sleep(0)
        return 41

    handle = effects.run_fork(effects.promise(answer).map(lambda n: n + 1))
    assert handle.poll() is None
    assert asyncio.run(handle.join()) == 42


async def test_run_sync_refused_in_a_loop_does_not_leave_a_stuck_build() -> None:
    """run_sync refuses an asynchronous layer build inside a running loop; awaiting a run
    afterwards builds the layer (rather than waiting forever on the refused build)."""

    async def build() -> Counter:
        await asyncio.sleep(0)
        return Counter("async")

    runtime = ManagedRuntime.make(Layer.effect(First, effects.promise(build)))
    with pytest.raises(effects.AsyncInSyncError):
        runtime.run_sync(hit())
    assert await runtime.run(hit(), timeout=10) == 1  # the timeout only guards against a hang
    await runtime.dispose()


def async_release_layer(log: list[str]) -> Layer[First]:
    async def release() -> None:
        await asyncio.sleep(0)
        log.append("released")

    acquire = effects.sync(lambda: Counter("a"))
    return Layer.scoped(First, effects.acquire_release(acquire, lambda _: effects.promise(release)))


def test_dispose_in_plain_code_waits_for_async_finalizers() -> None:
    """dispose() from plain code returns once every finalizer, async ones too, has run."""
    log: list[str] = []
    runtime = ManagedRuntime.make(async_release_layer(log))
    runtime.run_sync(hit())
    runtime.dispose()
    assert log == ["released"]


async def test_awaited_dispose_waits_for_async_finalizers() -> None:
    """Effect: `await runtime.dispose()` resolves after the scope has closed."""
    log: list[str] = []
    runtime = ManagedRuntime.make(async_release_layer(log))
    await runtime.run(hit())
    await runtime.dispose()
    assert log == ["released"]
