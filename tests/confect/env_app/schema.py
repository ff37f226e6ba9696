"""`seen`: greetings a mutation (or a scheduled job) read."""

from confect import define_schema, define_table, v

schema = define_schema(seen=define_table({"greeting": v.string()}))
