"""The notes app's tables."""

import attrs

from confect import Document, define_schema, define_table, v


@attrs.frozen
class Note(Document):
    author: str
    text: str
    tags: list[str] = attrs.field(factory=list[str])
    pinned: bool = False


@attrs.frozen
class Digest(Document):
    author: str
    count: float
    summary: str


notes = (
    define_table(Note)
    .index("by_author", ["author"])
    .index("by_tag_count", ["author", "pinned"])
    .search_index("search_text", search_field="text", filter_fields=["author"])
)
digests = define_table(Digest).index("by_author", ["author"])
counters = define_table({"name": v.string(), "value": v.int64()}).index("by_name", ["name"])

schema = define_schema(notes=notes, digests=digests, counters=counters)
