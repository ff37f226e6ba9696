"""Two tables of arbitrary values: `values` takes what the tests store, `others` stays
untouched (a read of it must keep working whatever happened to `values`)."""

from confect import define_schema, define_table, v

schema = define_schema(
    values=define_table({"value": v.any()}),
    others=define_table({"value": v.any()}),
)
