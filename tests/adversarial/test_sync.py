"""Every WebSocket decoder under generated frames: values come back unchanged through
mutations, actions and subscriptions; a call whose arguments are no Convex values fails
alone and the connection goes on; a message the server cannot parse ends the connection
with a FatalError (as Convex's does); nothing ends a connection silently, nothing leaves
a later request unanswered, and the server answers new connections afterwards."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from confect.model.values import from_wire

from .checks import same_value
from .strategies import (
    bad_specials,
    embedded,
    examples,
    json_values,
    not_json,
    too_deep,
    valid_wire,
)
from .sync_client import Answer, SyncClient, assert_answers_a_new_connection, assert_fatal
from .tokens import FORGERIES, Keys

SYNC_PATHS = ("/api/sync", "/api/1.48.0/sync")  # the Rust client's, the npm client's
ECHOES = {"Mutation": "wire:echo_mutation", "Action": "wire:echo_action"}
KINDS = ("Mutation", "Action", "Query")
CALL_ID = 7  # the request or query id of the frame under test


def subscribe(client: SyncClient, args: str, query_id: int = 1) -> Answer:
    """Subscribe to the echo query with `args` (JSON text) as the connection's first query
    set change; read until the Transition that answers it (or the close)."""
    add = f'{{"type":"Add","queryId":{query_id},"udfPath":"wire:echo_query","args":{args}}}'
    client.send(
        f'{{"type":"ModifyQuerySet","baseVersion":0,"newVersion":1,"modifications":[{add}]}}'
    )
    return client.read_until(lambda answer: query_result(answer, query_id) is not None)


def query_result(answer: Answer, query_id: int) -> dict[str, Any] | None:
    """The QueryUpdated or QueryFailed of `query_id` in the answer's transitions, if any."""
    for transition in answer.of_type("Transition"):
        for modification in transition["modifications"]:
            if modification.get("queryId") == query_id and modification["type"] != "QueryRemoved":
                return modification
    return None


def echo(client: SyncClient, kind: str, value: str) -> Answer:
    """The echo function of `kind` called (or subscribed to) with `value` (JSON text)."""
    args = f'[{{"value":{value}}}]'
    if kind == "Query":
        return subscribe(client, args, CALL_ID)
    return client.call(kind, ECHOES[kind], args)


def assert_failed_alone(client: SyncClient, answer: Answer, kind: str) -> None:
    """The call (or query) under test failed with a message, and the connection goes on."""
    if kind == "Query":
        result = query_result(answer, CALL_ID)
        assert result is not None and result["type"] == "QueryFailed", answer
        assert result["errorMessage"], result
    else:
        assert answer.request_id is not None
        response = answer.response(answer.request_id)
        assert response is not None, f"the {kind} went unanswered: {answer}"
        assert response["success"] is False and response["errorMessage"], response
    assert client.probe().answered() == "probe"


# --- values --------------------------------------------------------------------------------------


@examples(100, shrink=False)
@given(valid_wire, st.sampled_from(KINDS), st.sampled_from(SYNC_PATHS))
def test_every_valid_value_comes_back_unchanged(address, text_and_value, kind, path):
    text, expected = text_and_value
    with SyncClient(address, path) as client:
        answer = echo(client, kind, text)
        if kind == "Query":
            result = query_result(answer, CALL_ID)
            assert result is not None and result["type"] == "QueryUpdated", answer
            value = result["value"]
        else:
            value = answer.answered()
        assert same_value(from_wire(value), expected)


@examples(120, shrink=False)
@given(embedded(bad_specials.map(json.dumps)), st.sampled_from(KINDS), st.sampled_from(SYNC_PATHS))
def test_a_value_that_is_no_convex_value_fails_its_call_alone(address, text, kind, path):
    with SyncClient(address, path) as client:
        assert_failed_alone(client, echo(client, kind, text), kind)


@examples(20, shrink=False)
@given(embedded(too_deep), st.sampled_from(KINDS))
def test_a_value_nested_past_64_levels_fails_its_call_alone(address, text, kind):
    with SyncClient(address) as client:
        assert_failed_alone(client, echo(client, kind, text), kind)


ISSUE_EXAMPLES = ['{"$integer": "AAAA"}', '{"$float": "AAAA"}', "[" * 900 + "]" * 900]
"""The arguments that, in #12, stopped a connection's mutation runner. The last nests past
what serde_json parses (128 levels): a server may refuse its message as Convex does, with
a FatalError."""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("text", ISSUE_EXAMPLES, ids=lambda text: text[:20])
def test_arguments_that_stopped_a_runner_fail_their_call_alone(address, text, kind):
    with SyncClient(address) as client:
        answer = echo(client, kind, text)
        if answer.closed and text.startswith("[["):
            assert_fatal(answer)
        else:
            assert_failed_alone(client, answer, kind)
            assert_failed_alone(client, echo(client, "Mutation", text), "Mutation")  # again
    assert_answers_a_new_connection(address)


