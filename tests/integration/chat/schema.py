"""The chat app's one table: messages in channels."""

from confect import define_schema, define_table, v

schema = define_schema(
    messages=define_table({"channel": v.string(), "author": v.string(), "body": v.string()}).index(
        "by_channel", ["channel"]
    ),
)
