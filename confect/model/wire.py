"""`WIRE_NAME`: the attrs field metadata key that names a field's key on the wire.

Python fields are snake_case; a Convex shape may want camelCase keys (`isDone`). A field
declared `attrs.field(metadata={WIRE_NAME: "isDone"})` is encoded under that key.
"""

from __future__ import annotations

from typing import Any

import attrs

WIRE_NAME = "confect.wire_name"


def wire_name(field: attrs.Attribute[Any]) -> str:
    """The key an attrs field is encoded under: its `WIRE_NAME`, else its name."""
    return str(field.metadata.get(WIRE_NAME, field.name))
