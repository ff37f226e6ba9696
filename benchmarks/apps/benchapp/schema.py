from confect import define_schema, define_table, v

schema = define_schema(
    items=define_table({"key": v.string(), "n": v.number()}).index("by_key", ["key"]),
    messages=define_table({"text": v.string()}),
)
