"""Checked by pyright (strict): the types of logging and tracing (`effects.log`,
`annotate_logs`, `with_span`, `Logger`, `Tracer`, `effects.otel`).

Each `assert_type` is verified statically; running the file also executes it.
"""

from __future__ import annotations

from typing import Never, assert_type

import effects
from effects import (
    Effect,
    EffectGen,
    Layer,
    Logger,
    LogLevel,
    NoSuchElementError,
    Span,
    Tag,
    TaggedError,
    Tracer,
    gen,
)
from effects.logger import (
    FunctionLogger,
    LoggerService,
    MinimumLogLevel,
    TestLogger,
    minimum_log_level,
)
from effects.tracing import RecordingTracer


class Boom(TaggedError):
    pass


class Db(Tag["Db", str]): ...


def _failing() -> Effect[int, Boom, Db]:
    return effects.fail(Boom())


def test_logging_types() -> None:
    assert_type(effects.log("a", 1, {"b": 2}), Effect[None])
    assert_type(effects.log_error("failed", effects.Cause.fail(Boom())), Effect[None])
    assert_type(effects.log_with_level(LogLevel.DEBUG, "d"), Effect[None])
    failing = _failing()
    assert_type(failing.pipe(effects.annotate_logs("user", 1)), Effect[int, Boom, Db])
    assert_type(failing.pipe(effects.annotate_logs({"user": 1})), Effect[int, Boom, Db])
    assert_type(failing.pipe(effects.with_log_span("db")), Effect[int, Boom, Db])
    assert_type(
        failing.pipe(effects.with_minimum_log_level(LogLevel.WARNING)), Effect[int, Boom, Db]
    )
    assert_type(Logger.replace(Logger.default_logger, TestLogger()), Layer[Never])
    assert_type(Logger.add(Logger.json_logger), Layer[Never])
    assert_type(Logger.json_logger, FunctionLogger[str])
    assert_type(minimum_log_level(LogLevel.ALL), Layer[MinimumLogLevel])
    assert_type(Logger.make(lambda entry: None), FunctionLogger[None])
    logger: LoggerService = Logger.make(lambda entry: entry.text)
    assert logger
    assert LogLevel.ERROR > LogLevel.INFO


def test_tracing_types() -> None:
    failing = _failing()
    assert_type(failing.with_span("op"), Effect[int, Boom, Db])
    assert_type(failing.with_span("op", {"a": 1}), Effect[int, Boom, Db])
    assert_type(
        failing.pipe(effects.with_span("op", attributes={"a": 1}, kind="server")),
        Effect[int, Boom, Db],
    )
    layer = Layer.succeed(Db, "conn")
    assert_type(effects.with_span("build")(layer), Layer[Db])
    assert_type(effects.current_span(), Effect[Span, NoSuchElementError])
    assert_type(effects.annotate_current_span("k", "v"), Effect[None])
    assert_type(effects.annotate_current_span({"k": "v"}), Effect[None])
    assert_type(Tracer.layer(RecordingTracer()), Layer[Tracer])
    effects.with_span("op", kind="sideways")  # pyright: ignore[reportArgumentType]


def test_otel_types() -> None:
    import effects.otel

    assert_type(effects.otel.layer(), Layer[Tracer])


@gen
def _traced_handler() -> EffectGen[str, NoSuchElementError]:
    yield from effects.log("start")
    span = yield from effects.current_span()
    return span.name
