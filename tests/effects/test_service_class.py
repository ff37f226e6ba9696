"""`Service` classes (Effect's `Effect.Service`): the class is the tag, the service's type
and, through `default`, its layer."""

from __future__ import annotations

from typing import Never

import effects
from effects import Effect, EffectGen, Layer, Scope, Service, gen


class Config(Service["Config"]):
    def __init__(self, sender: str = "noreply") -> None:
        self.sender = sender


class Mailer(Service["Mailer"], dependencies=[Config.default]):
    """Built by `make`, from the Config service, with a resource in the layer's scope."""

    log: list[str] = []

    def __init__(self, config: Config) -> None:
        self.config = config

    @classmethod
    @gen
    def make(cls) -> EffectGen[Mailer, Never, Config | Scope]:
        config = yield from Config
        cls.log.append("open")
        yield from effects.add_finalizer(lambda _: effects.sync(lambda: cls.log.append("close")))
        return cls(config)

    def send(self, to: str) -> Effect[str]:
        return effects.succeed(f"{self.config.sender} -> {to}")


@gen
def welcome(to: str) -> EffectGen[str, Never, Mailer]:
    mailer = yield from Mailer
    return (yield from mailer.send(to))


def test_default_builds_the_service_with_its_constructor() -> None:
    """Effect.Service: `yield* Config` gives the instance `Config.Default` built."""
    config = effects.run_sync(Config.map(lambda c: c).provide(Config.default))
    assert isinstance(config, Config)
    assert config.sender == "noreply"


def test_default_builds_with_make_and_provides_the_dependencies() -> None:
    """Effect.Service with `dependencies`: `Default` builds the service with its
    dependencies provided, and its scoped resources are released when the user ends."""
    Mailer.log.clear()
    assert effects.run_sync(welcome("ada").provide(Mailer.default)) == "noreply -> ada"
    assert Mailer.log == ["open", "close"]


def test_default_without_dependencies_takes_them_from_outside() -> None:
    """Effect.Service's `DefaultWithoutDependencies`: the dependencies come from outside."""
    layer = Mailer.default_without_dependencies.provide(Layer.succeed(Config, Config("ops")))
    assert effects.run_sync(welcome("bo").provide(layer)) == "ops -> bo"


def test_default_is_one_layer_so_it_is_built_once_per_provide() -> None:
    """Layers memoize by identity: `Mailer.default` is the same layer wherever it is used."""
    Mailer.log.clear()
    assert Mailer.default is Mailer.default
    both = Layer.merge(Mailer.default, Mailer.default)
    effects.run_sync(welcome("cy").provide(both))
    assert Mailer.log == ["open", "close"]


def test_another_implementation_is_provided_as_for_any_tag() -> None:
    """As with any Effect service, a test provides its own implementation for the tag."""

    class FakeMailer(Mailer):
        def send(self, to: str) -> Effect[str]:
            return effects.succeed(f"fake {to}")

    fake = Layer.succeed(Mailer, FakeMailer(Config()))
    assert effects.run_sync(welcome("di").provide(fake)) == "fake di"
