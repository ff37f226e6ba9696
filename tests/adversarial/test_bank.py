"""The bank invariant under load and SIGKILL: 32 clients move money between 16 accounts
through `confect serve` while a server process is killed with SIGKILL (on SQLite, the one
process, then started again on its data; on PostgreSQL, one of two processes sharing the
deployment, its clients moving to the other). Afterwards, in the data itself: the total is
what it was, every acknowledged transfer is logged exactly once, no transfer reported as
failed is logged, and the balances are what the logged transfers make them; no reader saw
another total, and every transfer got an answer."""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from confect import Backend, load_app
from confect.engine.interface import Engine
from confect.engine.sql.postgres import PostgresEngine
from confect.engine.sql.sqlite import SqliteEngine
from confect.model.values import to_wire
from tests.postgres import URL, postgres_schema
from tests.servers import listening_socket

from . import bank
from .bank_clients import BankClient, Ledger, plan, run_clients
from .servers import Served, copy_app

ACCOUNTS = 16
BALANCE = 100
CLIENTS = 32
TRANSFERS_EACH = 24
KILL_AFTER = CLIENTS * TRANSFERS_EACH // 3  # answered transfers, then SIGKILL
LOAD_SECONDS = 120.0  # a bound on the wait for every answer, not a measure of speed


async def open_bank(url: str) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        args = {"count": float(ACCOUNTS), "balance": BALANCE}
        response = await client.post(
            f"http://{url}/api/mutation", json={"path": "bank:open_accounts", "args": to_wire(args)}
        )
        assert response.json()["status"] == "success", response.text


async def load(routes: Callable[[int], list[str]], kill: Callable[[], None]) -> Ledger:
    """Run the clients (client `i` tries the servers `routes(i)` in turn); `kill` once a
    third of the transfers are answered. What the clients were told."""
    await open_bank(routes(0)[0])
    ledger = Ledger(total=ACCOUNTS * BALANCE, answered_after=KILL_AFTER)
    clients = [
        BankClient(routes(i), plan(i, TRANSFERS_EACH, ACCOUNTS), ledger) for i in range(CLIENTS)
    ]
    running = asyncio.ensure_future(run_clients(clients, LOAD_SECONDS))
    answered = asyncio.ensure_future(ledger.answered.wait())
    await asyncio.wait(
        [running, answered], timeout=LOAD_SECONDS, return_when=asyncio.FIRST_COMPLETED
    )
    assert answered.done(), "the clients finished, or stopped, before a third was answered"
    kill()
    await running
    return ledger


def assert_books_balance(engine: Engine, ledger: Ledger, output: str) -> None:
    """The data agrees with itself and with what the clients were told."""
    Backend(load_app(bank), engine)  # the deployment opens again
    balances = {str(d["name"]): d["balance"] for d in engine.documents("accounts")}
    logged = list(engine.documents("transfers"))
    counts = collections.Counter(str(d["transfer_id"]) for d in logged)
    told = f"(acknowledged {len(ledger.acknowledged)}, failed {len(ledger.failed)}, reconnects {dict(ledger.reconnects)}, resent {ledger.resent})"
    assert ledger.reconnects.total() > 0, f"the kill did not come mid-load {told}"
    assert not ledger.fatal_errors, ledger.fatal_errors
    assert not ledger.strays, f"answers to requests that were not in flight: {ledger.strays[:5]}"
    assert len(ledger.acknowledged) + len(ledger.failed) == CLIENTS * TRANSFERS_EACH, told
    assert sum(balances.values()) == ACCOUNTS * BALANCE, (balances, told)
    twice = sorted(t for t, n in counts.items() if n > 1)
    assert not twice, (
        f"{len(twice)} transfers applied more than once, e.g. {twice[:5]} {told}\n{output[-3000:]}"
    )
    lost = sorted(ledger.acknowledged - counts.keys())
    assert not lost, (
        f"{len(lost)} acknowledged transfers are not in the data, e.g. {lost[:5]} {told}"
    )
    landed = sorted(ledger.failed.keys() & counts.keys())
    assert not landed, (
        f"{len(landed)} transfers reported failed were applied: {[(t, ledger.failed[t]) for t in landed[:5]]} {told}"
    )
    expected = dict.fromkeys((f"a{number}" for number in range(ACCOUNTS)), BALANCE)
    for entry in logged:
        amount = entry["amount"]
        assert isinstance(amount, int)
        expected[str(entry["source"])] -= amount
        expected[str(entry["target"])] += amount
    assert balances == expected, "the balances are not what the logged transfers make them"
    assert not ledger.wrong_totals, f"readers saw other totals: {ledger.wrong_totals[:5]}"


def test_the_books_balance_on_sqlite_across_a_kill_and_a_restart(tmp_path: Path):
    app = copy_app("bank", tmp_path)
    data = tmp_path / "data"
    with listening_socket() as listener:
        served = Served(app, listener, tmp_path / "server.log", "--engine", f"sqlite:{data}")
        try:

            def kill_and_restart() -> None:
                served.kill()
                served.restart()  # on the same socket: clients wait in its backlog meanwhile

            ledger = asyncio.run(load(lambda _: [served.url], kill_and_restart))
        finally:
            served.stop()
    engine = SqliteEngine(data)
    try:
        assert_books_balance(engine, ledger, served.output())
    finally:
        engine.close()


@pytest.fixture
def shared_schema() -> Iterator[str]:
    with postgres_schema() as schema:
        yield schema


def test_the_books_balance_on_postgres_when_one_of_two_servers_is_killed(
    tmp_path: Path, shared_schema: str
):
    app = copy_app("bank", tmp_path)
    engine_url = f"{URL}?schema={shared_schema}"
    with contextlib.ExitStack() as stack:
        listeners = [stack.enter_context(listening_socket()) for _ in range(2)]
        doomed, survivor = (
            Served(app, listener, tmp_path / f"server-{n}.log", "--engine", engine_url)
            for n, listener in enumerate(listeners)
        )
        stack.callback(survivor.stop)
        stack.callback(doomed.stop)

        def kill() -> None:
            doomed.kill()
            listeners[0].close()  # nobody listens there now: its clients move on

        def routes(client: int) -> list[str]:
            first, second = (doomed, survivor) if client % 2 == 0 else (survivor, doomed)
            return [first.url, second.url]

        ledger = asyncio.run(load(routes, kill))
    engine = PostgresEngine(URL, shared_schema)
    try:
        assert_books_balance(engine, ledger, doomed.output() + survivor.output())
    finally:
        engine.close()
