"""Query results served again while nothing they read has changed, as Convex's query cache.

A query is a deterministic function of its arguments, its caller and the documents it read,
so a successful outcome stays the answer until a commit writes into one of its read ranges.
A hit costs a dictionary lookup and a check of the commits made since the outcome was last
known to be current. A query that read real time (`effects.clock.now()`, see
`confect.runtime.determinism`) depends on the time too: as Convex's cache does
(`crates/application/src/cache/mod.rs`, MAX_CACHE_AGE), its outcome is served only while it
is younger than `time_dependent_age`.
"""

from __future__ import annotations

import json
import secrets
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, cast

import attrs

if TYPE_CHECKING:
    from confect.runtime.deployment import Deployment
    from confect.server.calls import Caller, Outcome

MAX_TIME_DEPENDENT_AGE = 2.0
"""How long (seconds) a query's outcome that read real time is served, by default: as
Convex's, the longest a query may run (the server's default limit, 1 s) and a second more,
so that a run which took its whole limit is still fresh when it ends."""

QueryKey = tuple[str, str, str | None, bool, str | None]
"""path, canonical arguments JSON, canonical identity claims JSON, admin, journal (where a
paginated query's page ends: a run with one is a different run)"""


def unwrap_args(raw: Any) -> Any:
    """Arguments as clients send them: an object, none, or (the npm client, the sync
    protocol) a one-element array of one; the object, `{}` for none."""
    items = cast(list[Any], raw) if isinstance(raw, list) else None
    if items is not None and len(items) == 1:
        return items[0]
    return {} if raw is None else cast(Any, raw)


def query_key(path: str, args: Any, caller: Caller, journal: str | None = None) -> QueryKey:
    """What makes two query calls the same call."""
    args = unwrap_args(args)
    identity = caller.identity
    claims = None if identity is None else json.dumps(identity.claims, sort_keys=True, default=str)
    return (path, _canonical(args), claims, caller.admin, journal)


def _canonical(args: Any) -> str:
    """The arguments as canonical JSON; arguments nested too deeply to write out (which fail
    when the call decodes them) get a text of their own, the same as no other call's."""
    try:
        return json.dumps(args, sort_keys=True)
    except RecursionError:
        return f"nested too deeply to key: {secrets.token_hex(8)}"


class QueryCache:
    """The most recently used successful query outcomes of one deployment: at most `size`
    of them and `max_bytes` of values (an outcome over a sixteenth of that is not kept)."""

    def __init__(
        self,
        deployment: Deployment,
        size: int = 4096,
        max_bytes: int = 64 << 20,
        time_dependent_age: float = MAX_TIME_DEPENDENT_AGE,
    ) -> None:
        self._deployment = deployment
        self._time_dependent_age = time_dependent_age
        self._size = size
        self._max_bytes = max_bytes
        self._bytes = 0
        # each outcome is current as of its ts; with the size of its value's JSON
        self._entries: OrderedDict[QueryKey, tuple[Outcome, int]] = OrderedDict()

    def get(self, key: QueryKey) -> Outcome | None:
        """The cached outcome for `key` if it is still current (its `ts` says as of when),
        else None."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        outcome, nbytes = entry
        if not self.timely(outcome):
            self._drop(key)
            return None
        latest = self._deployment.last_ts()
        if outcome.ts != latest:
            assert outcome.ts is not None
            if self._deployment.invalidated_since(outcome.reads, outcome.ts):
                self._drop(key)
                return None
            outcome = attrs.evolve(outcome, ts=latest)
            self._entries[key] = (outcome, nbytes)
        self._entries.move_to_end(key)
        return outcome

    def timely(self, outcome: Outcome) -> bool:
        """Whether the time `outcome` was computed at still serves: always, unless it read
        real time; then while it is younger than `time_dependent_age` (by the deployment's
        clock; never if it seems to come from the future)."""
        if not outcome.observed_time or outcome.ran_at is None:
            return True
        age = self._deployment.now() - outcome.ran_at
        return 0 <= age <= self._time_dependent_age

    def put(self, key: QueryKey, outcome: Outcome) -> None:
        """Keep a query's outcome (successes only); a hit answers with its log lines too, as
        Convex's cache does."""
        if not outcome.success or outcome.ts is None:
            return
        nbytes = len(json.dumps(outcome.value, separators=(",", ":")))
        nbytes += sum(len(line.text) for line in outcome.log_lines)
        if nbytes > self._max_bytes // 16:
            return
        self._drop(key)
        self._entries[key] = (outcome, nbytes)
        self._bytes += nbytes
        while len(self._entries) > self._size or self._bytes > self._max_bytes:
            self._drop(next(iter(self._entries)))

    def _drop(self, key: QueryKey) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry[1]

    def clear(self) -> None:
        """Forget everything (the app's functions changed)."""
        self._entries.clear()
        self._bytes = 0
