"""A deployment's environment variables, kept as Convex keeps them: one document per
variable (`name`, `value`) in the hidden system table `_environment_variables`, under
Convex's rules for names and values (`EnvironmentVariableError` names the rule broken).

Being documents, they are stored by every engine and shared by every process of a
PostgreSQL deployment, and reading one is a read like any other: a query or mutation that
reads `API_KEY` has the key range of that one name in its read set, so a change to it (and
to no other variable) re-runs the query's subscriptions, fails its cached result and
conflicts with the mutation, as in Convex, whose functions read the variables through the
transaction too.

Handlers read them with `effects.Config` through the `ConfigProvider` each call gets
(`config_provider`): a query or mutation reads a variable in its transaction when it asks
for it; an action (or http action), like Convex's, reads them all once, at its first ask,
in a transaction of its own. As in Convex, where `process.env` holds the deployment's
variables and the system ones only, the process environment is not read: besides the
deployment's variables there are `CONVEX_CLOUD_URL` and `CONVEX_SITE_URL`, which no
variable may be named.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

import attrs

from confect.model.errors import EnvironmentVariableError, EnvVarProblem
from confect.model.schema import ENVIRONMENT_VARIABLES_INDEX, ENVIRONMENT_VARIABLES_TABLE
from confect.model.values import Value, prefix_range
from confect.runtime.transaction import Transaction
from effects import ConfigProviderService

MAX_NAME_LENGTH = 256
"""Characters of a name at most (Convex's `MAX_NAME_LENGTH`)."""
MAX_VALUE_BYTES = 8 << 10
"""UTF-8 bytes of a value at most (Convex's `MAX_VALUE_LENGTH`, an HTTP header's)."""
MAX_VARIABLES = 512
"""Variables a deployment may have (Convex's `ENV_VAR_LIMIT`)."""
MAX_TOTAL_BYTES = 512 << 10
"""Bytes of all names and values together at most (Convex's `ENV_VAR_TOTAL_SIZE_LIMIT`)."""

CLOUD_URL = "CONVEX_CLOUD_URL"
SITE_URL = "CONVEX_SITE_URL"
SYSTEM_NAMES = frozenset({CLOUD_URL, SITE_URL})
"""The system variables every call sees (the deployment's URLs), which none may override."""

WHERE = "the deployment's environment variables"
"""Where a `ConfigError` says a missing variable was looked for."""

_NAME = re.compile(r"[a-zA-Z_]+[a-zA-Z0-9_]*")

Lookup = Callable[[str], str | None]
"""A variable's value by its name, None when there is none."""


@attrs.frozen
class EnvVarChange:
    """One change to the variables: set `name` to `value`, or unset it (`value` None)."""

    name: str
    value: str | None = None


def check_name(name: str) -> str:
    """`name`, if it may name a variable; else `EnvironmentVariableError`."""
    if not _NAME.fullmatch(name):
        raise _refused(
            EnvVarProblem.NAME_INVALID,
            name,
            f"The environment variable name {name!r} is invalid: environment variable names "
            "must begin with a letter (or _) and may only include characters a-z, A-Z, 0-9 "
            "and underscores.",
        )
    if len(name) > MAX_NAME_LENGTH:
        raise _refused(
            EnvVarProblem.NAME_TOO_LONG,
            name,
            f"The environment variable name {name[:32]}... is {len(name)} characters long: "
            f"names may be at most {MAX_NAME_LENGTH}.",
        )
    return name


def check_value(name: str, value: str) -> str:
    """`value`, if the variable `name` may hold it; else `EnvironmentVariableError`."""
    size = len(value.encode())
    if size > MAX_VALUE_BYTES:
        raise _refused(
            EnvVarProblem.VALUE_TOO_LARGE,
            name,
            f"The value of environment variable {name} is {size} bytes, which is too large "
            f"(at most {MAX_VALUE_BYTES}).",
        )
    return value


def system_variables(cloud_url: str, site_url: str) -> dict[str, str]:
    """The system variables of a deployment served at `cloud_url`, its HTTP routes at
    `site_url`."""
    return {CLOUD_URL: cloud_url, SITE_URL: site_url}


# --- in a transaction ------------------------------------------------------------------------------


def get(tx: Transaction, name: str) -> str | None:
    """The value of the variable `name`; the read covers that name only."""
    lo, hi = prefix_range(name)
    found = list(tx.scan(ENVIRONMENT_VARIABLES_TABLE, ENVIRONMENT_VARIABLES_INDEX, lo, hi))
    return _text(found[0]["value"]) if found else None


def read_all(tx: Transaction) -> dict[str, str]:
    """Every variable, by name, in name order."""
    documents = tx.scan(ENVIRONMENT_VARIABLES_TABLE, ENVIRONMENT_VARIABLES_INDEX, *prefix_range())
    return {_text(d["name"]): _text(d["value"]) for d in documents}


def update(tx: Transaction, changes: Iterable[EnvVarChange]) -> None:
    """Make `changes`, in order (a later change of a name wins), as one change: every
    name and value is checked first, and the limits on the count and total size after,
    so that a refused update (`EnvironmentVariableError`) changes nothing."""
    changes = list(changes)
    for change in changes:
        check_name(change.name)
        if change.value is not None:
            if change.name in SYSTEM_NAMES:
                raise _refused(
                    EnvVarProblem.NAME_FORBIDDEN,
                    change.name,
                    f"Environment variable with name {change.name!r} is built-in and cannot "
                    "be overridden.",
                )
            check_value(change.name, change.value)
    for change in changes:
        _apply(tx, change)
    _check_totals(read_all(tx))


def _apply(tx: Transaction, change: EnvVarChange) -> None:
    lo, hi = prefix_range(change.name)
    found = list(tx.scan(ENVIRONMENT_VARIABLES_TABLE, ENVIRONMENT_VARIABLES_INDEX, lo, hi))
    fields: dict[str, Value] = {"name": change.name, "value": change.value or ""}
    if change.value is None:
        for document in found:
            tx.delete(ENVIRONMENT_VARIABLES_TABLE, document)
    elif found:
        tx.replace(ENVIRONMENT_VARIABLES_TABLE, found[0], fields)
    else:
        tx.insert(ENVIRONMENT_VARIABLES_TABLE, fields)


def _check_totals(variables: Mapping[str, str]) -> None:
    if len(variables) > MAX_VARIABLES:
        raise _refused(
            EnvVarProblem.LIMIT_MET,
            "",
            f"The environment variable limit ({MAX_VARIABLES}) has been met.",
        )
    total = sum(len(name.encode()) + len(value.encode()) for name, value in variables.items())
    if total > MAX_TOTAL_BYTES:
        raise _refused(
            EnvVarProblem.TOTAL_SIZE_LIMIT_MET,
            "",
            f"The total size of all environment variables ({total} bytes) exceeds the limit "
            f"({MAX_TOTAL_BYTES} bytes).",
        )


# --- what a call reads -----------------------------------------------------------------------------


def config_provider(lookup: Lookup) -> ConfigProviderService:
    """The `ConfigProvider` of a call: a config's key path joined by "_", as the process
    environment's (`Config.string("HOST").nested("DB")` reads `DB_HOST`), read by `lookup`."""
    return ConfigProviderService(lambda path: lookup("_".join(path)), path_delim="_", where=WHERE)


def in_transaction(tx: Transaction, system: Mapping[str, str]) -> Lookup:
    """Look a variable up in `tx` (a read of its name) when asked, then among `system`."""

    def lookup(name: str) -> str | None:
        if not _NAME.fullmatch(name) or len(name) > MAX_NAME_LENGTH:
            return None  # no variable has that name
        value = get(tx, name)
        return system.get(name) if value is None else value

    return lookup


def loaded_once(load: Callable[[], dict[str, str]], system: Mapping[str, str]) -> Lookup:
    """Look variables up in what `load()` gives (and `system`), loaded at the first ask."""
    loaded: dict[str, str] | None = None

    def lookup(name: str) -> str | None:
        nonlocal loaded
        if loaded is None:
            loaded = {**system, **load()}
        return loaded.get(name)

    return lookup


def _text(value: Value) -> str:
    assert isinstance(value, str), "environment variables are stored as text"
    return value


def _refused(problem: EnvVarProblem, name: str, message: str) -> EnvironmentVariableError:
    return EnvironmentVariableError(problem=problem, name=name, message=message)