@examples(40, shrink=False)
@given(embedded(not_json), st.sampled_from(KINDS))
def test_text_that_is_not_json_fails_its_call_or_ends_the_connection(address, text, kind):
    with SyncClient(address) as client:
        answer = echo(client, kind, text)
        if answer.closed:
            assert_fatal(answer)
        else:
            assert_failed_alone(client, answer, kind)
    assert_answers_a_new_connection(address)


# --- messages ------------------------------------------------------------------------------------

FATAL = "a FatalError, then the close"
FAILED = "the call fails, the connection goes on"
FATAL_OR_FAILED = "either"
GOES_ON = "the connection goes on"
AUTH_REFUSED = "a FatalError, or an AuthError"

_SESSION = "5b1f2a5e-0c55-4a8b-9d8e-7f0a3b2c1d4e"
_CONNECT = {"type": "Connect", "sessionId": _SESSION, "connectionCount": 0}
_ADD = {"type": "Add", "queryId": CALL_ID, "udfPath": "wire:echo_query", "args": [{"value": 1}]}
_QUERY_SET = {"type": "ModifyQuerySet", "baseVersion": 0, "newVersion": 1, "modifications": [_ADD]}
_MUTATION = {"type": "Mutation", "requestId": CALL_ID, "udfPath": "wire:echo_mutation"}
_MUTATION["args"] = [{"value": 1}]
_ACTION = {**_MUTATION, "type": "Action", "udfPath": "wire:echo_action"}
_AUTHENTICATE = {"type": "Authenticate", "tokenType": "None", "baseVersion": 0}


class _Missing:
    def __repr__(self) -> str:
        return "missing"


_MISSING = _Missing()
"""A field left out of a message."""


def _with(message: dict[str, Any], **fields: Any) -> dict[str, Any]:
    changed = {**message, **fields}
    return {name: value for name, value in changed.items() if value is not _MISSING}


def _add(**fields: Any) -> dict[str, Any]:
    return _with(_QUERY_SET, modifications=[_with(_ADD, **fields)])


WRONG_TYPES = [0, -1, 1.5, 2**32, "0", None, True, [], {}]

CONNECTS: list[tuple[str, Any, str]] = [
    *[(f"sessionId={v!r}", _with(_CONNECT, sessionId=v), FATAL) for v in (_MISSING, 5, None, [], "not-a-uuid")],
    *[(f"connectionCount={v!r}", _with(_CONNECT, connectionCount=v), FATAL) for v in (_MISSING, -1, 1.5, 2**32, "0", None)],
    *[(f"lastCloseReason={v!r}", _with(_CONNECT, lastCloseReason=v), FATAL) for v in (5, [], {})],
    *[(f"maxObservedTimestamp={v!r}", _with(_CONNECT, maxObservedTimestamp=v), FATAL) for v in (5, "!!", "AAAAAAAAAA==")],
    ("clientTs='x'", _with(_CONNECT, clientTs="x"), FATAL),
]  # fmt: skip
"""A first message `Connect` with a field of the wrong type or missing (what Convex refuses)."""

