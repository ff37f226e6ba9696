"""What a caller without the admin key can learn from refusals: nothing about which
internal functions exist."""

import json

import websockets

from confect import App, Backend, define_schema, internal_query, query
from confect.server.asgi import Server
from tests.raw_http import post, raw_request
from tests.servers import served


@query()
def public():
    return "public"
    yield


@internal_query()
def secret():
    return "secret"
    yield


def server() -> Server:
    app = App({"m:public": public, "m:secret": secret}, define_schema())
    return Server(Backend(app), admin_key="the-admin-key")


async def mutation_error(address: str, path: str) -> str:
    async with websockets.connect(f"ws://{address}/api/sync") as socket_:
        message = {"type": "Mutation", "requestId": 0, "udfPath": path, "args": [{}]}
        await socket_.send(json.dumps(message))
        while True:
            reply = json.loads(await socket_.recv())
            if reply["type"] == "MutationResponse":
                return reply["errorMessage"]


async def test_an_internal_function_looks_missing_to_a_caller_without_the_admin_key():
    async with served(server()) as address:
        internal = await post(address, "/api/query", {"path": "m:secret", "args": {}})
        missing = await post(address, "/api/query", {"path": "m:nothing", "args": {}})
        assert internal[0] == missing[0] == 404
        assert internal[1]["message"] == "Could not find public function for 'm:secret'."
        assert missing[1]["message"] == "Could not find public function for 'm:nothing'."
        assert await mutation_error(address, "m:secret") == (
            "Could not find public function for 'm:secret'."
        )
        assert await mutation_error(address, "m:nothing") == (
            "Could not find public function for 'm:nothing'."
        )


async def test_the_admin_key_is_checked_exactly():
    async with served(server()) as address:
        body = {"path": "m:secret", "args": {}}
        for key, status in [
            ("the-admin-key", 200),
            ("the-admin-kez", 401),
            ("the-admin-key-and-more", 401),
            ("", 401),
        ]:
            head = (
                f"POST /api/query HTTP/1.1\r\nHost: {address}\r\n"
                f"Content-Type: application/json\r\nAuthorization: Convex {key}\r\n"
            )

            got, _, _ = await raw_request(address, head, json.dumps(body).encode())
            assert got == status, key
