"""Where a `Config` reads its values: the `ConfigProvider` service (the environment unless
another is provided) and the providers `from_env`, `from_dict`, `nested`, `upper_case`.

As in Effect 3, `from_env` joins a key's path with "_" and keeps its case:
`Config.string("HOST").nested("DB")` reads `DB_HOST`; `from_dict` joins with "." (as
Effect's `fromMap`) and also looks into nested dicts.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast, overload

from effects.context import Reference
from effects.effect import Effect

A = TypeVar("A")
E = TypeVar("E")
R = TypeVar("R")

Path = tuple[str, ...]


class ConfigProviderService:
    """Reads the text of a key path (`lookup`), and names it for error messages (`key`)."""

    __slots__ = ("_lookup", "_map_path", "path_delim", "where")

    def __init__(
        self,
        lookup: Callable[[Path], str | None],
        *,
        path_delim: str,
        where: str,
        map_path: Callable[[Path], Path] = lambda path: path,
    ) -> None:
        self._lookup = lookup
        self._map_path = map_path
        self.path_delim = path_delim
        self.where = where  # "the environment": where a missing key was looked for

    def lookup(self, path: Path) -> str | None:
        """The text at `path`, or None when there is none."""
        return self._lookup(self._map_path(path))

    def key(self, path: Path) -> str:
        """The name `path` is looked up under (e.g. the environment variable's name)."""
        return self.path_delim.join(self._map_path(path))

    def map_input_path(self, f: Callable[[str], str]) -> ConfigProviderService:
        """This provider with each path segment changed by `f` before lookup."""
        inner = self._map_path
        return self._with_path(lambda path: inner(tuple(f(segment) for segment in path)))

    def nested(self, name: str) -> ConfigProviderService:
        """This provider with every path under `name` (`from_env().nested("APP")` reads
        `Config.string("PORT")` from `APP_PORT`)."""
        inner = self._map_path
        return self._with_path(lambda path: inner((name, *path)))

    def upper_case(self) -> ConfigProviderService:
        """This provider with key paths upper-cased (`Config.string("port")` reads `PORT`)."""
        return self.map_input_path(str.upper)

    def _with_path(self, map_path: Callable[[Path], Path]) -> ConfigProviderService:
        return ConfigProviderService(
            self._lookup, path_delim=self.path_delim, where=self.where, map_path=map_path
        )


def from_env(*, path_delim: str = "_") -> ConfigProviderService:
    """Read `os.environ` (at each load), the path joined by `path_delim`, case kept."""
    return ConfigProviderService(
        lambda path: os.environ.get(path_delim.join(path)),
        path_delim=path_delim,
        where="the environment",
    )


def from_dict(values: Mapping[str, Any], *, path_delim: str = ".") -> ConfigProviderService:
    """Read `values`: a key path is found as one flat key joined by `path_delim`
    (`{"db.host": "h"}`) or through nested dicts (`{"db": {"host": "h"}}`). Values that are
    not text are read as `str(value)`."""

    def lookup(path: Path) -> str | None:
        flat = values.get(path_delim.join(path))
        if flat is not None:
            return str(flat)
        node: Any = values
        for segment in path:
            if not isinstance(node, Mapping) or segment not in node:
                return None
            node = cast("Mapping[str, Any]", node)[segment]
        return None if isinstance(node, Mapping) else str(node)

    return ConfigProviderService(lookup, path_delim=path_delim, where="the provided dict")


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