MESSAGES: list[tuple[str, Any, str]] = [
    # not a message
    *[(repr(text), text, FATAL) for text in ("", "{", "x", "NaN", "5", '"Mutation"', "[]", "null", "true")],
    ("trailing text", json.dumps(_MUTATION) + " x", FATAL),
    ("nested 200,000 deep", "[" * 200_000 + "]" * 200_000, FATAL),
    *[(f"type={v!r}", _with(_MUTATION, type=v), FATAL) for v in (_MISSING, 5, None, "Nope", "mutation", "Transition")],
    # ModifyQuerySet
    *[(f"ModifyQuerySet baseVersion={v!r}", _with(_QUERY_SET, baseVersion=v), FATAL) for v in (_MISSING, 5, *WRONG_TYPES[1:])],
    *[(f"ModifyQuerySet newVersion={v!r}", _with(_QUERY_SET, newVersion=v), FATAL) for v in (_MISSING, *WRONG_TYPES[1:])],
    *[(f"ModifyQuerySet modifications={v!r}", _with(_QUERY_SET, modifications=v), FATAL) for v in (_MISSING, None, {}, "x", [5], [None], [{}])],
    *[(f"Add queryId={v!r}", _add(queryId=v), FATAL) for v in (_MISSING, *WRONG_TYPES[1:])],
    *[(f"Add udfPath={v!r}", _add(udfPath=v), FATAL_OR_FAILED) for v in (_MISSING, 5, None, [])],
    *[(f"Add udfPath={v!r}", _add(udfPath=v), FATAL_OR_FAILED) for v in ("", "nope", "wire:nothing", "wire:echo_mutation")],
    *[(f"Add args={v!r}", _add(args=v), FAILED) for v in (_MISSING, 5, "x", None, {}, [5], [{}, {}])],
    *[(f"modification type={v!r}", _add(type=v), FATAL) for v in (_MISSING, 5, "Nope", "add")],
    *[(f"Remove queryId={v!r}", _with(_QUERY_SET, modifications=[_with({"type": "Remove"}, queryId=v)]), FATAL) for v in (_MISSING, *WRONG_TYPES[1:])],
    # Mutation and Action
    *[
        case
        for kind, message in (("Mutation", _MUTATION), ("Action", _ACTION))
        for case in [
            *[(f"{kind} requestId={v!r}", _with(message, requestId=v), FATAL) for v in (_MISSING, *WRONG_TYPES[1:])],
            *[(f"{kind} udfPath={v!r}", _with(message, udfPath=v), FATAL_OR_FAILED) for v in (_MISSING, 5, None, [])],
            *[(f"{kind} udfPath={v!r}", _with(message, udfPath=v), FATAL_OR_FAILED) for v in ("", "nope", "wire:nothing", "wire:echo_query")],
            *[(f"{kind} args={v!r}", _with(message, args=v), FATAL_OR_FAILED) for v in (_MISSING, 5, "x", None, {}, [5], [{}, {}])],
            (f"{kind} componentPath=5", _with(message, componentPath=5), FATAL_OR_FAILED),
        ]
    ],
    # Authenticate (a token that is refused, or none at all, is tested below)
    *[(f"Authenticate baseVersion={v!r}", _with(_AUTHENTICATE, baseVersion=v), FATAL) for v in (_MISSING, *WRONG_TYPES[1:])],
    *[(f"Authenticate tokenType={v!r}", _with(_AUTHENTICATE, tokenType=v), FATAL) for v in (_MISSING, 5, None, "Bogus", "user")],
    *[(f"Authenticate User value={v!r}", _with(_AUTHENTICATE, tokenType="User", value=v), AUTH_REFUSED) for v in (_MISSING, 5, None, [])],
    *[(f"Authenticate Admin value={v!r}", _with(_AUTHENTICATE, tokenType="Admin", value=v), AUTH_REFUSED) for v in (_MISSING, 5, None)],
    # what must be let through
    ("an Event", {"type": "Event", "eventType": "clientConnect", "event": {"x": 1}}, GOES_ON),
    ("an unknown field", _with(_MUTATION, extra=1), GOES_ON),
]  # fmt: skip
"""Messages after a proper Connect, each with what the server must do."""


def judge(client: SyncClient, answer: Answer, expected: str) -> None:
    """Check `answer` (to a frame under test, then a probe) against what was `expected`."""
    if expected == FATAL or (expected == FATAL_OR_FAILED and answer.closed):
        assert_fatal(answer)
    else:
        assert not answer.closed, f"the connection was closed: {answer}"
        assert answer.answered() == "probe"
        if expected != GOES_ON:
            failed = query_result(answer, CALL_ID) or answer.response(CALL_ID)
            if failed is None:  # an action is answered when it is done: maybe after the probe
                client.read_until(lambda a: a.response(CALL_ID) is not None, answer)
                failed = answer.response(CALL_ID)
            assert failed is not None, answer
            assert failed.get("success") is False or failed.get("type") == "QueryFailed", failed
            assert failed["errorMessage"], failed


@pytest.mark.parametrize(
    ("frame", "expected"), [case[1:] for case in CONNECTS], ids=[c[0] for c in CONNECTS]
)
def test_a_malformed_connect_ends_the_connection(address, frame, expected):
    with SyncClient(address, connect_first=False) as client:
        client.send(frame)
        judge(client, client.probe(), expected)
    assert_answers_a_new_connection(address)


@pytest.mark.parametrize(
    ("frame", "expected"), [case[1:] for case in MESSAGES], ids=[c[0] for c in MESSAGES]
)
def test_a_malformed_message_gets_a_clear_answer(address, frame, expected):
    with SyncClient(address) as client:
        client.send(frame)
        if expected == AUTH_REFUSED:
            assert_auth_refused(client)
        else:
            judge(client, client.probe(), expected)
    assert_answers_a_new_connection(address)


