import asyncio

import effects
from confect import DatabaseReader, DatabaseWriter, action, mutation, query, v


async def knock(gate: str, who: str, wait: bool) -> None:
    """Tell the test at `gate` that `who` runs; with `wait`, until it answers."""
    reader, writer = await asyncio.open_unix_connection(gate)
    writer.write(who.encode() + b"\n")
    await writer.drain()
    if wait:
        await reader.readline()
    writer.close()


@action(args={"gate": v.string()})
def hang(gate: str):
    yield from effects.promise(lambda: knock(gate, "hang", wait=False))
    yield from effects.never()


@mutation(args={"gate": v.string(), "label": v.string()})
def add_when_let(gate: str, label: str):
    yield from effects.promise(lambda: knock(gate, label, wait=True))
    db = yield from DatabaseWriter
    yield from db.table("items").insert({"label": label})


@query()
def labels():
    db = yield from DatabaseReader
    return sorted(d.label for d in (yield from db.table("items").collect()))
