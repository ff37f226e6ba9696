"""Every HTTP decoder under generated input: the function-call endpoints (`/api/query`,
`/api/mutation`, `/api/action`, `/api/function`, `/api/run/...`, `/api/query_at_ts`) hand
valid values back unchanged and answer everything else with a clear error (4xx JSON
`{code, message}`, or a 560 failed call), never a crash; after each, the server answers a
well-formed call on the same keep-alive connection."""

from __future__ import annotations

import base64
import itertools
import json
import struct
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from confect.model.values import Value, from_wire

from .checks import same_value, strict_json
from .conftest import ADMIN_KEY
from .strategies import (
    embedded,
    examples,
    huge_numbers,
    json_values,
    not_json,
    refused_json,
    valid_wire,
    values,
    wire_text,
)
from .tokens import FORGERIES, Keys

ENDPOINTS = ("query", "mutation", "action", "function", "run", "query_at_ts")
ECHOES = {
    "query": "wire:echo_query",
    "mutation": "wire:echo_mutation",
    "action": "wire:echo_action",
    "function": "wire:echo_action",
    "query_at_ts": "wire:echo_query",
}
RUN_PATH = "/api/run/wire/echo_query"
_probes = itertools.count()


@pytest.fixture(scope="module")
def client(address: str) -> Iterator[httpx.Client]:
    """One client on one keep-alive connection, for every example of the module."""
    limits = httpx.Limits(max_connections=1)
    with httpx.Client(base_url=f"http://{address}", timeout=30, limits=limits) as http:
        yield http


def url_path(endpoint: str) -> str:
    return RUN_PATH if endpoint == "run" else f"/api/{endpoint}"


def echo_call(client: httpx.Client, endpoint: str, value: str, wrapped: bool) -> str:
    """The JSON text of a call of `endpoint`'s echo function with `value` (JSON text), its
    arguments in a one-element array (as the npm client sends them) if `wrapped`."""
    args = f'{{"value":{value}}}'
    if wrapped:
        args = f"[{args}]"
    if endpoint == "run":
        return f'{{"args":{args}}}'
    body = f'{{"path":"{ECHOES[endpoint]}","args":{args},"format":"convex_encoded_json"'
    if endpoint == "query_at_ts":
        body += f',"ts":"{client.post("/api/query_ts").json()["ts"]}"'
    return body + "}"


def post(client: httpx.Client, path: str, body: str | bytes, **headers: str) -> httpx.Response:
    """POST `body` (text may hold lone surrogates: they go out as their UTF-8-ish bytes)."""
    content = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    headers = {"content-type": "application/json", **headers}
    return client.post(path, content=content, headers=headers)


def answer(response: httpx.Response) -> dict[str, Any]:
    """The response's JSON object: strict JSON (no NaN, no lone surrogates)."""
    kind = response.headers.get("content-type", "")
    assert kind.startswith("application/json"), (response.status_code, response.content[:300])
    body = strict_json(response.content)
    assert isinstance(body, dict), body
    return body


def assert_refused(response: httpx.Response, *, calls_may_fail: bool = True) -> None:
    """A clear refusal: 4xx `{code, message}`, or (if `calls_may_fail`) a 560 failed call
    with its message."""
    body = answer(response)
    status = response.status_code
    if 400 <= status < 500:
        assert isinstance(body.get("code"), str) and body["code"], body
        assert isinstance(body.get("message"), str) and body["message"], body
    else:
        assert calls_may_fail and status == 560, (status, body)
        assert body["status"] == "error" and body["errorMessage"], body


def assert_success(response: httpx.Response) -> Value:
    """The value of a successful call."""
    body = answer(response)
    assert (response.status_code, body.get("status")) == (200, "success"), body
    return from_wire(body["value"])


def assert_still_answering(client: httpx.Client, **headers: str) -> Value:
    """A well-formed call on the same connection gets its answer (the caller's subject)."""
    probe = f"probe {next(_probes)}"
    call = {"path": "wire:echo_mutation", "args": {"value": probe}}
    assert assert_success(post(client, "/api/mutation", json.dumps(call), **headers)) == probe
    whoami = post(client, "/api/mutation", '{"path":"wire:whoami","args":{}}', **headers)
    return assert_success(whoami)


# --- values --------------------------------------------------------------------------------------