def assert_auth_refused(client: SyncClient) -> None:
    """A FatalError (then the close), or an AuthError after which the connection is closed
    (as Convex closes it) or, once the client authenticates again as nobody, answers."""
    refused = client.read_until(lambda a: bool(a.of_type("AuthError") or a.of_type("FatalError")))
    if refused.of_type("FatalError"):
        assert_fatal(client.read_until(lambda _: False, refused))
    elif not refused.closed:
        assert refused.of_type("AuthError")[0]["error"], refused
        client.send(_AUTHENTICATE)
        again = client.probe(refused)
        assert again.closed or again.answered() == "probe"


@pytest.mark.parametrize(
    "frame", [json.dumps(_MUTATION).encode(), b"\x00\xff", b""], ids=["a message", "bytes", "empty"]
)
def test_a_binary_frame_ends_the_connection_with_a_reason(address, frame):
    with SyncClient(address) as client:
        client.send(frame)
        answer = client.probe()
        if answer.close_code != 1003:  # "unsupported data", said by the close itself
            assert_fatal(answer)
    assert_answers_a_new_connection(address)


@pytest.mark.parametrize("frame", [b"\xff", b'{"type": "Event", "x": "\xc0\xaf"}', b"\xed\xa0\x80"])
def test_a_text_frame_that_is_not_utf8_ends_the_connection(address, frame):
    with SyncClient(address) as client:
        client.send(frame, text=True)
        answer = client.probe()
        if answer.close_code != 1007:  # "invalid frame payload data", from the WebSocket layer
            assert_fatal(answer)
    assert_answers_a_new_connection(address)


envelopes = st.builds(
    lambda kind, fields: {"type": kind, **fields},
    st.sampled_from(["Connect", "ModifyQuerySet", "Mutation", "Action", "Event"]),
    st.fixed_dictionaries(
        {},
        optional={
            name: json_values
            for name in (
                "sessionId", "connectionCount", "baseVersion", "newVersion", "modifications",
                "requestId", "udfPath", "args", "componentPath", "eventType", "event",
            )
        },
    ),
)  # fmt: skip


@examples(200, shrink=False)
@given(st.one_of(st.text(max_size=40), json_values.map(json.dumps), envelopes.map(json.dumps)))
def test_any_frame_gets_a_fatal_error_or_the_connection_goes_on(address, frame):
    with SyncClient(address) as client:
        client.send(frame)
        answer = client.probe()
        if answer.closed:
            assert_fatal(answer)
        else:
            assert answer.answered() == "probe"


# --- callers -------------------------------------------------------------------------------------


def authenticate(client: SyncClient, token: str | None, base_version: int) -> None:
    message: dict[str, Any] = {"type": "Authenticate", "baseVersion": base_version}
    message.update(
        {"tokenType": "User", "value": token} if token is not None else {"tokenType": "None"}
    )
    client.send(message)


def refusal(client: SyncClient) -> Answer:
    """Read until the AuthError or FatalError that refuses an Authenticate."""
    refused = client.read_until(lambda a: bool(a.of_type("AuthError") or a.of_type("FatalError")))
    last = refused.messages[-1] if refused.messages else {}
    assert last.get("type") in ("AuthError", "FatalError") and last["error"], refused
    return refused


def assert_refused_until_authenticated(client: SyncClient, path: str, refused: Answer) -> None:
    """After an auth refusal, a call of `path` either finds the connection closed (as
    Convex closes it; the client connects again) or fails: it runs as nobody at all."""
    meanwhile = client.call("Mutation", path, [{}], refused)
    if not meanwhile.closed:
        assert meanwhile.request_id is not None
        response = meanwhile.response(meanwhile.request_id)
        assert response is not None and response["success"] is False, response


@pytest.mark.parametrize("forgery", FORGERIES)
def test_after_a_refused_token_no_call_runs_until_the_client_authenticates_again(
    address, keys: Keys, forgery
):
    with SyncClient(address) as client:
        authenticate(client, keys.token("alice"), 0)
        assert client.call("Mutation", "wire:whoami", [{}]).answered() == "alice"
        authenticate(client, FORGERIES[forgery](keys), 1)
        refused = refusal(client)
        assert_refused_until_authenticated(client, "wire:whoami", refused)
        if not refused.closed:
            authenticate(client, keys.token("bob"), 1)
            again = client.call("Mutation", "wire:whoami", [{}], refused)
            assert again.closed or again.answered() == "bob"
    assert_answers_a_new_connection(address)


@pytest.mark.parametrize(
    "value",
    ["", "wrong-key", "adversarial-admin-ke", "adversarial-admin-keyx", " adversarial-admin-key"],
)
def test_a_wrong_admin_key_is_refused_and_reaches_no_internal_function(address, value):
    with SyncClient(address) as client:
        client.send(
            {"type": "Authenticate", "tokenType": "Admin", "value": value, "baseVersion": 0}
        )
        assert_refused_until_authenticated(client, "wire:internal_whoami", refusal(client))
    assert_answers_a_new_connection(address)
