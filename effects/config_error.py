"""`ConfigError`: why a `Config` could not be read (Effect's `ConfigError`)."""

from __future__ import annotations

import attrs

from effects.errors import TaggedError


@attrs.frozen
class ConfigIssue:
    """One problem with one key: `key` as the provider names it (`"DATABASE_HOST"` in the
    environment), what was expected, and whether the value was `missing` (Effect's
    `MissingData`) rather than malformed (`InvalidData`)."""

    path: tuple[str, ...]
    key: str
    message: str
    missing: bool


class ConfigError(TaggedError):
    """A configuration could not be read: every problem found, in `issues` (a config
    combined with `Config.all` reports all its bad keys at once, as Effect's `And`)."""

    issues: tuple[ConfigIssue, ...]

    @property
    def missing_only(self) -> bool:
        """Whether every problem is a missing value (Effect's `isMissingDataOnly`): what
        `with_default` and `option` recover from; a malformed value is not recovered."""
        return all(issue.missing for issue in self.issues)

    def __str__(self) -> str:
        return "; ".join(f"{issue.key}: {issue.message}" for issue in self.issues)


__all__ = ["ConfigError", "ConfigIssue"]
