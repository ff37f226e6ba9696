"""HTTP requests written out by hand, each on a new connection: what a test sends is exactly
what the server receives (no client library normalizes it)."""

import asyncio
import json


async def raw_request(
    address: str, head: str, body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """Send `head` (request line and headers) and `body` on a new connection; the status,
    headers and body of the answer."""
    reader, writer = await asyncio.open_connection(*address.split(":"))
    writer.write(
        head.encode("latin-1")
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    response = await reader.read()
    writer.close()
    head_bytes, _, answer = response.partition(b"\r\n\r\n")
    lines = head_bytes.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, answer


async def post(address: str, path: str, body: dict) -> tuple[int, dict]:
    """POST `body` as JSON to `path`; the status and the JSON answer."""
    head = f"POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n"
    status, _, answer = await raw_request(address, head, json.dumps(body).encode())
    return status, json.loads(answer)
