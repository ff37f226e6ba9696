"""The npm client resends a mutation whose answer was lost with its connection, and the
server answers from the mutation's record: it runs once.

(The PyPI client cannot be tested so: its Rust core gives each new connection a new
session id (convex-rs `src/sync/web_socket_manager.rs`: `Uuid::new_v4()` per connect), so a resend
after a reconnect is a new request to any server, Convex's too.)
"""

import asyncio
import json

import pytest

from .conftest import ROOT, Live

JS = ROOT / "tests" / "integration" / "js"
RESPONSE = b'"MutationResponse"'


class CuttingProxy:
    """A TCP relay to a server that drops the first connection whose server-to-client
    bytes carry a MutationResponse, without passing those bytes on (as when a server dies
    between a mutation's commit and its answer); every later connection is relayed whole."""

    def __init__(self, target: str) -> None:
        host, port = target.removeprefix("http://").split(":")
        self.target = (host, int(port))
        self.connections = 0
        self.cut = False

    async def start(self) -> str:
        listening = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self._listening = listening
        return f"http://127.0.0.1:{listening.sockets[0].getsockname()[1]}"

    def close(self) -> None:
        self._listening.close()

    async def _relay(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        self.connections += 1
        server_in, server_out = await asyncio.open_connection(*self.target)
        ends = (client_out, server_out)
        await asyncio.gather(
            self._pipe(client_in, server_out, ends, watch=False),
            self._pipe(server_in, client_out, ends, watch=not self.cut),
        )

    async def _pipe(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        ends: tuple[asyncio.StreamWriter, ...],
        watch: bool,
    ) -> None:
        seen = b""  # the end of what came before: a marker may straddle two reads
        try:
            while data := await source.read(1 << 16):
                if watch and not self.cut and RESPONSE in seen + data:
                    self.cut = True
                    for end in ends:
                        end.transport.abort()
                    return
                seen = data[-len(RESPONSE) :]
                sink.write(data)
                await sink.drain()
        except ConnectionError:
            pass
        finally:
            sink.close()


async def test_npm_client_resends_an_unanswered_mutation_and_it_runs_once(live: Live):
    if not (JS / "node_modules" / "convex").exists():
        pytest.fail(
            "the npm peers are not installed: run `npm ci` in tests/integration/js (make test does)"
        )
    proxy = CuttingProxy(live.url)
    url = await proxy.start()
    try:
        driver = await asyncio.create_subprocess_exec(
            "node",
            str(JS / "drive.mjs"),
            url,
            "resend",
            live.token("resend-user"),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(driver.communicate(), 60)
    finally:
        proxy.close()
    lines = output.decode().splitlines()
    assert driver.returncode == 0, "\n".join(lines)
    got = {s["step"]: s["value"] for s in map(json.loads, (x for x in lines if x[:1] == "{"))}
    assert proxy.cut and proxy.connections >= 2  # the answer was lost; the client came back
    assert got["listed"] == [got["result"]]  # one note: the resend was answered, not run
