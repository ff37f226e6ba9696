"""Service keys (`Tag`, and `Reference` for one with a default) and the immutable map of
services an effect runs with (`Context`)."""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import Any, ClassVar, Generic, Never, TypeVar, cast

from effects._internal.core import OP_SERVICE, Effect, FlatMap, Map
from effects.errors import MissingServiceError

I = TypeVar("I")  # noqa: E741 - the tag's identity type
S = TypeVar("S")
B = TypeVar("B")
E2 = TypeVar("E2")
R2 = TypeVar("R2")


class TagMeta(type):
    """Metaclass that makes a tag class usable as an effect: `yield from Greeter`."""

    def __iter__(cls: type[Tag[I, S]]) -> Generator[Effect[S, Never, I], Any, S]:  # pyright: ignore[reportGeneralTypeIssues]
        # a tag class is an effect to the runtime; no cast() here, because subscripting
        # Effect on every service access cost twice the access itself
        return (yield cls)  # pyright: ignore[reportReturnType]

    def map(cls: type[Tag[I, S]], f: Callable[[S], B]) -> Effect[B, Never, I]:  # pyright: ignore[reportGeneralTypeIssues]
        """An effect that reads the service and transforms it."""
        node = object.__new__(Map)
        node.first = cast("Effect[Any, Any, Any]", cls)
        node.f = f
        return node

    def flat_map(
        cls: type[Tag[I, S]],  # pyright: ignore[reportGeneralTypeIssues]
        f: Callable[[S], Effect[B, E2, R2]],
    ) -> Effect[B, E2, I | R2]:
        """An effect that reads the service and continues with `f(service)`."""
        node = object.__new__(FlatMap)
        node.first = cast("Effect[Any, Any, Any]", cls)
        node.f = f
        return node

    def __repr__(cls) -> str:
        return f"<tag {cls.__name__}>"


class Tag(Generic[I, S], metaclass=TagMeta):
    """A service key. Subclass it: `class Greeter(Tag["Greeter", GreeterService]): ...`.

    The first type argument is the tag's identity (the class itself), which is what
    appears in an effect's `R`; the second is the type of the service.
    """

    _op = OP_SERVICE


class Reference(Tag[I, S]):
    """A service key with a default (Effect's `Context.Reference`): an effect that reads it
    where no service was provided gets `default`, the same value in every fiber.

        class MaxRetries(Reference["MaxRetries", int], default=3): ...

    Provide another value as for any tag: `eff.provide_service(MaxRetries, 5)`.
    """

    default: ClassVar[Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        if "default" in kwargs:
            cls.default = kwargs.pop("default")
        elif not hasattr(cls, "default"):
            raise TypeError(
                f"{cls.__name__} is a Reference without a default: "
                f"declare it as class {cls.__name__}(Reference[...], default=value)"
            )
        super().__init_subclass__(**kwargs)


class Unavailable:
    """A context entry that withholds its tag: an effect asking for the tag fails there
    with the defect `make_error()` returns, even where an outer context provides it.

    `Layer.succeed(Writer, Unavailable(lambda: RuntimeError("read-only here")))` hides
    the writer from the effects it is provided to; one that reaches the entry some other
    way (`Context.get`) fails the same way on any attribute it reads.
    """

    __slots__ = ("make_error",)

    def __init__(self, make_error: Callable[[], BaseException]) -> None:
        self.make_error = make_error

    def __getattr__(self, name: str) -> Any:
        raise self.make_error()

    def __repr__(self) -> str:
        return f"Unavailable({self.make_error()!r})"


def service_default(tag: object) -> Any:
    """What an effect reading `tag` gets where no service was provided: a `Reference`'s
    default; for any other tag nothing, which is a defect (`MissingServiceError`)."""
    if isinstance(tag, TagMeta) and issubclass(tag, Reference):
        return tag.default
    name: str = getattr(tag, "__name__", None) or repr(tag)
    raise MissingServiceError(
        f"no service for {name}: provide it with .provide_service({name}, impl) "
        f"or .provide(Layer.succeed({name}, impl))"
    )


class Context:
    """An immutable map from tags to services."""

    __slots__ = ("_services",)

    def __init__(self, services: Mapping[type[Tag[Any, Any]], Any] | None = None) -> None:
        self._services: dict[Any, Any] = dict(services or {})

    @staticmethod
    def make(tag: type[Tag[I, S]], service: S) -> Context:
        return Context({tag: service})

    def add(self, tag: type[Tag[I, S]], service: S) -> Context:
        return Context({**self._services, tag: service})

    def merge(self, other: Context) -> Context:
        return Context({**self._services, **other._services})

    def get(self, tag: type[Tag[I, S]]) -> S:
        try:
            return self._services[tag]
        except KeyError:
            raise KeyError(f"no service for {tag.__name__} in this context") from None

    def __contains__(self, tag: object) -> bool:
        return tag in self._services

    def __len__(self) -> int:
        return len(self._services)

    def as_dict(self) -> dict[Any, Any]:
        return dict(self._services)

    def __repr__(self) -> str:
        names = ", ".join(t.__name__ for t in self._services)
        return f"Context({names})"
