"""`Config[A]`: a description of configuration to read, typed `A` (Effect's `Config`).

    port = yield from Config.integer("PORT").with_default(8080)     # in a @gen function

A config reads through the `ConfigProvider` service in force (the environment unless
another is provided) when its effect runs. A missing or malformed value fails the effect
with a `ConfigError` naming each bad key and what was expected.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import Any, Generic, Never, TypeVar, overload

from effects.config_error import ConfigError, ConfigIssue
from effects.config_provider import ConfigProvider, ConfigProviderService, Path
from effects.effect import Effect, fail, succeed
from effects.redacted import Redacted

A = TypeVar("A", covariant=True)
B = TypeVar("B")
T = TypeVar("T")
L = TypeVar("L", bound=str | int | bool)
A1 = TypeVar("A1")
A2 = TypeVar("A2")
A3 = TypeVar("A3")
A4 = TypeVar("A4")
A5 = TypeVar("A5")
A6 = TypeVar("A6")

Loader = Callable[[ConfigProviderService, Path], T]

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


class Config(Generic[A]):
    """Configuration to read, typed `A`. Yield it in `@gen` (`yield from config`) or run
    `config.effect`; combine configs with `Config.all` / `Config.struct`."""

    __slots__ = ("_key", "_load")

    def __init__(self, load: Loader[A], key: Path = ()) -> None:
        self._load = load  # raises ConfigError
        self._key = key  # the path, under the config's own, of the one key it reads, if one

    # --- primitives -----------------------------------------------------------------------------

    @staticmethod
    def primitive(name: str, parse: Callable[[str], T], expected: str) -> Config[T]:
        """The text at key `name`, parsed by `parse`; when `parse` raises `ValueError` the
        value is malformed: "Expected {expected} but received {text}"."""

        def load(provider: ConfigProviderService, path: Path) -> T:
            key = (*path, name)
            text = provider.lookup(key)
            if text is None:
                shown = provider.key(key)
                raise _error(provider, key, f"Expected {shown} to exist in {provider.where}", True)
            try:
                return parse(text)
            except ValueError:
                raise _error(provider, key, f"Expected {expected} but received {text}") from None

        return Config(load, (name,))

    @staticmethod
    def string(name: str) -> Config[str]:
        """The text at key `name`."""
        return Config.primitive(name, str, "a string")

    @staticmethod
    def integer(name: str) -> Config[int]:
        """An integer (`int(text)`)."""
        return Config.primitive(name, int, "an integer value")

    @staticmethod
    def number(name: str) -> Config[float]:
        """A number (`float(text)`)."""
        return Config.primitive(name, float, "a number value")

    @staticmethod
    def boolean(name: str) -> Config[bool]:
        """A boolean: true/yes/on/1 or false/no/off/0 (Effect's words; any case here)."""
        return Config.primitive(name, _parse_bool, "a boolean value")

    @staticmethod
    def literal(name: str, *values: L) -> Config[L]:
        """One of `values`, compared as text (`str(value) == text`), as Effect's `literal`."""
        by_text = {str(value): value for value in values}
        listed = ", ".join(by_text)

        def parse(text: str) -> L:
            if text not in by_text:
                raise ValueError(text)
            return by_text[text]

        return Config.primitive(name, parse, f"one of ({listed})")

    @staticmethod
    def redacted(name: str) -> Config[Redacted[str]]:
        """A secret: the text at `name` wrapped in `Redacted`, so it never prints."""
        return Config.primitive(name, Redacted[str], "a string")

    @staticmethod
    def succeed(value: T) -> Config[T]:
        """A config that reads nothing and gives `value`."""
        return Config(lambda provider, path: value)

    # --- combinators ----------------------------------------------------------------------------

    def map(self, f: Callable[[A], B]) -> Config[B]:
        """Transform the value read."""
        load = self._load
        return Config(lambda provider, path: f(load(provider, path)), self._key)

    def validate(self, predicate: Callable[[A], bool], message: str) -> Config[A]:
        """Fail with `message` (malformed data) when `predicate(value)` is false."""
        load, key = self._load, self._key

        def validated(provider: ConfigProviderService, path: Path) -> A:
            value = load(provider, path)
            if not predicate(value):
                raise _error(provider, (*path, *key), message)
            return value

        return Config(validated, key)

    def with_default(self, default: B) -> Config[A | B]:
        """`default` when the value is missing; a malformed value still fails (Effect 3)."""
        load = self._load

        def defaulted(provider: ConfigProviderService, path: Path) -> A | B:
            try:
                return load(provider, path)
            except ConfigError as error:
                if error.missing_only:
                    return default
                raise

        return Config(defaulted, self._key)

    def option(self) -> Config[A | None]:
        """None when the value is missing (Effect's `Config.option`, with None for `Option`)."""
        return self.with_default(None)

    def nested(self, name: str) -> Config[A]:
        """Read this config under `name`: `Config.string("HOST").nested("DB")` reads
        `DB_HOST` from the environment, `db.host` from a dict."""
        load = self._load
        return Config(lambda provider, path: load(provider, (*path, name)), (name, *self._key))

    # --- combining ------------------------------------------------------------------------------

    @overload
    @staticmethod
    def all(configs: tuple[Config[A1]], /) -> Config[tuple[A1]]: ...
    @overload
    @staticmethod
    def all(configs: tuple[Config[A1], Config[A2]], /) -> Config[tuple[A1, A2]]: ...
    @overload
    @staticmethod
    def all(configs: tuple[Config[A1], Config[A2], Config[A3]], /) -> Config[tuple[A1, A2, A3]]: ...
    @overload
    @staticmethod
    def all(
        configs: tuple[Config[A1], Config[A2], Config[A3], Config[A4]], /
    ) -> Config[tuple[A1, A2, A3, A4]]: ...
    @overload
    @staticmethod
    def all(
        configs: tuple[Config[A1], Config[A2], Config[A3], Config[A4], Config[A5]], /
    ) -> Config[tuple[A1, A2, A3, A4, A5]]: ...
    @overload
    @staticmethod
    def all(
        configs: tuple[Config[A1], Config[A2], Config[A3], Config[A4], Config[A5], Config[A6]], /
    ) -> Config[tuple[A1, A2, A3, A4, A5, A6]]: ...
    @overload
    @staticmethod
    def all(configs: tuple[Config[Any], ...], /) -> Config[tuple[Any, ...]]: ...
    @overload
    @staticmethod
    def all(configs: Mapping[str, Config[Any]], /) -> Config[dict[str, Any]]: ...
    @staticmethod
    def all(
        configs: tuple[Config[Any], ...] | Mapping[str, Config[Any]], /
    ) -> Config[tuple[Any, ...]] | Config[dict[str, Any]]:
        """Read every config of a tuple or a dict; the result has the same shape. When some
        fail, the `ConfigError` lists every problem (Effect's `Config.all`)."""
        if isinstance(configs, Mapping):
            names = list(configs)
            values = Config._all_of([configs[name] for name in names])
            return values.map(lambda read: dict(zip(names, read, strict=True)))
        return Config._all_of(list(configs))

    @staticmethod
    def struct(make: Callable[..., T], **fields: Config[Any]) -> Config[T]:
        """`make(**values)` of the configs in `fields`: typed config objects, e.g. with an
        attrs class `Config.struct(Server, host=Config.string("HOST"), port=Config.integer("PORT"))`."""
        return Config.all(fields).map(lambda values: make(**values))

    @staticmethod
    def _all_of(configs: list[Config[Any]]) -> Config[tuple[Any, ...]]:
        def load(provider: ConfigProviderService, path: Path) -> tuple[Any, ...]:
            values: list[Any] = []
            issues: list[ConfigIssue] = []
            for config in configs:
                try:
                    values.append(config._load(provider, path))
                except ConfigError as error:
                    issues.extend(error.issues)
            if issues:
                raise ConfigError(issues=tuple(issues))
            return tuple(values)

        return Config(load)

    # --- reading --------------------------------------------------------------------------------

    def load(self, provider: ConfigProviderService) -> A:
        """Read this config from `provider` now; raise `ConfigError` if it cannot."""
        return self._load(provider, ())

    @property
    def effect(self) -> Effect[A, ConfigError, Never]:
        """The effect that reads this config through the `ConfigProvider` in force."""

        def read(provider: ConfigProviderService) -> Effect[A, ConfigError, Never]:
            try:
                return succeed(self._load(provider, ()))
            except ConfigError as error:
                return fail(error)

        return ConfigProvider.flat_map(read)  # pyright: ignore[reportReturnType] - a Reference needs no provider

    def __iter__(self) -> Generator[Effect[A, ConfigError, Never], Any, A]:
        return (yield from self.effect)

    def __repr__(self) -> str:
        return "<Config>"


def _parse_bool(text: str) -> bool:
    lowered = text.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(text)


def _error(
    provider: ConfigProviderService, path: Path, message: str, missing: bool = False
) -> ConfigError:
    issue = ConfigIssue(path=path, key=provider.key(path), message=message, missing=missing)
    return ConfigError(issues=(issue,))


__all__ = ["Config"]
