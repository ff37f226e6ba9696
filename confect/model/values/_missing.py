"""`MISSING`: a field that is not there, Convex's `undefined`, apart from `None` (`null`)."""

from __future__ import annotations

from typing import Final, final


@final
class Missing:
    """The type of `MISSING`, its only instance."""

    _instance: Missing | None = None

    def __new__(cls) -> Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = Missing()
"""A field that is not there: what JavaScript calls `undefined`. `None` is Convex's `null`,
a value a field can hold; `MISSING` is no value at all.

Write it where Convex takes `undefined`: `q.eq("field", MISSING)` in index ranges, filters
and search filters matches the documents without `field`; `patch(id, {"field": MISSING})`
removes `field`. Read it back from a `v.optional(...)` field that can hold `null` (there
`None` is `null`, so a missing one decodes to `MISSING`). Elsewhere `None` is short for
it: an optional field that cannot hold `null` takes and gives `None` for missing."""
