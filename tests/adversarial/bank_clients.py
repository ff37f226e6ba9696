"""Bank clients speaking the sync protocol as the official clients do, and the ledger of
what the servers told them.

Each client keeps one session (one `sessionId`) for its whole life, numbers its mutations
0, 1, 2, ... and keeps a few in flight. When its connection is lost it connects again (to
the next server it knows), sends `Connect` with the same session and a higher
`connectionCount`, subscribes again, and sends every mutation that had no answer yet with
its original request id: what convex-js's `BaseConvexClient` (its request manager's
`restart`) and the Rust client do. It also watches the bank's total, which no reader may
ever see change.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import json
import random
import struct
import uuid
from typing import Any

import attrs
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from confect.model.values import from_wire, to_wire

OPEN_SECONDS = 60.0
"""How long a connection attempt may wait (a server being started again keeps clients in
its socket's backlog until it accepts them)."""
MAX_CONNECTIONS = 50
"""Connections a client may open in its life, before it gives up."""


@attrs.frozen
class Transfer:
    transfer_id: str
    source: str
    target: str
    amount: int

    def args(self) -> Any:
        return [to_wire(attrs.asdict(self))]


@attrs.define
class Ledger:
    """What the servers told all the clients."""

    total: int
    acknowledged: set[str] = attrs.field(factory=set)
    failed: dict[str, str] = attrs.field(factory=dict)  # transfer id -> its error message
    wrong_totals: list[Any] = attrs.field(factory=list)
    fatal_errors: list[str] = attrs.field(factory=list)
    strays: list[Any] = attrs.field(factory=list)  # answers to requests not in flight
    reconnects: collections.Counter[str] = attrs.field(factory=collections.Counter)  # why
    resent: int = 0
    answered: asyncio.Event = attrs.field(factory=asyncio.Event)
    answered_after: int = 0  # `answered` is set once this many transfers are answered

    def record(self, transfer_id: str, response: dict[str, Any]) -> None:
        if response["success"]:
            self.acknowledged.add(transfer_id)
        else:
            self.failed[transfer_id] = str(response.get("errorMessage"))
        if len(self.acknowledged) + len(self.failed) >= self.answered_after:
            self.answered.set()


def plan(client: int, count: int, accounts: int) -> list[Transfer]:
    """`count` transfers for client number `client`, between random accounts (seeded by
    the client's number, so a run can be repeated)."""
    rng = random.Random(client)
    transfers = []
    for number in range(count):
        source, target = rng.sample(range(accounts), 2)
        transfers.append(
            Transfer(f"c{client}-t{number}", f"a{source}", f"a{target}", rng.randint(1, 60))
        )
    return transfers


def _ts(text: str) -> int:
    return struct.unpack("<Q", base64.b64decode(text))[0]


class BankClient:
    """One client: its transfers, sent over one session to `urls` (the first that answers;
    the next after a lost connection)."""

    def __init__(
        self, urls: list[str], transfers: list[Transfer], ledger: Ledger, window: int = 4
    ) -> None:
        self.urls = urls
        self.ledger = ledger
        self.window = window
        self.session_id = str(uuid.uuid4())
        self.connection_count = 0
        self.close_reason = "InitialConnect"
        self.max_ts = 0
        self.waiting = list(reversed(transfers))  # not sent yet, next last
        self.in_flight: dict[int, Transfer] = {}  # request id -> transfer, sent, unanswered
        self.next_request_id = 0

    async def run(self) -> None:
        """Until every transfer has its answer."""
        for attempt in range(MAX_CONNECTIONS):
            url = self.urls[attempt % len(self.urls)]
            try:
                async with connect(
                    f"ws://{url}/api/sync",
                    open_timeout=OPEN_SECONDS,
                    max_size=None,
                    compression=None,
                ) as socket:
                    await self._session(socket)
                if self.done():
                    return
                self.close_reason = "ClosedByServer"
            except (ConnectionClosed, OSError, InvalidHandshake, TimeoutError) as error:
                self.close_reason = type(error).__name__
            self.connection_count += 1
            self.ledger.reconnects[self.close_reason] += 1
        raise AssertionError(
            f"client {self.session_id} gave up after {MAX_CONNECTIONS} connections"
        )

    def done(self) -> bool:
        """Whether every transfer has its answer."""
        return not self.waiting and not self.in_flight

    async def _session(self, socket: ClientConnection) -> None:
        connect_message: dict[str, Any] = {
            "type": "Connect",
            "sessionId": self.session_id,
            "connectionCount": self.connection_count,
            "lastCloseReason": self.close_reason,
        }
        if self.max_ts:
            connect_message["maxObservedTimestamp"] = base64.b64encode(
                struct.pack("<Q", self.max_ts)
            ).decode()
        await socket.send(json.dumps(connect_message))
        add = {"type": "Add", "queryId": 0, "udfPath": "bank:total", "args": [{}]}
        await socket.send(
            json.dumps(
                {
                    "type": "ModifyQuerySet",
                    "baseVersion": 0,
                    "newVersion": 1,
                    "modifications": [add],
                }
            )
        )
        for request_id in sorted(self.in_flight):  # what had no answer, as it was sent
            await self._send(socket, request_id)
            self.ledger.resent += 1
        await self._fill(socket)
        async for text in socket:
            self._handle(json.loads(text))
            if self.done():
                return
            await self._fill(socket)

    async def _fill(self, socket: ClientConnection) -> None:
        while self.waiting and len(self.in_flight) < self.window:
            request_id = self.next_request_id
            self.next_request_id += 1
            self.in_flight[request_id] = self.waiting.pop()
            await self._send(socket, request_id)

    async def _send(self, socket: ClientConnection, request_id: int) -> None:
        transfer = self.in_flight[request_id]
        message = {
            "type": "Mutation",
            "requestId": request_id,
            "udfPath": "bank:transfer",
            "args": transfer.args(),
        }
        await socket.send(json.dumps(message))

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "MutationResponse":
            transfer = self.in_flight.pop(message["requestId"], None)
            if transfer is None:
                self.ledger.strays.append(message)
            else:
                self.ledger.record(transfer.transfer_id, message)
            if message.get("ts"):
                self.max_ts = max(self.max_ts, _ts(message["ts"]))
        elif kind == "Transition":
            self.max_ts = max(self.max_ts, _ts(message["endVersion"]["ts"]))
            for modification in message["modifications"]:
                if modification["type"] == "QueryUpdated":
                    total = from_wire(modification["value"])
                    if total != self.ledger.total or type(total) is not int:
                        self.ledger.wrong_totals.append(total)
                elif modification["type"] == "QueryFailed":
                    self.ledger.wrong_totals.append(modification["errorMessage"])
        elif kind == "FatalError":
            self.ledger.fatal_errors.append(message["error"])


async def run_clients(clients: list[BankClient], seconds: float) -> None:
    """Run every client to its end; fails if they are not all done within `seconds` (a
    bound on a wait: the servers are stuck, or a request was never answered)."""
    tasks = [asyncio.ensure_future(client.run()) for client in clients]
    done, pending = await asyncio.wait(tasks, timeout=seconds)
    for task in pending:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.gather(*pending, return_exceptions=True)
    unanswered = sum(len(client.in_flight) + len(client.waiting) for client in clients)
    assert not pending, (
        f"{len(pending)} clients were not done after {seconds} s ({unanswered} transfers unanswered)"
    )
    for task in done:
        task.result()
