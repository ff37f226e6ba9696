"""Effect's built-in log formats (`stringLogger`, `logfmtLogger`, `structuredLogger`,
`jsonLogger`, `prettyLogger`), checked against the cases of Effect's own
`packages/effect/test/Logger.test.ts` (with a fiber `#1` where Effect's use `FiberId.none`,
and annotations in the order given: Effect's come out in its HashMap's order)."""

from __future__ import annotations

import json

from effects import Cause, Logger, LogLevel
from effects.logger import LogEntry, LogSpan

NOW = 1_700_000_000.123
ISO = "2023-11-14T22:13:20.123Z"
PREFIX = f"timestamp={ISO} level=INFO fiber=#1"


def entry(
    *message: object,
    annotations: dict[str, object] | None = None,
    spans: tuple[LogSpan, ...] = (),
    level: LogLevel = LogLevel.INFO,
    cause: Cause[object] | None = None,
) -> LogEntry:
    return LogEntry(level, message, 1, NOW, annotations or {}, spans, cause)


SPAN = (LogSpan('imma span="', NOW - 0.007),)


def test_string_logger_keys_with_special_chars() -> None:
    annotations = {
        "just_a_key": "just_a_value",
        "I am bad key name": {"coolValue": "cool value"},
        "good_key": "I am a good value",
        "good_bool": True,
        "good_number": 123,
    }
    assert Logger.string_logger.log(entry("My message", annotations=annotations, spans=SPAN)) == (
        f'{PREFIX} message="My message" imma_span__=7ms just_a_key=just_a_value '
        'I_am_bad_key_name="{\n  \\"coolValue\\": \\"cool value\\"\n}" '
        'good_key="I am a good value" good_bool=true good_number=123'
    )


def test_string_logger_with_linebreaks() -> None:
    annotations = {
        "I am also\na bad key name": {"return": "cool\nvalue"},
        "good_key": {"returnWithSpace": "cool\nvalue or not"},
        "good_key2": "I am a good value\nwith line breaks",
        "good_key3": "I_have=a",
    }
    spans = (LogSpan('imma\nspan="', NOW - 0.007),)
    assert Logger.string_logger.log(entry("My\nmessage", annotations=annotations, spans=spans)) == (
        f'{PREFIX} message="My\nmessage" imma_span__=7ms '
        'I_am_also_a_bad_key_name="{\n  \\"return\\": \\"cool\\nvalue\\"\n}" '
        'good_key="{\n  \\"returnWithSpace\\": \\"cool\\nvalue or not\\"\n}" '
        'good_key2="I am a good value\nwith line breaks" good_key3="I_have=a"'
    )


def test_string_logger_multiple_messages() -> None:
    assert (
        Logger.string_logger.log(entry("a", "b", "c")) == f"{PREFIX} message=a message=b message=c"
    )


def test_logfmt_logger_keys_with_special_chars() -> None:
    annotations = {
        "just_a_key": "just_a_value",
        "I am bad key name": {"coolValue": "cool value"},
        "good_key": "I am a good value",
    }
    assert Logger.logfmt_logger.log(entry("My message", annotations=annotations, spans=SPAN)) == (
        f'{PREFIX} message="My message" imma_span__=7ms just_a_key=just_a_value '
        'I_am_bad_key_name="{\\"coolValue\\":\\"cool value\\"}" good_key="I am a good value"'
    )


def test_logfmt_logger_with_linebreaks() -> None:
    annotations = {
        "I am also\na bad key name": {"return": "cool\nvalue"},
        "good_key": {"returnWithSpace": "cool\nvalue or not"},
        "good_bool": True,
        "good_number": 123,
        "good_key2": "I am a good value\nwith line breaks",
        "good_key3": "I_have=a",
    }
    spans = (LogSpan('imma\nspan="', NOW - 0.007),)
    assert Logger.logfmt_logger.log(entry("My\nmessage", annotations=annotations, spans=spans)) == (
        f'{PREFIX} message="My\\nmessage" imma_span__=7ms '
        'I_am_also_a_bad_key_name="{\\"return\\":\\"cool\\\\nvalue\\"}" '
        'good_key="{\\"returnWithSpace\\":\\"cool\\\\nvalue or not\\"}" good_bool=true '
        'good_number=123 good_key2="I am a good value\\nwith line breaks" good_key3="I_have=a"'
    )


