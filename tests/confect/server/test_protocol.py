"""Each message the server sends is the JSON that Convex's clients read: the shapes of
`ServerMessage` in the npm package's `src/browser/sync/protocol.ts` (and, for the HTTP
API, `src/browser/http_client.ts`), byte for byte as the server writes them, and read
back into the same message."""

import json

import pytest

from confect.runtime.logs import LogLevel, LogLine
from confect.server.calls import ErrorCode, Outcome, RequestError
from confect.server.protocol import ABSENT, encode_ts
from confect.server.protocol.http import (
    CallFailed,
    CallSuccess,
    QueryTimestamp,
    Refusal,
    Uploaded,
    call_response,
    read_call,
    to_json,
)
from confect.server.protocol.server import (
    ActionFailed,
    ActionSuccess,
    AuthError,
    FatalError,
    MutationFailed,
    MutationSuccess,
    Ping,
    QueryFailed,
    QueryRemoved,
    QueryUpdated,
    StateVersion,
    Transition,
    TransitionChunk,
    action_response,
    encode,
    mutation_response,
    parse_server_message,
    state_modification,
)

TS = 1_700_000_000_000_000_000
TS_JSON = encode_ts(TS)
START = {"querySet": 0, "identity": 0, "ts": "AAAAAAAAAAA="}
END = {"querySet": 1, "identity": 2, "ts": TS_JSON}
ERROR = {"$integer": "BQAAAAAAAAA="}  # a ConvexError's data, wire-encoded

SERVER_MESSAGES = [
    (
        Transition(
            start_version=StateVersion(query_set=0, identity=0, ts=0),
            end_version=StateVersion(query_set=1, identity=2, ts=TS),
            modifications=[
                QueryUpdated(query_id=0, value=[{"a": 1}], log_lines=["[INFO] hi"]),
                QueryFailed(query_id=1, error_message="Uncaught Error: no", log_lines=[]),
                QueryFailed(query_id=2, error_message="x", log_lines=[], error_data=ERROR),
                QueryFailed(query_id=3, error_message="x", log_lines=[], error_data=None),
                QueryRemoved(query_id=4),
            ],
        ),
        {
            "type": "Transition",
            "startVersion": START,
            "endVersion": END,
            "modifications": [
                {
                    "type": "QueryUpdated",
                    "queryId": 0,
                    "value": [{"a": 1}],
                    "logLines": ["[INFO] hi"],
                    "journal": None,
                },
                {
                    "type": "QueryFailed",
                    "queryId": 1,
                    "errorMessage": "Uncaught Error: no",
                    "logLines": [],
                    "journal": None,
                },
                {
                    "type": "QueryFailed",
                    "queryId": 2,
                    "errorMessage": "x",
                    "logLines": [],
                    "journal": None,
                    "errorData": ERROR,
                },
                {
                    "type": "QueryFailed",
                    "queryId": 3,
                    "errorMessage": "x",
                    "logLines": [],
                    "journal": None,
                    "errorData": None,
                },
                {"type": "QueryRemoved", "queryId": 4},
            ],
        },
    ),
    (
        TransitionChunk(transition_id="1", part_number=0, total_parts=2, chunk='{"type"'),
        {
            "type": "TransitionChunk",
            "transitionId": "1",
            "partNumber": 0,
            "totalParts": 2,
            "chunk": '{"type"',
        },
    ),
    (
        MutationSuccess(request_id=7, log_lines=[], result={"id": "x"}, ts=TS),
        {
            "type": "MutationResponse",
            "requestId": 7,
            "success": True,
            "logLines": [],
            "result": {"id": "x"},
            "ts": TS_JSON,
        },
    ),
    # a failure's message is its `result`; `errorMessage` repeats it
    (
        MutationFailed(request_id=7, log_lines=["l"], result="Uncaught Error: no"),
        {
            "type": "MutationResponse",
            "requestId": 7,
            "success": False,
            "logLines": ["l"],
            "result": "Uncaught Error: no",
            "errorMessage": "Uncaught Error: no",
        },
    ),
    (
        MutationFailed(request_id=7, log_lines=[], result="e", error_data=ERROR),
        {
            "type": "MutationResponse",
            "requestId": 7,
            "success": False,
            "logLines": [],
            "result": "e",
            "errorMessage": "e",
            "errorData": ERROR,
        },
    ),
    (
        ActionSuccess(request_id=8, log_lines=[], result=None),
        {
            "type": "ActionResponse",
            "requestId": 8,
            "success": True,
            "logLines": [],
            "result": None,
        },
    ),
    (
        ActionFailed(request_id=8, log_lines=[], result="e", error_data=None),
        {
            "type": "ActionResponse",
            "requestId": 8,
            "success": False,
            "logLines": [],
            "result": "e",
            "errorMessage": "e",
            "errorData": None,
        },
    ),
    (
        AuthError(error="the token expired", base_version=3, auth_update_attempted=False),
        {
            "type": "AuthError",
            "error": "the token expired",
            "baseVersion": 3,
            "authUpdateAttempted": False,
        },
    ),
    (FatalError(error="bad"), {"type": "FatalError", "error": "bad"}),
    (Ping(), {"type": "Ping"}),
]


