import attrs

from confect import Document, define_schema, define_table, v


@attrs.frozen
class Post(Document):
    author: str
    title: str
    tags: list[str] = attrs.field(factory=list)


schema = define_schema(
    posts=define_table(Post).index("by_author", ["author"]),
    likes=define_table(
        {
            "post": v.id("posts"),
            "by": v.string(),
            "weight": v.optional(v.int64()),
            "kind": v.union(v.literal("up"), v.literal("down")),
        }
    ).index("by_post", ["post"]),
)
