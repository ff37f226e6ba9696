"""The wire: what clients send and what the server answers, as types read and written at
the edge (`client` for the sync protocol's client messages, `server` for its server
messages, `http` for the HTTP API's bodies); and here what their fields share: the wire's
numbers, its timestamps (base64 of 8 little-endian bytes), and the marker of a field left
out of a message.
"""

from __future__ import annotations

import base64
import enum
import struct
from typing import NewType

U32 = NewType("U32", int)
"""A u32 on the wire: query ids, request ids, query-set and identity versions, counts."""
I64 = NewType("I64", int)
MAX_U32 = 2**32 - 1
Ts = NewType("Ts", int)
"""A timestamp: base64 of 8 little-endian bytes on the wire, an int here."""


def encode_ts(ts: int) -> str:
    """A timestamp as the clients read it: base64 of 8 little-endian bytes."""
    return base64.b64encode(struct.pack("<Q", ts)).decode()


def decode_ts(text: object) -> Ts | None:
    """The timestamp `encode_ts` wrote, or None if `text` is not one (Convex's timestamps
    are below 2**63, as its `Timestamp` type requires)."""
    try:
        raw = base64.b64decode(str(text), validate=True)
    except ValueError:
        return None
    if len(raw) != 8:
        return None
    ts: int = struct.unpack("<Q", raw)[0]
    return Ts(ts) if ts < 1 << 63 else None


class Absent(enum.Enum):
    """The value of an optional field that is left out of the message (not sent as null)."""

    ABSENT = "absent"


ABSENT = Absent.ABSENT
