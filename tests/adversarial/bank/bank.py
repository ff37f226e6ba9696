"""Opening accounts, moving money between two of them, and the total."""

from confect import ConvexError, DatabaseReader, DatabaseWriter, mutation, query, v


@mutation(args={"count": v.number(), "balance": v.int64()})
def open_accounts(count: float, balance: int):
    """Accounts `a0`, `a1`, ... each holding `balance`."""
    db = yield from DatabaseWriter
    for number in range(int(count)):
        yield from db.table("accounts").insert({"name": f"a{number}", "balance": balance})


@mutation(
    args={
        "transfer_id": v.string(),
        "source": v.string(),
        "target": v.string(),
        "amount": v.int64(),
    },
    errors=[ConvexError],
)
def transfer(transfer_id: str, source: str, target: str, amount: int):
    """Move `amount` from `source` to `target` and log it as `transfer_id`; fails with
    `{"insufficient_funds": source}` (and changes nothing) when `source` holds less."""
    reader = yield from DatabaseReader
    writer = yield from DatabaseWriter
    paying = yield from reader.table("accounts").get("by_name", source)
    paid = yield from reader.table("accounts").get("by_name", target)
    if paying.balance < amount:
        yield from ConvexError(data={"insufficient_funds": source})
    yield from writer.table("accounts").patch(paying._id, {"balance": paying.balance - amount})
    yield from writer.table("accounts").patch(paid._id, {"balance": paid.balance + amount})
    yield from writer.table("transfers").insert(
        {"transfer_id": transfer_id, "source": source, "target": target, "amount": amount}
    )


@query(returns=v.int64())
def total():
    """The sum of every balance (an int64: without `returns`, a Python int is a float64)."""
    db = yield from DatabaseReader
    return sum(account.balance for account in (yield from db.table("accounts").collect()))