def test_logfmt_logger_objects_circular_objects_and_several_messages() -> None:
    assert Logger.logfmt_logger.log(entry({"hello": "world"})) == (
        f'{PREFIX} message="{{\\"hello\\":\\"world\\"}}"'
    )
    circular: dict[str, object] = {"hello": "world"}
    circular["msg"] = circular
    assert Logger.logfmt_logger.log(entry(circular)) == (
        f'{PREFIX} message="{{\\"hello\\":\\"world\\"}}"'
    )
    assert (
        Logger.logfmt_logger.log(entry("a", "b", "c")) == f"{PREFIX} message=a message=b message=c"
    )


def test_logfmt_shows_other_values_as_text_and_the_level_as_effect_names_it() -> None:
    """Values that are not JSON show as `str(value)` (Effect: `String(value)` for a
    symbol); WARNING is `WARN` in Effect's logs; a cause is `cause=<its report>`."""
    line = Logger.logfmt_logger.log(entry(LogLevel.DEBUG, level=LogLevel.WARNING))
    assert line == f"timestamp={ISO} level=WARN fiber=#1 message=10"
    with_cause = Logger.logfmt_logger.log(entry("failed", cause=Cause.fail("nope")))
    assert with_cause.startswith(f'{PREFIX} message=failed cause="')
    assert "nope" in with_cause


def test_json_logger_keys_with_special_chars() -> None:
    annotations = {
        "just_a_key": "just_a_value",
        "I am bad key name": {"coolValue": "cool value"},
        "good_key": "I am a good value",
        "good_bool": True,
        "good_number": 123,
    }
    expected = {
        "message": "My message",
        "logLevel": "INFO",
        "timestamp": ISO,
        "annotations": annotations,
        "spans": {'imma span="': 7},
        "fiberId": "#1",
    }
    line = Logger.json_logger.log(entry("My message", annotations=annotations, spans=SPAN))
    assert line == json.dumps(expected, separators=(",", ":"))


def test_json_logger_objects_circular_objects_and_other_values() -> None:
    def expected(message: object) -> str:
        fields = {
            "message": message,
            "logLevel": "INFO",
            "timestamp": ISO,
            "annotations": {},
            "spans": {},
            "fiberId": "#1",
        }
        return json.dumps(fields, separators=(",", ":"))

    assert Logger.json_logger.log(entry({"hello": "world"})) == expected({"hello": "world"})
    circular: dict[str, object] = {"hello": "world"}
    circular["msg"] = circular
    assert Logger.json_logger.log(entry(circular)) == expected({"hello": "world"})
    assert Logger.json_logger.log(entry(print)) == expected(str(print))
    assert Logger.json_logger.log(entry("a", 1)) == expected(["a", 1])


def test_structured_logger_is_a_dict() -> None:
    assert Logger.structured_logger.log(entry("hi", annotations={"k": 1}, spans=SPAN)) == {
        "message": "hi",
        "logLevel": "INFO",
        "timestamp": ISO,
        "cause": None,
        "annotations": {"k": 1},
        "spans": {'imma span="': 7},
        "fiberId": "#1",
    }


def test_pretty_logger_lines() -> None:
    """Effect's pretty logger (in a terminal): `[time] LEVEL (fiber) spans: first text`,
    then the other values and the annotations indented; colours only when asked."""
    from effects import log_format

    plain = log_format.pretty(
        entry("hello", {"a": 1}, annotations={"user": "ada"}, spans=SPAN), colors=False
    )
    head, *rest = plain.split("\n")
    assert head.endswith(" INFO (#1) imma_span__=7ms: hello")
    assert head.startswith("[") and head[13] == "]"
    assert rest == ["  {'a': 1}", "  user: ada"]
    colored = log_format.pretty(entry("hello"), colors=True)
    assert "\x1b[32mINFO\x1b[0m" in colored and "\x1b[1m\x1b[36mhello\x1b[0m" in colored
