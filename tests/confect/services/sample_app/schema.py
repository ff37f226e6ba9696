import attrs

from confect import define_schema, define_table, v


@attrs.frozen
class Item:
    owner: str
    rank: float
    label: str


schema = define_schema(
    items=define_table(Item)
    .index("by_owner_rank", ["owner", "rank"])
    .search_index("search_label", search_field="label", filter_fields=["owner"]),
    logs=define_table({"message": v.string()}),
)
