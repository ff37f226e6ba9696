"""Slow and greedy clients against a live `confect serve`: requests whose headers or body
come too slowly are cut off, connections over the caps per client address and in total
are refused, and other clients are answered throughout.

Clients of other addresses connect from 127.0.0.2 and up (Linux routes all of 127.0.0.0/8
to the loopback interface)."""

import contextlib
import http.client
import json
import select
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import websockets.sync.client

from tests.servers import confect_serve, copy_app

GATED_APP = Path(__file__).parent / "gated_app"
PER_ADDRESS = 20
TOTAL = 50
WAIT = 15  # seconds: the most any step waits for the server (its timeouts are 1 s)
LABELS = json.dumps({"path": "fns:labels", "args": {}}).encode()


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A live server with 1 s timeouts and small caps; its port."""
    app = copy_app(GATED_APP, tmp_path_factory.mktemp("slow"))
    limits = ["--header-timeout", "1", "--body-timeout", "1", "--body-min-rate", "1000"]
    caps = ["--max-connections-per-address", str(PER_ADDRESS), "--max-connections", str(TOTAL)]
    with confect_serve(app, *limits, *caps, backlog=512) as serving:
        yield serving.port


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), WAIT, (source, 0))
    connection.settimeout(WAIT)
    return connection


def until_closed(connection: socket.socket) -> bytes:
    """What the server sends until it closes the connection (within WAIT seconds)."""
    received = b""
    deadline = time.monotonic() + WAIT
    try:
        while data := connection.recv(65536):
            received += data
            connection.settimeout(max(0.001, deadline - time.monotonic()))
    except ConnectionResetError:
        pass
    except TimeoutError:
        raise AssertionError(f"the server kept the connection; it sent {received!r}") from None
    return received


def labels(port: int, source: str = "127.0.0.1") -> list[str]:
    """The app's query, called from `source`: the server answers."""
    client = http.client.HTTPConnection("127.0.0.1", port, WAIT, (source, 0))
    try:
        client.request("POST", "/api/query", LABELS, {"content-type": "application/json"})
        response = client.getresponse()
        assert response.status == 200
        return json.loads(response.read())["value"]
    finally:
        client.close()


def sync_socket(port: int, source: str = "127.0.0.1") -> websockets.sync.client.ClientConnection:
    return websockets.sync.client.connect(
        f"ws://127.0.0.1:{port}/api/sync", sock=connect(port, source), proxy=None
    )


def test_half_sent_headers_are_cut_off_and_other_clients_answered_meanwhile(port: int):
    with ExitStack() as stack:
        stalled = [stack.enter_context(connect(port)) for _ in range(PER_ADDRESS)]
        for connection in stalled:
            connection.sendall(b"POST /api/query HTTP/1.1\r\nHost: x\r\nContent-Le")
        one_more = stack.enter_context(connect(port))
        assert until_closed(one_more).startswith(b"HTTP/1.1 503 ")  # over the address's cap
        assert labels(port, source="127.0.0.2") == []  # another address is served meanwhile
        for connection in stalled:
            assert until_closed(connection).startswith(b"HTTP/1.1 408 ")
    assert labels(port) == []  # once they are gone, the address is served again


def test_a_connection_that_sends_nothing_is_closed(port: int):
    with connect(port) as silent:
        assert until_closed(silent).startswith(b"HTTP/1.1 408 ")


def test_endless_headers_are_refused(port: int):
    with connect(port) as endless:
        endless.sendall(b"GET /api/storage/x HTTP/1.1\r\nHost: x\r\nX-Padding: ")
        with contextlib.suppress(ConnectionError):  # the server may close while this sends
            for _ in range(20):
                endless.sendall(b"a" * 4096)
        assert until_closed(endless).startswith(b"HTTP/1.1 431 ")


def test_a_body_that_trickles_in_is_cut_off(port: int):
    with connect(port) as trickling:
        trickling.sendall(
            b"POST /api/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n"
        )
        for _ in range(10 * WAIT):  # a byte every 0.1 s, until the server closes
            readable, _, _ = select.select([trickling], [], [], 0.1)
            if readable:
                break
            trickling.sendall(b" ")
        assert until_closed(trickling).startswith(b"HTTP/1.1 408 ")


def test_a_slow_body_that_keeps_up_the_rate_is_read(port: int):
    body = LABELS + b" " * 12_000  # 2.5 s at 5,000 bytes/s: past the timeout, above the rate
    with connect(port) as steady:
        steady.sendall(
            b"POST /api/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
        )
        for start in range(0, len(body), 500):
            readable, _, _ = select.select([steady], [], [], 0.1)
            assert not readable, "the server answered (or closed) before the body was sent"
            steady.sendall(body[start : start + 500])
        assert until_closed(steady).startswith(b"HTTP/1.1 200 ")


def test_websockets_count_against_the_address_cap(port: int):
    with ExitStack() as stack:
        for _ in range(PER_ADDRESS):
            stack.enter_context(sync_socket(port))
        with connect(port) as one_more:  # sending nothing, to read the answer before a reset
            assert until_closed(one_more).startswith(b"HTTP/1.1 503 ")
        assert labels(port, source="127.0.0.2") == []
    assert labels(port) == []


def test_connections_are_capped_in_total(port: int):
    with ExitStack() as stack:
        for source in ("127.0.0.1", "127.0.0.2"):
            for _ in range(PER_ADDRESS):
                stack.enter_context(sync_socket(port, source))
        for _ in range(TOTAL - 2 * PER_ADDRESS):
            stack.enter_context(sync_socket(port, "127.0.0.3"))
        with connect(port, "127.0.0.4") as one_more:
            assert until_closed(one_more).startswith(b"HTTP/1.1 503 ")
    assert labels(port, "127.0.0.4") == []
