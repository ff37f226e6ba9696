"""How layers are built: `merge` builds its parts concurrently, a layer shared by
concurrent parts is built once, `fresh` rebuilds its whole subgraph with its own memo."""

from __future__ import annotations

import effects
from effects import Layer, Tag, TaggedError, TestClock, gen


class Slow(Tag["Slow", str]): ...


class Quick(Tag["Quick", str]): ...


class Config(Tag["Config", int]): ...


class BuildFailed(TaggedError):
    why: str


def test_merge_builds_its_parts_concurrently() -> None:
    """Effect's Layer.merge builds both layers concurrently: a part that waits (here
    sleeping on the TestClock) does not hold up the part after it."""
    built: list[str] = []
    slow = Layer.effect(
        Slow, effects.sleep(10).then(effects.sync(lambda: built.append("slow") or "s"))
    )
    quick = Layer.effect(Quick, effects.sync(lambda: built.append("quick") or "q"))

    @gen
    def use():
        return (yield from Slow) + (yield from Quick)

    @gen
    def program():
        fiber = yield from effects.fork(use().provide(Layer.merge(slow, quick)))
        yield from TestClock.adjust(1)
        while_slow_waits = list(built)
        yield from TestClock.adjust(10)
        return while_slow_waits, (yield from fiber.join())

    assert effects.run_sync(program().provide(TestClock.layer())) == (["quick"], "sq")


def test_a_failing_part_interrupts_the_others() -> None:
    """Effect's concurrent Layer.merge: when one part fails the build fails with its
    error and the other parts are interrupted."""
    stopped: list[str] = []
    waits = Layer.effect(
        Slow, effects.never().ensuring(effects.sync(lambda: stopped.append("slow")))
    )
    fails = Layer.effect(Quick, effects.fail(BuildFailed(why="no db")))
    exit_ = effects.run_sync_exit(effects.succeed(1).provide(Layer.merge(waits, fails)))
    assert isinstance(exit_, effects.Exit.Failure)
    assert isinstance(exit_.cause.failures()[0], BuildFailed)
    assert stopped == ["slow"]


def test_a_layer_shared_by_concurrent_parts_is_built_once() -> None:
    """Effect's MemoMap: within one build a layer is built once, even when two concurrent
    parts of a merge ask for it while it is still being built."""
    builds: list[int] = []
    config = Layer.effect(
        Config, effects.sleep(5).then(effects.sync(lambda: builds.append(1) or 7))
    )
    slow = Layer.effect(Slow, Config.map(str)).provide(config)
    quick = Layer.effect(Quick, Config.map(lambda n: str(n * 2))).provide(config)

    @gen
    def use():
        return (yield from Slow) + (yield from Quick)

    @gen
    def program():
        fiber = yield from effects.fork(use().provide(Layer.merge(slow, quick)))
        yield from TestClock.adjust(5)
        return (yield from fiber.join())

    assert effects.run_sync(program().provide(TestClock.layer())) == "714"
    assert builds == [1]


def test_fresh_rebuilds_its_subgraph_with_its_own_memo() -> None:
    """Effect's Layer.fresh builds its layer with a new memo map: fresh(merge(l, l)) builds
    l again, once, even where l was built outside it."""
    builds: list[int] = []
    config = Layer.effect(Config, effects.sync(lambda: builds.append(1) or 1))
    effects.run_sync(effects.succeed(None).provide(Layer.merge(config, config).fresh()))
    assert len(builds) == 1
    builds.clear()
    app = Layer.merge(config, Layer.merge(config, config).fresh())
    effects.run_sync(Config.map(lambda n: n).provide(app))
    assert len(builds) == 2