@examples(120)
@given(valid_wire, st.sampled_from(ENDPOINTS), st.booleans())
def test_every_valid_value_comes_back_unchanged(client, text_and_value, endpoint, wrapped):
    text, value = text_and_value
    body = echo_call(client, endpoint, text, wrapped)
    assert same_value(assert_success(post(client, url_path(endpoint), body)), value)


@examples(60)
@given(values())
def test_a_stored_value_reads_back_unchanged(client, value):
    store = f'{{"path":"wire:store","args":{{"table":"values","value":{wire_text(value)}}}}}'
    id_ = assert_success(post(client, "/api/mutation", store))
    load = {"path": "wire:load", "args": {"table": "values", "id": id_}}
    assert same_value(assert_success(post(client, "/api/query", json.dumps(load))), value)


@examples(150)
@given(embedded(refused_json | not_json), st.sampled_from(ENDPOINTS), st.booleans())
def test_a_value_that_is_no_convex_value_is_refused(client, text, endpoint, wrapped):
    body = echo_call(client, endpoint, text, wrapped)
    assert_refused(post(client, url_path(endpoint), body))
    assert_still_answering(client)


def stored_count(client: httpx.Client) -> int:
    """How many documents the `values` table holds."""
    listing = {"path": "wire:values_of", "args": {"table": "values"}}
    stored = assert_success(post(client, "/api/query", json.dumps(listing)))
    assert isinstance(stored, list)
    return len(stored)


@examples(40)
@given(embedded(refused_json | not_json))
def test_a_value_that_is_no_convex_value_is_not_stored(client, text):
    before = stored_count(client)
    body = f'{{"path":"wire:store","args":{{"table":"values","value":{text}}}}}'
    assert_refused(post(client, "/api/mutation", body))
    assert stored_count(client) == before
    assert_still_answering(client)


@examples(30)
@given(st.sampled_from(["$integer", "$float", "$bytes", "$foo", "$", "$id"]), values(1))
def test_a_reserved_field_name_that_app_code_builds_is_refused(client, key, value):
    before = stored_count(client)
    call = {"path": "wire:store_field", "args": {"key": key, "value": json.loads(wire_text(value))}}
    assert_refused(post(client, "/api/mutation", json.dumps(call)))
    assert stored_count(client) == before
    assert_still_answering(client)


@examples(20)
@given(huge_numbers, st.sampled_from(ENDPOINTS))
def test_a_number_no_float64_holds_is_refused_or_read_as_its_infinity(client, number, endpoint):
    text, rounded = number
    response = post(client, url_path(endpoint), echo_call(client, endpoint, text, False))
    if response.status_code == 200:
        assert same_value(assert_success(response), rounded)
    else:
        assert_refused(response)
    assert_still_answering(client)


# --- bodies --------------------------------------------------------------------------------------

_GOOD = b'{"path": "wire:echo_query", "args": {"value": 1}'
MALFORMED_BODIES = [
    b"",
    b"{",
    b"null",
    b"[]",
    b"5",
    b'"wire:echo_query"',
    b'{"path": 5, "args": {}}',
    b'{"path": null, "args": {}}',
    b'{"path": ["wire:echo_query"], "args": {}}',
    b'{"path": {"$bytes": "AA=="}, "args": {}}',
    b'{"path": "", "args": {}}',
    b'{"path": "wire:nothing", "args": {}}',
    b'{"path": "nothing", "args": {}}',
    b'{"path": ":", "args": {}}',
    b'{"path": "../wire:echo_query", "args": {}}',
    b'{"path": "wire:echo_query", "args": 5}',
    b'{"path": "wire:echo_query", "args": "x"}',
    b'{"path": "wire:echo_query", "args": null}',
    b'{"path": "wire:echo_query", "args": []}',
    b'{"path": "wire:echo_query", "args": [5]}',
    b'{"path": "wire:echo_query", "args": [{}, {}]}',
    b'{"path": "wire:echo_query", "args": [[{"value": 1}]]}',
    b'{"path": "wire:echo_query", "args": {"value": 1, "extra": 2}}',
    b'{"path": "wire:echo_query", "args": {}}',
    b'{"path": "wire:echo_query", "args": {"value": "\xff"}}',
    b'{"path": "wire:echo_query\xc0\xaf", "args": {"value": 1}}',
    b"\xef\xbb\xbf{}",  # a byte order mark
    _GOOD + b"} trailing",
    b'{"path": NaN, "args": {}}',
    b"[" * 100_000,
    _GOOD + b"}" + b" " * (17 << 20),  # over the 16 MiB body limit
]


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("body", MALFORMED_BODIES, ids=lambda body: repr(body[:32]))
def test_a_malformed_body_is_a_request_error(client, endpoint, body):
    assert_refused(post(client, url_path(endpoint), body), calls_may_fail=False)
    assert_still_answering(client)


