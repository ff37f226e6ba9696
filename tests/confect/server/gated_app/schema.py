from confect import define_schema, define_table, v

schema = define_schema(items=define_table({"label": v.string()}))
