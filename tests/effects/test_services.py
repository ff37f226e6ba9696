"""Tags, contexts, layers (memoization, fresh, scoped), scopes and finalizers."""

from __future__ import annotations

import pytest

import effects
from effects import Exit, Layer, Scope, Tag, TaggedError, gen
from effects.context import Reference, Unavailable


class Greeter:
    def __init__(self, greeting: str = "hello") -> None:
        self.greeting = greeting

    def greet(self, name: str) -> str:
        return f"{self.greeting} {name}"


class GreeterTag(Tag["GreeterTag", Greeter]): ...


class Config(Tag["Config", dict[str, str]]): ...


class BuildFailed(TaggedError):
    why: str


@gen
def greet(name: str):
    greeter = yield from GreeterTag
    return greeter.greet(name)


def test_provide_service_and_nesting() -> None:
    assert effects.run_sync(greet("ann").provide_service(GreeterTag, Greeter())) == "hello ann"
    inner = greet("bo").provide_service(GreeterTag, Greeter("hi"))
    assert effects.run_sync(inner.provide_service(GreeterTag, Greeter())) == "hi bo"


def test_context_is_restored_after_provide() -> None:
    @gen
    def program():
        first = yield from greet("a").provide_service(GreeterTag, Greeter("inner"))
        second = yield from greet("b")
        return first, second

    assert effects.run_sync(program().provide_service(GreeterTag, Greeter("outer"))) == (
        "inner a",
        "outer b",
    )


def test_missing_service_is_a_defect_naming_the_tag() -> None:
    with pytest.raises(effects.MissingServiceError, match="GreeterTag.*provide"):
        effects.run_sync(greet("x"))


class ReadOnly(Exception):
    pass


def test_an_unavailable_entry_fails_the_request_even_under_a_provided_service() -> None:
    withheld = Unavailable(lambda: ReadOnly("no greeter here"))
    asked: list[str] = []

    @gen
    def ask():
        asked.append("before")
        try:
            yield from GreeterTag
        except ReadOnly as refusal:  # raised at the `yield from`, before any use
            return f"refused: {refusal}"
        return "got it"

    hidden = ask().provide_service(GreeterTag, withheld)
    assert effects.run_sync(hidden.provide_service(GreeterTag, Greeter())) == (
        "refused: no greeter here"
    )
    exit_ = effects.run_sync_exit(
        GreeterTag.map(lambda g: g.greeting).provide_service(GreeterTag, withheld)
    )
    assert isinstance(exit_, Exit.Failure) and isinstance(exit_.cause.defects()[0], ReadOnly)


class MaxRetries(Reference["MaxRetries", int], default=3): ...


def test_a_reference_gives_its_default_where_no_service_was_provided() -> None:
    @gen
    def read():
        return (yield from MaxRetries)

    assert effects.run_sync(read()) == 3
    assert effects.run_sync(MaxRetries.map(lambda n: n * 2)) == 6
    assert effects.run_sync(read().provide_service(MaxRetries, 5)) == 5
    assert effects.run_sync(read().provide(Layer.succeed(MaxRetries, 7))) == 7


def test_a_reference_without_a_default_is_refused_where_it_is_declared() -> None:
    with pytest.raises(TypeError, match="Undefaulted.*default="):

        class Undefaulted(Reference["Undefaulted", int]): ...


def test_tag_map_and_flat_map() -> None:
    eff = GreeterTag.map(lambda g: g.greeting).provide_service(GreeterTag, Greeter("yo"))
    assert effects.run_sync(eff) == "yo"


def test_layer_succeed_merge_provide() -> None:
    layer = Layer.merge(
        Layer.succeed(GreeterTag, Greeter("hey")), Layer.succeed(Config, {"x": "1"})
    )

    @gen
    def program():
        cfg = yield from Config
        return (yield from greet(cfg["x"]))

    assert effects.run_sync(program().provide(layer)) == "hey 1"


def test_layer_effect_is_built_once_per_provide_when_shared() -> None:
    builds: list[str] = []
    config = Layer.effect(
        Config, effects.sync(lambda: builds.append("config") or {"greeting": "hallo"})
    )
    greeter = Layer.effect(GreeterTag, Config.map(lambda c: Greeter(c["greeting"]))).provide(config)
    app = Layer.merge(greeter, config)
    assert effects.run_sync(greet("z").provide(app)) == "hallo z"
    assert builds == ["config"]
    effects.run_sync(greet("z").provide(app))
    assert builds == ["config", "config"]  # memoized per build, not across runs


def test_fresh_layer_is_built_each_time_it_appears() -> None:
    builds: list[int] = []
    config = Layer.effect(
        Config, effects.sync(lambda: builds.append(1) or {"greeting": "g"})
    ).fresh()
    effects.run_sync(effects.succeed(None).provide(Layer.merge(config, config)))
    assert len(builds) == 2


def test_layer_build_failure_is_typed() -> None:
    failing = Layer.effect(GreeterTag, effects.fail(BuildFailed(why="no db")))
    with pytest.raises(BuildFailed):
        effects.run_sync(greet("q").provide(failing))


def test_scoped_layer_releases_after_use_in_reverse_order() -> None:
    log: list[str] = []

    def resource(name: str) -> effects.Effect[str, effects.Never, Scope]:
        return effects.acquire_release(
            effects.sync(lambda: log.append(f"open {name}") or name),
            lambda _: effects.sync(lambda: log.append(f"close {name}")),
        )

    @gen
    def make_greeter():
        a = yield from resource("a")
        b = yield from resource("b")
        return Greeter(f"{a}{b}")

    layer = Layer.scoped(GreeterTag, make_greeter())
    result = effects.run_sync(
        greet("x").tap(lambda _: effects.sync(lambda: log.append("use"))).provide(layer)
    )
    assert result == "ab x"
    assert log == ["open a", "open b", "use", "close b", "close a"]


def test_scope_releases_on_failure_and_reports_finalizer_failures() -> None:
    log: list[str] = []

    @gen
    def program():
        yield from effects.acquire_release(
            effects.succeed(1), lambda _: effects.sync(lambda: log.append("released"))
        )
        yield from BuildFailed(why="after acquire")

    with pytest.raises(BuildFailed):
        effects.run_sync(effects.scoped(program()))
    assert log == ["released"]

    bad_release = effects.acquire_release(
        effects.succeed(1), lambda _: effects.die(RuntimeError("release broke"))
    )
    exit_ = effects.run_sync_exit(effects.scoped(bad_release))
    assert isinstance(exit_, Exit.Failure)
    assert [str(d) for d in exit_.cause.defects()] == ["release broke"]


def test_ensuring_and_on_exit_run_however_it_ends() -> None:
    log: list[str] = []
    effects.run_sync_exit(
        effects.fail(BuildFailed(why="w")).ensuring(effects.sync(lambda: log.append("ensure")))
    )
    effects.run_sync(
        effects.succeed(3).on_exit(
            lambda ex: effects.sync(lambda: log.append(f"exit {ex.is_success()}"))
        )
    )
    assert log == ["ensure", "exit True"]


def test_finalizer_failure_after_success_fails_the_effect() -> None:
    exit_ = effects.run_sync_exit(effects.succeed(1).ensuring(effects.die(ValueError("fin"))))
    assert isinstance(exit_, Exit.Failure)
    assert [str(d) for d in exit_.cause.defects()] == ["fin"]
