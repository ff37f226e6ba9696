from confect import define_schema, define_table, v

schema = define_schema(
    authors=define_table({"name": v.string()}),
    posts=define_table(
        {"author": v.id("authors"), "title": v.string(), "cover": v.optional(v.id("_storage"))}
    ).index("by_author", ["author"]),
    notices=define_table({"post": v.id("posts")}),
)
