"""`Service`: a class that is its own tag, its implementation's type and its default layer
(Effect's `Effect.Service`).

    class Mailer(effects.Service["Mailer"]):
        def __init__(self, sender: str = "noreply") -> None:
            self.sender = sender

        def send(self, to: str) -> Effect[None]: ...

    @gen
    def welcome(to: str) -> EffectGen[None, Never, Mailer]:
        mailer = yield from Mailer          # a Mailer, to pyright too
        yield from mailer.send(to)

    welcome("ada").provide(Mailer.default)

`Mailer.default` builds the service with the class's `make` when it defines one (a
classmethod returning an effect, often a `@gen`, that may read other services and acquire
resources in the layer's scope), else with `Mailer()`. Services it needs can be given as
`class Mailer(Service["Mailer"], dependencies=[Config.default])`: `default` provides them,
`default_without_dependencies` leaves them to the user. Tests provide another
implementation as for any tag: `Layer.succeed(Mailer, FakeMailer())`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from effects.context import Tag
from effects.effect import Effect, suspend, sync
from effects.layer import Layer

T = TypeVar("T")
S = TypeVar("S")


class _DefaultLayer:
    """`Service.default`: the class's layer, typed as providing the class."""

    __slots__ = ("with_dependencies",)

    def __init__(self, with_dependencies: bool) -> None:
        self.with_dependencies = with_dependencies

    def __get__(self, obj: object, owner: type[S]) -> Layer[S, Any, Any]:
        service: Any = owner
        layers: dict[bool, Layer[Any, Any, Any]] | None = service.__dict__.get("_layers")
        if layers is None:  # made on first use, then the same objects: layers memoize by identity
            layers = service._layers = _layers_of(service)
        return layers[self.with_dependencies]


def _layers_of(cls: type[Any]) -> dict[bool, Layer[Any, Any, Any]]:
    make = getattr(cls, "make", None)
    build: Effect[Any, Any, Any] = sync(cls) if make is None else suspend(make)
    alone: Layer[Any, Any, Any] = Layer.scoped(cls, build)
    dependencies: tuple[Layer[Any, Any, Any], ...] = cls.__dict__["_dependencies"]
    whole = alone.provide(Layer.merge(*dependencies)) if dependencies else alone
    return {False: alone, True: whole}


class Service(Tag[T, T], Generic[T]):
    """Subclass as `class Name(Service["Name"])`: the class is the tag, the type of its
    service and, through `default`, the layer that builds it."""

    default: ClassVar[_DefaultLayer] = _DefaultLayer(with_dependencies=True)
    """The layer that builds this service (with its `dependencies`)."""

    default_without_dependencies: ClassVar[_DefaultLayer] = _DefaultLayer(with_dependencies=False)
    """The layer that builds this service, needing its dependencies from outside."""

    def __init_subclass__(
        cls, dependencies: Sequence[Layer[Any, Any, Any]] = (), **kwargs: Any
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls._dependencies = tuple(dependencies)
        cls._layers = None

    _dependencies: ClassVar[tuple[Layer[Any, Any, Any], ...]]
    _layers: ClassVar[dict[bool, Layer[Any, Any, Any]] | None]


__all__ = ["Service"]
