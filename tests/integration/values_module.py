"""Functions the integration tests add to their copy of the notes app (as `values.py`): how
Python ints reach the official clients, with and without a validator; what they do with
a query's log lines."""

import effects
from confect import DatabaseReader, query, v


@query()
def count():
    """No `returns`: the Python int `len(...)` is a float64, a JavaScript number."""
    db = yield from DatabaseReader
    return {"n": len((yield from db.table("notes").collect()))}


@query(returns=v.object({"n": v.int64()}))
def count_int64():
    """`v.int64()` says: the same int is an int64, a JavaScript bigint."""
    db = yield from DatabaseReader
    return {"n": len((yield from db.table("notes").collect()))}


@query()
def echo(value):
    """No validators: the argument comes back as the client sent it (a bigint stays one)."""
    return effects.succeed({"value": value})


@query()
def too_big():
    """An int a float64 would round, with no validator to say int64: refused."""
    return effects.succeed({"big": [2**53 + 1]})


@query()
def greet():
    """Prints: the line reaches the client, which shows it (a debugging HTTP client, the
    npm client's logger)."""
    print("hello")
    return effects.succeed("hi")