@pytest.mark.parametrize(
    ("message", "wire"), SERVER_MESSAGES, ids=[type(m).__name__ for m, _ in SERVER_MESSAGES]
)
def test_each_server_message_is_the_json_the_clients_read(message, wire):
    assert encode(message) == json.dumps(wire)  # keys, their order and null vs absent
    assert parse_server_message(json.loads(encode(message))) == message


def test_messages_from_outcomes_carry_error_data_only_for_a_convex_error():
    failed = Outcome(False, error_message="e", log_lines=[LogLine(LogLevel.LOG, "l", 0.0)])
    thrown = Outcome(False, error_message="e", error_data=None, has_error_data=True)
    assert state_modification(1, Outcome(True, 5)) == QueryUpdated(
        query_id=1, value=5, log_lines=[]
    )
    assert state_modification(1, failed) == QueryFailed(
        query_id=1, error_message="e", log_lines=["[LOG] 'l'"], error_data=ABSENT
    )
    assert state_modification(1, thrown).error_data is None
    assert mutation_response(2, Outcome(True, 5), TS) == MutationSuccess(
        request_id=2, log_lines=[], result=5, ts=TS
    )
    assert mutation_response(2, thrown, TS) == MutationFailed(
        request_id=2, log_lines=[], result="e", error_data=None
    )
    assert action_response(3, failed) == ActionFailed(
        request_id=3, log_lines=["[LOG] 'l'"], result="e"
    )


HTTP_BODIES = [
    (
        CallSuccess({"$integer": "AQAAAAAAAAA="}, ["[LOG] x"]),
        {"status": "success", "value": {"$integer": "AQAAAAAAAAA="}, "logLines": ["[LOG] x"]},
    ),
    (
        CallFailed("Uncaught Error: no", []),
        {"status": "error", "errorMessage": "Uncaught Error: no", "logLines": []},
    ),
    (
        CallFailed("Uncaught ConvexError: x", [], ERROR),
        {
            "status": "error",
            "errorMessage": "Uncaught ConvexError: x",
            "logLines": [],
            "errorData": ERROR,
        },
    ),
    (
        Refusal(ErrorCode.FUNCTION_NOT_FOUND, "Could not find public function for 'a:b'."),
        {"code": "FunctionNotFound", "message": "Could not find public function for 'a:b'."},
    ),
    (QueryTimestamp(TS), {"ts": TS_JSON}),
    (Uploaded("kg2abc"), {"storageId": "kg2abc"}),
]


@pytest.mark.parametrize(
    ("body", "wire"), HTTP_BODIES, ids=[type(b).__name__ for b, _ in HTTP_BODIES]
)
def test_each_http_body_is_the_json_the_clients_read(body, wire):
    written = to_json(body)
    assert json.dumps(written) == json.dumps(wire)
    assert all(type(key) is str for key in written)
    assert type(written.get("code", "")) is str  # the code's text, not the enum


def test_an_outcome_answers_with_its_body():
    line = LogLine(LogLevel.WARN, "it's", 0.0)
    assert call_response(Outcome(True, 1, log_lines=[line])) == CallSuccess(1, ["[WARN] 'it\\'s'"])
    assert call_response(Outcome(False, error_message="e")) == CallFailed("e", [], ABSENT)
    thrown = Outcome(False, error_message="e", error_data=[], has_error_data=True)
    assert call_response(thrown) == CallFailed("e", [], [])


def test_a_call_body_names_its_function_and_at_ts_its_timestamp():
    assert read_call({"path": "a:b", "args": [{}]}, None, at_ts=False).args == [{}]
    assert read_call({}, "a:b", at_ts=False).args == {}
    assert read_call({"path": "a:b", "ts": TS_JSON}, None, at_ts=True).ts == TS
    for body, at_ts in (({}, False), ({"path": 5}, False), ({"path": "a:b", "ts": "x"}, True)):
        with pytest.raises(RequestError) as refused:
            read_call(body, None, at_ts)
        assert refused.value.code is ErrorCode.BAD_REQUEST and refused.value.status == 400
