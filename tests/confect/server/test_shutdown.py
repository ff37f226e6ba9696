"""Shutdown of `confect serve`: on SIGTERM it finishes the mutations in flight, interrupts
the actions still running when its grace period is over, and exits."""

import asyncio
import collections
import json
import signal
from pathlib import Path

import websockets
from typer.testing import CliRunner

from confect.cli import cli
from tests.servers import copy_app, listening_socket, serve_command

GATED_APP = Path(__file__).parent / "gated_app"
GRACE = 2  # seconds (--shutdown-grace)
EXITED_BY = GRACE + 20  # seconds after SIGTERM: a bound, with room for a loaded machine
HANGING_OVER_HTTP = 200
HANGING_OVER_WEBSOCKET = 50


class Gate:
    """The Unix socket the gated app's functions knock on when they run: who knocked,
    and how to answer the ones that wait for a go-ahead."""

    def __init__(self) -> None:
        self.knocks: asyncio.Queue[tuple[str, asyncio.StreamWriter]] = asyncio.Queue()
        self.tally: collections.Counter[str] = collections.Counter()
        self.waiting: dict[str, asyncio.StreamWriter] = {}

    async def knocked(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        who = (await reader.readline()).decode().strip()
        await self.knocks.put((who, writer))

    async def until(self, **counts: int) -> None:
        """Until `who` has knocked `count` times, for each given (waiting at most 60 s)."""
        async with asyncio.timeout(60):
            while any(self.tally[who] < count for who, count in counts.items()):
                who, writer = await self.knocks.get()
                self.tally[who] += 1
                self.waiting[who] = writer

    def let(self, who: str) -> None:
        self.waiting.pop(who).write(b"go\n")


async def http_call(
    port: int, path: str, body: dict
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Send a POST on a new connection; the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    data = json.dumps(body).encode()
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n".encode()
        + data
    )
    await writer.drain()
    return reader, writer


async def answer(connection: tuple[asyncio.StreamReader, asyncio.StreamWriter]) -> tuple[int, dict]:
    reader, _ = connection
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), EXITED_BY)
    lines = head.decode().split("\r\n")
    length = next(
        int(line.split(":")[1]) for line in lines if line.lower().startswith("content-length:")
    )
    return int(lines[0].split()[1]), json.loads(await reader.readexactly(length))


async def test_sigterm_finishes_mutations_interrupts_actions_and_exits(tmp_path: Path):
    app = copy_app(GATED_APP, tmp_path)
    gate = Gate()
    gate_path = str(tmp_path / "gate")
    # all 251 actions knock at once: a Unix socket's connects past its backlog fail (the
    # actions die with "Connection lost") instead of waiting as TCP's would
    gate_server = await asyncio.start_unix_server(gate.knocked, gate_path, backlog=1024)
    listener = listening_socket(512)
    port = listener.getsockname()[1]
    with (tmp_path / "server.log").open("w") as log:
        process = await asyncio.create_subprocess_exec(
            *serve_command(app, listener.fileno(), "--shutdown-grace", str(GRACE)),
            pass_fds=[listener.fileno()],
            stdout=log,
            stderr=log,
        )
    listener.close()
    try:
        hang = {"path": "fns:hang", "args": {"gate": gate_path}}
        gone = [await http_call(port, "/api/action", hang) for _ in range(HANGING_OVER_HTTP)]
        patient = await http_call(port, "/api/action", hang)
        sync = await websockets.connect(f"ws://127.0.0.1:{port}/api/sync")
        for request_id in range(HANGING_OVER_WEBSOCKET):
            action = {"type": "Action", "requestId": request_id, "udfPath": "fns:hang"}
            await sync.send(json.dumps({**action, "args": [{"gate": gate_path}]}))
        await gate.until(hang=HANGING_OVER_HTTP + 1 + HANGING_OVER_WEBSOCKET)
        for _, writer in gone:  # their clients go away: nobody waits for these actions
            writer.close()
        mutation = {"path": "fns:add_when_let", "args": {"gate": gate_path, "label": "http"}}
        over_http = await http_call(port, "/api/mutation", mutation)
        args = [{"gate": gate_path, "label": "websocket"}]
        await sync.send(
            json.dumps(
                {"type": "Mutation", "requestId": 0, "udfPath": "fns:add_when_let", "args": args}
            )
        )
        await gate.until(http=1, websocket=1)
        # from here to `let` takes milliseconds, well within the mutations' 1 s limit
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(sync.wait_closed(), EXITED_BY)  # the server is shutting down
        assert sync.close_code == 1012  # "service restart": the client reconnects
        gate.let("http")
        gate.let("websocket")

        status, body = await answer(over_http)
        assert (status, body["status"]) == (200, "success")
        status, body = await answer(patient)  # an action still running after the grace period
        assert (status, body["code"]) == (503, "Interrupted")
        await asyncio.wait_for(process.wait(), EXITED_BY)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        gate_server.close()
        print((tmp_path / "server.log").read_text())

    labels = CliRunner().invoke(cli, ["run", str(app), "fns:labels"])
    assert json.loads(labels.output) == ["http", "websocket"]  # both mutations committed
