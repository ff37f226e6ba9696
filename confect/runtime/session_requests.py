"""Session requests: what makes a mutation sent over the sync protocol run exactly once.

A client names each mutation it sends by its session (the `sessionId` of its `Connect`) and
a request number, and sends it again after a reconnect when no answer came. As in Convex
(`SessionRequestModel`), the mutation's own transaction first looks for the record of that
request in `_session_requests` (a read that a concurrent commit of the same request
conflicts with), and, when the mutation succeeds, writes one holding its value; the engine
adds the commit's ts. A repeat is answered from the record, value and ts. A failed mutation
commits nothing, so it leaves no record, and a repeat runs it again.
"""

from __future__ import annotations

import itertools
import json

import attrs

from confect.engine.interface import BY_CREATION_TIME
from confect.model.schema import SESSION_REQUESTS_INDEX, SESSION_REQUESTS_TABLE
from confect.model.values import Value, encode_key, from_wire, prefix_range, to_wire
from confect.runtime.transaction import Transaction

KEEP_SECONDS = 14 * 24 * 3600.0
"""How long records are kept by default: Convex's (`MAX_SESSION_CLEANUP_DURATION_HOURS`,
two weeks), after which the client that sent the request is surely gone."""


@attrs.frozen
class SessionRequest:
    """One request of a sync-protocol session."""

    session_id: str
    request_id: int


def find(tx: Transaction, request: SessionRequest) -> tuple[Value, int] | None:
    """The recorded value and commit ts of `request`, if it ran; the look is one of the
    transaction's reads either way."""
    lo, hi = prefix_range(request.session_id, request.request_id)
    found = list(tx.scan(SESSION_REQUESTS_TABLE, SESSION_REQUESTS_INDEX, lo, hi))
    if not found:
        return None
    record = found[0]
    outcome = record["outcome"]
    assert isinstance(outcome, dict) and isinstance(outcome["result"], str)
    ts = record["ts"]
    assert isinstance(ts, int)
    return from_wire(json.loads(outcome["result"])), ts


def record(tx: Transaction, request: SessionRequest, value: Value) -> None:
    """Record that `request` ran and returned `value` (the engine adds the commit's ts)."""
    fields: dict[str, Value] = {
        "sessionId": request.session_id,
        "requestId": request.request_id,
        "outcome": {"type": "mutation", "result": json.dumps(to_wire(value))},
    }
    tx.insert_system(SESSION_REQUESTS_TABLE, fields)


def prune(tx: Transaction, before_ms: float, limit: int) -> int:
    """Delete the oldest records made before `before_ms` (a `_creationTime`), at most
    `limit` of them; return how many."""
    older = tx.scan(SESSION_REQUESTS_TABLE, BY_CREATION_TIME, b"", encode_key((before_ms,)))
    doomed = list(itertools.islice(older, limit))
    for document in doomed:
        tx.delete(SESSION_REQUESTS_TABLE, document)
    return len(doomed)
