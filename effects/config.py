"""`Config[A]`: a description of configuration to read, typed `A` (Effect's `Config`).

    port = yield from Config.integer("PORT").with_default(8080)     # in a @gen function

A config reads through the `ConfigProvider` service in force (the environment unless
another is provided) when its effect runs. A missing or malformed value fails the effect
with a `ConfigError` naming each bad key and what was expected.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Generator, Mapping
from typing import Any, Generic, Never, TypeVar, overload

import attrs

from effects.config_error import ConfigError, ConfigIssue
from effects.config_provider import ConfigProvider, ConfigProviderService, Path
from effects.effect import Effect, fail, succeed
from effects.logger import LogLevel
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
    def primitive(name: str | None, parse: Callable[[str], T], expected: str) -> Config[T]:
        """The text at key `name` (at the config's own path when None: how a sequence's
        items are read), parsed by `parse`; when `parse` raises `ValueError` the value is
        malformed: `Expected {expected} but received "{text}"` (Effect's message)."""
        own: Path = () if name is None else (name,)

        def load(provider: ConfigProviderService, path: Path) -> T:
            key = (*path, *own)
            text = provider.lookup(key)
            if text is None:
                shown = provider.key(key)
                raise _error(provider, key, f"Expected {shown} to exist in {provider.where}", True)
            try:
                return parse(text)
            except ValueError:
                received = json.dumps(text, ensure_ascii=False)
                raise _error(
                    provider, key, f"Expected {expected} but received {received}"
                ) from None

        return Config(load, own)

    @staticmethod
    def string(name: str | None = None) -> Config[str]:
        """The text at key `name`."""
        return Config.primitive(name, str, "a string")

    @staticmethod
    def non_empty_string(name: str | None = None) -> Config[str]:
        """Text that is not empty; empty text counts as missing, as in Effect (so
        `with_default` applies to it): "Expected a non-empty string"."""
        string = Config.string(name)
        load = string._load  # pyright: ignore[reportPrivateUsage]

        def non_empty(provider: ConfigProviderService, path: Path) -> str:
            text = load(provider, path)
            if not text:
                raise _error(provider, (*path, *string._key), "Expected a non-empty string", True)
            return text

        return Config(non_empty, string._key)

    @staticmethod
    def integer(name: str | None = None) -> Config[int]:
        """An integer (`int(text)`)."""
        return Config.primitive(name, int, "an integer value")

    @staticmethod
    def number(name: str | None = None) -> Config[float]:
        """A number (`float(text)`)."""
        return Config.primitive(name, float, "a number value")

    @staticmethod
    def boolean(name: str | None = None) -> Config[bool]:
        """A boolean: true/yes/on/1 or false/no/off/0 (Effect's words; any case here)."""
        return Config.primitive(name, _parse_bool, "a boolean value")

    @staticmethod
    def port(name: str | None = None) -> Config[int]:
        """A network port: an integer from 1 to 65535, written plainly (`"080"` is not)."""
        return Config.primitive(name, _parse_port, "a network port value")

    @staticmethod
    def url(name: str | None = None) -> Config[str]:
        """An absolute URL (with a scheme, as JavaScript's `new URL` requires), as text."""
        return Config.primitive(name, _parse_url, "an URL value")

    @staticmethod
    def duration(name: str | None = None) -> Config[float]:
        """A duration in seconds (effects' unit of time), written as Effect's
        `Duration.decode` reads it: a number and a unit, `"10 seconds"`, `"1.5 hours"`,
        `"250 millis"` (nanos, micros, millis, seconds, minutes, hours, days, weeks)."""
        return Config.primitive(name, _parse_duration, "a duration")

    @staticmethod
    def log_level(name: str | None = None) -> Config[LogLevel]:
        """A `LogLevel` by Effect's label, in any case: ALL, TRACE, DEBUG, INFO, WARN,
        ERROR, FATAL, OFF (and the Python names WARNING, NONE)."""
        return Config.primitive(name, _parse_log_level, "a log level")

    @staticmethod
    def literal(name: str | None, *values: L) -> Config[L]:
        """One of `values`, compared as text (`str(value) == text`), as Effect's `literal`."""
        by_text = {str(value): value for value in values}
        listed = ", ".join(by_text)

        def parse(text: str) -> L:
            if text not in by_text:
                raise ValueError(text)
            return by_text[text]

        return Config.primitive(name, parse, f"one of ({listed})")

    @overload
    @staticmethod
    def redacted(name: str | None = None, /) -> Config[Redacted[str]]: ...
    @overload
    @staticmethod
    def redacted(config: Config[T], /) -> Config[Redacted[T]]: ...
    @staticmethod
    def redacted(name_or_config: str | Config[Any] | None = None, /) -> Config[Redacted[Any]]:
        """A secret: the text at `name` (or the value of `config`) wrapped in `Redacted`,
        so it never prints; the messages of its errors are `<redacted>` too, since a
        malformed value's message would show it (Effect 3.22)."""
        config = (
            name_or_config if isinstance(name_or_config, Config) else Config.string(name_or_config)
        )
        load = config._load

        def hidden(provider: ConfigProviderService, path: Path) -> Redacted[Any]:
            try:
                return Redacted(load(provider, path))
            except ConfigError as error:
                issues = tuple(attrs.evolve(issue, message="<redacted>") for issue in error.issues)
                raise ConfigError(issues=issues) from None

        return Config(hidden, config._key)

    @staticmethod
    def fail(message: str) -> Config[Never]:
        """A config that always fails, as missing data with `message` (Effect's
        `Config.fail`): `or_else` and `with_default` recover from it."""

        def load(provider: ConfigProviderService, path: Path) -> Never:
            raise _error(provider, path, message, True)

        return Config(load)

    # --- collections ----------------------------------------------------------------------------

    @staticmethod
    def array(config: Config[T], name: str | None = None) -> Config[list[T]]:
        """A list of `config`'s values (Effect's `Config.array`): read from a list in a
        dict, or from text split at the provider's `seq_delim` ("," by default:
        `Config.array(Config.integer(), "PORTS")` reads `PORTS=80,443`). Each item is
        read by `config` (nameless: `Config.integer()`); a bad item fails naming the key
        of the sequence."""
        own: Path = () if name is None else (name,)
        load = config._load

        def items(provider: ConfigProviderService, path: Path) -> list[T]:
            key = (*path, *own)
            texts = provider.sequence(key)
            if texts is None:
                return [load(provider, key)]  # fails as missing, unless `config` needs no value
            return [load(provider.with_value(key, text), key) for text in texts]

        return Config(items, own)

    @staticmethod
    def chunk(config: Config[T], name: str | None = None) -> Config[tuple[T, ...]]:
        """As `array`, as a tuple (Effect's `Config.chunk`, an immutable sequence)."""
        return Config.array(config, name).map(tuple)

    @staticmethod
    def hash_set(config: Config[T], name: str | None = None) -> Config[frozenset[T]]:
        """As `array`, as a frozenset (Effect's `Config.hashSet`)."""
        return Config.array(config, name).map(frozenset)

    @staticmethod
    def hash_map(config: Config[T], name: str | None = None) -> Config[dict[str, T]]:
        """A dict of every key one level under `name`, each read by `config` (Effect's
        `Config.hashMap`): `Config.hash_map(Config.integer(), "LIMITS")` reads `LIMITS_A=1`
        and `LIMITS_B=2` from the environment as `{"A": 1, "B": 2}`; no keys, `{}`. When
        some fail, the error lists each."""
        own: Path = () if name is None else (name,)
        load = config._load

        def table(provider: ConfigProviderService, path: Path) -> dict[str, T]:
            key = (*path, *own)
            values: dict[str, T] = {}
            issues: list[ConfigIssue] = []
            for child in provider.children(key):
                try:
                    values[child] = load(provider, (*key, child))
                except ConfigError as error:
                    issues.extend(error.issues)
            if issues:
                raise ConfigError(issues=tuple(issues))
            return values

        return Config(table, own)

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

    def or_else(self, that: Callable[[], Config[B]] | Config[B]) -> Config[A | B]:
        """This config's value, or when it fails in any way `that`'s (Effect's
        `Config.orElse`); when both fail, the error lists the problems of both."""
        load = self._load

        def fallback(provider: ConfigProviderService, path: Path) -> A | B:
            try:
                return load(provider, path)
            except ConfigError as first:
                other = that() if callable(that) else that
                try:
                    return other._load(provider, path)
                except ConfigError as second:
                    raise ConfigError(issues=first.issues + second.issues) from None

        return Config(fallback)

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


def _parse_port(text: str) -> int:
    port = int(text)
    if str(port) != text or not 1 <= port <= 65535:
        raise ValueError(text)
    return port


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def _parse_url(text: str) -> str:
    if not _SCHEME.match(text) or any(c.isspace() for c in text):
        raise ValueError(text)
    return text


_DURATION = re.compile(
    r"(-?\d+(?:\.\d+)?)\s+(nanos?|micros?|millis?|seconds?|minutes?|hours?|days?|weeks?)"
)
_UNIT_SECONDS = {
    "nano": 1e-9,
    "micro": 1e-6,
    "milli": 1e-3,
    "second": 1.0,
    "minute": 60.0,
    "hour": 3600.0,
    "day": 86400.0,
    "week": 604800.0,
}


def _parse_duration(text: str) -> float:
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(text)
    amount, unit = match.groups()
    return float(amount) * _UNIT_SECONDS[unit.removesuffix("s")]


_LEVELS = {level.label: level for level in LogLevel} | {level.name: level for level in LogLevel}


def _parse_log_level(text: str) -> LogLevel:
    try:
        return _LEVELS[text.upper()]
    except KeyError:
        raise ValueError(text) from None


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
