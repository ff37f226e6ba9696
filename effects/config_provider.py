"""Where a `Config` reads its values: the `ConfigProvider` service (the environment unless
another is provided) and the providers `from_env`, `from_dict`, `nested`, `upper_case`.

As in Effect 3, `from_env` joins a key's path with "_" and keeps its case:
`Config.string("HOST").nested("DB")` reads `DB_HOST`; `from_dict` joins with "." (as
Effect's `fromMap`) and also looks into nested dicts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast, overload

from effects.context import Reference
from effects.effect import Effect

A = TypeVar("A")
E = TypeVar("E")
R = TypeVar("R")

Path = tuple[str, ...]


class ConfigProviderService:
    """Reads the text of a key path (`lookup`), a sequence at a path (`sequence`: the
    values of a list, or the text split at `seq_delim`), the names under a path
    (`children`), and names a path for error messages (`key`)."""

    __slots__ = ("_children", "_lookup", "_map_path", "path_delim", "seq_delim", "where")

    def __init__(
        self,
        lookup: Callable[[Path], object | None],
        *,
        path_delim: str,
        where: str,
        seq_delim: str = ",",
        children: Callable[[Path], list[str]] = lambda path: [],
        map_path: Callable[[Path], Path] = lambda path: path,
    ) -> None:
        self._lookup = lookup  # the raw value: text, or a list of values (from a dict)
        self._children = children
        self._map_path = map_path
        self.path_delim = path_delim
        self.seq_delim = seq_delim
        self.where = where  # "the environment": where a missing key was looked for

    def lookup(self, path: Path) -> str | None:
        """The text at `path`, or None when there is none (a list's values joined by
        `seq_delim`)."""
        value = self._lookup(self._map_path(path))
        if isinstance(value, (list, tuple)):
            return self.seq_delim.join(str(item) for item in cast("list[object]", value))
        return None if value is None else str(value)

    def sequence(self, path: Path) -> list[str] | None:
        """The values of the sequence at `path` (Effect's flat sequences): a list's items,
        or the text split at `seq_delim`, whitespace around each delimiter dropped; None
        when there is nothing at `path`."""
        value = self._lookup(self._map_path(path))
        if value is None:
            return None
        if isinstance(value, (list, tuple)):
            return [str(item) for item in cast("list[object]", value)]
        return re.split(rf"\s*{re.escape(self.seq_delim)}\s*", str(value))

    def children(self, path: Path) -> list[str]:
        """The names one level under `path` (`DB_HOST`, `DB_PORT` -> `HOST`, `PORT`), in
        the order first met (Effect's `enumerateChildren`)."""
        return self._children(self._map_path(path))

    def key(self, path: Path) -> str:
        """The name `path` is looked up under (e.g. the environment variable's name)."""
        return self.path_delim.join(self._map_path(path))

    def map_input_path(self, f: Callable[[str], str]) -> ConfigProviderService:
        """This provider with each path segment changed by `f` before lookup."""
        inner = self._map_path
        return self._with(map_path=lambda path: inner(tuple(f(segment) for segment in path)))

    def nested(self, name: str) -> ConfigProviderService:
        """This provider with every path under `name` (`from_env().nested("APP")` reads
        `Config.string("PORT")` from `APP_PORT`)."""
        inner = self._map_path
        return self._with(map_path=lambda path: inner((name, *path)))

    def upper_case(self) -> ConfigProviderService:
        """This provider with key paths upper-cased (`Config.string("port")` reads `PORT`)."""
        return self.map_input_path(str.upper)

    def with_value(self, path: Path, text: str) -> ConfigProviderService:
        """This provider, but with `text` at `path` (how each item of a sequence is read
        by the item's config)."""
        target, inner = self._map_path(path), self._lookup
        return self._with(lookup=lambda looked: text if looked == target else inner(looked))

    def _with(
        self,
        *,
        lookup: Callable[[Path], object | None] | None = None,
        map_path: Callable[[Path], Path] | None = None,
    ) -> ConfigProviderService:
        return ConfigProviderService(
            lookup or self._lookup,
            path_delim=self.path_delim,
            seq_delim=self.seq_delim,
            where=self.where,
            children=self._children,
            map_path=map_path or self._map_path,
        )


def _children_of(keys: list[Path], path: Path) -> list[str]:
    depth = len(path)
    found = [key[depth] for key in keys if len(key) > depth and key[:depth] == path]
    return list(dict.fromkeys(found))


def from_env(*, path_delim: str = "_", seq_delim: str = ",") -> ConfigProviderService:
    """Read `os.environ` (at each load), the path joined by `path_delim`, case kept, a
    sequence split at `seq_delim` (Effect's `fromEnv` and its options)."""
    return ConfigProviderService(
        lambda path: os.environ.get(path_delim.join(path)),
        path_delim=path_delim,
        seq_delim=seq_delim,
        where="the environment",
        children=lambda path: _children_of(
            [tuple(name.split(path_delim)) for name in os.environ], path
        ),
    )


def from_dict(
    values: Mapping[str, Any], *, path_delim: str = ".", seq_delim: str = ","
) -> ConfigProviderService:
    """Read `values`: a key path is found as one flat key joined by `path_delim`
    (`{"db.host": "h"}`) or through nested dicts (`{"db": {"host": "h"}}`). Values that are
    not text are read as `str(value)`; a list is a sequence, as is text split at
    `seq_delim` (Effect's `fromMap` and its options)."""

    def lookup(path: Path) -> object | None:
        flat = values.get(path_delim.join(path))
        if flat is not None:
            return cast("object", flat)
        node: Any = values
        for segment in path:
            if not isinstance(node, Mapping) or segment not in node:
                return None
            node = cast("Mapping[str, Any]", node)[segment]
        return None if isinstance(node, Mapping) else cast("object", node)

    def keys(mapping: Mapping[str, Any], prefix: Path) -> list[Path]:
        found: list[Path] = []
        for name, value in mapping.items():
            key = (*prefix, *name.split(path_delim))
            if isinstance(value, Mapping):
                found += keys(cast("Mapping[str, Any]", value), key)
            else:
                found.append(key)
        return found

    return ConfigProviderService(
        lookup,
        path_delim=path_delim,
        seq_delim=seq_delim,
        where="the provided dict",
        children=lambda path: _children_of(keys(values, ()), path),
    )


class ConfigProvider(Reference["ConfigProvider", ConfigProviderService], default=from_env()):
    """The config provider service key; configs read through it. The default reads the
    environment. Replace it with `with_config_provider` or `Layer.set_config_provider`."""

    from_env = staticmethod(from_env)
    from_dict = staticmethod(from_dict)


@overload
def with_config_provider(
    provider: ConfigProviderService, /
) -> Callable[[Effect[A, E, R]], Effect[A, E, R]]: ...
@overload
def with_config_provider(
    effect: Effect[A, E, R], provider: ConfigProviderService, /
) -> Effect[A, E, R]: ...
def with_config_provider(
    first: ConfigProviderService | Effect[Any, Any, Any], provider: Any = None, /
) -> Any:
    """Run an effect reading configs from `provider` (Effect's `withConfigProvider`):
    `with_config_provider(eff, provider)`, or `eff.pipe(with_config_provider(provider))`."""
    if isinstance(first, ConfigProviderService):
        chosen = first

        def apply(effect: Effect[Any, Any, Any]) -> Effect[Any, Any, Any]:
            return effect.provide_service(ConfigProvider, chosen)

        return apply
    return first.provide_service(ConfigProvider, provider)


__all__ = [
    "ConfigProvider",
    "ConfigProviderService",
    "from_dict",
    "from_env",
    "with_config_provider",
]
