"""Accounts with int64 balances, and one log entry per transfer (its client-chosen id)."""

from confect import define_schema, define_table, v

schema = define_schema(
    accounts=define_table({"name": v.string(), "balance": v.int64()}).index("by_name", ["name"]),
    transfers=define_table(
        {"transfer_id": v.string(), "source": v.string(), "target": v.string(), "amount": v.int64()}
    ),
)
