"""Checked by pyright (strict): a `Service` class is its own tag and service type."""

# pyright: strict

from __future__ import annotations

from typing import Any, Never, assert_type

import effects
from effects import Effect, EffectGen, Layer, Service, gen


class Clock2(Service["Clock2"]):
    def now(self) -> float:
        return 1.0


class Greeter(Service["Greeter"], dependencies=[Clock2.default]):
    def __init__(self, clock: Clock2) -> None:
        self.clock = clock

    @classmethod
    @gen
    def make(cls) -> EffectGen[Greeter, Never, Clock2]:
        return cls((yield from Clock2))

    def greet(self, name: str) -> Effect[str]:
        return effects.succeed(f"hi {name} at {self.clock.now()}")


@gen
def hello(name: str) -> EffectGen[str, Never, Greeter]:
    greeter = yield from Greeter
    assert_type(greeter, Greeter)
    return (yield from greeter.greet(name))


def test_yield_from_a_service_class_gives_its_instance() -> None:
    assert_type(Greeter.default, Layer[Greeter, Any, Any])
    assert_type(Greeter.make(), Effect[Greeter, Never, Clock2])
    assert_type(Greeter.map(lambda g: g.clock), Effect[Clock2, Never, Greeter])
    assert effects.run_sync(hello("ada").provide(Greeter.default)) == "hi ada at 1.0"