@pytest.mark.parametrize(
    "body",
    [_GOOD + b', "format": 5}', _GOOD + b', "format": "bogus"}', _GOOD + b', "componentPath": 5}'],
    ids=repr,
)
def test_an_unknown_field_of_a_call_is_ignored_or_refused(client, body):
    response = post(client, "/api/query", body)
    if response.status_code == 200:
        assert assert_success(response) == 1.0
    else:
        assert_refused(response, calls_may_fail=False)
    assert_still_answering(client)


def _ts(value: int) -> str:
    return base64.b64encode(struct.pack("<Q", value)).decode()


@pytest.mark.parametrize(
    "ts", ["", "AA", "not base64!", _ts(7)[:-4], 5, None, [], _ts(2**64 - 1), _ts(2**63)], ids=repr
)
def test_query_at_ts_refuses_a_timestamp_it_cannot_read_at(client, ts):
    body = json.dumps({"path": "wire:echo_query", "args": {"value": 1}, "ts": ts})
    assert_refused(post(client, "/api/query_at_ts", body), calls_may_fail=False)
    assert_still_answering(client)


envelopes = st.fixed_dictionaries(
    {},
    optional={
        "path": json_values | st.sampled_from(sorted(set(ECHOES.values()))),
        "args": json_values,
        "format": json_values,
        "ts": json_values,
        "componentPath": json_values,
    },
)


@examples(150)
@given(st.sampled_from(ENDPOINTS), envelopes | json_values | st.binary(max_size=64))
def test_any_body_gets_a_clear_answer(client, endpoint, body):
    text = body if isinstance(body, bytes) else json.dumps(body)
    response = post(client, url_path(endpoint), text)
    if response.status_code == 200:
        assert_success(response)
    else:
        assert_refused(response)
    assert_still_answering(client)


# --- callers -------------------------------------------------------------------------------------


@pytest.mark.parametrize("forgery", [name for name in FORGERIES if name != "empty"])
def test_a_forged_token_is_refused_never_anonymous(client, keys: Keys, forgery):
    call = '{"path":"wire:whoami","args":{}}'
    response = post(
        client, "/api/mutation", call, authorization=f"Bearer {FORGERIES[forgery](keys)}"
    )
    assert response.status_code == 401, response.text
    assert_refused(response, calls_may_fail=False)
    assert assert_still_answering(client, authorization=f"Bearer {keys.token('alice')}") == "alice"


@pytest.mark.parametrize(
    "header",
    [
        "Convex wrong-key",
        f"Convex {ADMIN_KEY[:-1]}",
        f"Convex {ADMIN_KEY}x",
        f"Convex  {ADMIN_KEY[1:]}",
        "Convex",
        "Bearer",
        "Basic YWxpY2U6c2VjcmV0",
        "Digest x",
    ],
    ids=repr,
)
def test_a_wrong_authorization_header_is_refused(client, header):
    response = post(
        client, "/api/mutation", '{"path":"wire:whoami","args":{}}', authorization=header
    )
    assert response.status_code == 401, response.text
    assert_refused(response, calls_may_fail=False)
    assert assert_still_answering(client) is None


@pytest.mark.parametrize("endpoint", ["mutation", "function", "run"])
def test_an_internal_function_cannot_be_told_from_a_missing_one(client, endpoint):
    """Without the admin key, the answer names nothing that tells them apart."""

    def refusal(name: str) -> tuple[int, str, str]:
        path = f"/api/run/wire/{name}" if endpoint == "run" else f"/api/{endpoint}"
        response = post(client, path, json.dumps({"path": f"wire:{name}", "args": {}}))
        assert_refused(response, calls_may_fail=False)
        body = answer(response)
        return response.status_code, body["code"], body["message"].replace(name, "NAME")

    assert refusal("internal_whoami") == refusal("no_such_function")
    admin = post(
        client,
        "/api/mutation",
        '{"path":"wire:internal_whoami","args":{}}',
        authorization=f"Convex {ADMIN_KEY}",
    )
    assert assert_success(admin) == "admin"
