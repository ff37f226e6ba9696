from confect import define_schema, define_table, v

schema = define_schema(notes=define_table({"author": v.string()}))
