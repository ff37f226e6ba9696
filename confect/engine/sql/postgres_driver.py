"""psycopg, the PostgreSQL engine's driver, is an optional extra (`confect-py[postgres]`):
imported only by that engine, which says so when it is missing."""

from __future__ import annotations

from effects import TaggedError

EXTRA = "confect-py[postgres]"
"""What to install for the PostgreSQL engine."""


class PostgresDriverMissingError(TaggedError):
    """The PostgreSQL engine was asked for, but `missing` (psycopg, which the
    `confect-py[postgres]` extra installs) cannot be imported."""

    missing: str

    def __str__(self) -> str:
        return (
            f"the PostgreSQL engine needs psycopg, which is not installed (no module "
            f"{self.missing!r}): pip install '{EXTRA}'"
        )
