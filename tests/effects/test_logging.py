"""Logging: Effect's `Effect.log`, `LogLevel`, `Logger`, `annotateLogs`, `withLogSpan`,
through Python's `logging` by default (seen with pytest's `caplog`) or a replaced logger."""

from __future__ import annotations

import json
import logging

import pytest

import effects
from effects import Cause, Layer, Logger, LogLevel, TaggedError, TestClock, gen
from effects.logger import LogEntry, TestLogger, minimum_log_level


class Oops(TaggedError):
    pass


def effects_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "effects"]


def test_log_goes_to_stdlib_logging(caplog: pytest.LogCaptureFixture) -> None:
    """`Effect.log(...messages)` logs at INFO with the default logger; here that is the
    "effects" logger of Python's `logging`, the messages joined by spaces."""
    caplog.set_level(logging.INFO, logger="effects")
    effects.run_sync(effects.log("hello", 42))
    [record] = effects_records(caplog)
    assert (record.levelno, record.getMessage()) == (logging.INFO, "hello 42")
    assert isinstance(record.__dict__["effects_fiber_id"], int)


def test_each_level_maps_to_a_logging_level(caplog: pytest.LogCaptureFixture) -> None:
    """`logTrace` .. `logFatal` log at their level, which is the matching `logging` level
    (TRACE is 5 and named so)."""
    caplog.set_level(1, logger="effects")
    program = (
        effects.log_trace("t")
        .then(effects.log_debug("d"))
        .then(effects.log_info("i"))
        .then(effects.log_warning("w"))
        .then(effects.log_error("e"))
        .then(effects.log_fatal("f"))
    )
    effects.run_sync(program.pipe(effects.with_minimum_log_level(LogLevel.ALL)))
    assert [(r.levelname, r.getMessage()) for r in effects_records(caplog)] == [
        ("TRACE", "t"),
        ("DEBUG", "d"),
        ("INFO", "i"),
        ("WARNING", "w"),
        ("ERROR", "e"),
        ("CRITICAL", "f"),
    ]


def test_minimum_level_is_info_by_default_and_set_per_region() -> None:
    """Effect's default minimum level is INFO; `Logger.withMinimumLogLevel` changes it for
    one effect only, and `Logger.minimumLogLevel` is its layer form."""
    logger = TestLogger()

    @gen
    def program():
        yield from effects.log_debug("hidden")
        yield from effects.log_debug("shown").pipe(effects.with_minimum_log_level(LogLevel.DEBUG))
        yield from effects.log_info("info").pipe(effects.with_minimum_log_level(LogLevel.ERROR))
        yield from effects.log_debug("hidden again")
        yield from effects.log_warning("also shown")

    effects.run_sync(program().provide(Logger.replace(Logger.default_logger, logger)))
    assert logger.messages() == ["shown", "also shown"]

    layered = TestLogger()
    both = Layer.merge(
        Logger.replace(Logger.default_logger, layered), minimum_log_level(LogLevel.NONE)
    )
    effects.run_sync(effects.log_fatal("nothing").provide(both))
    assert layered.entries == []


def test_annotations_are_carried_by_the_fiber_and_its_children() -> None:
    """`annotateLogs(key, value)` / `annotateLogs({...})` annotate the entries logged in the
    effect, including by fibers it forks, and end with it."""
    logger = TestLogger()

    @gen
    def inner():
        yield from effects.log("in parent")
        child = yield from effects.fork(effects.log("in child"))
        yield from child.join()

    @gen
    def program():
        yield from inner().pipe(
            effects.annotate_logs("request", "r1"),
            effects.annotate_logs({"user": "ada", "request": "r2"}),
        )
        yield from effects.log("after")

    effects.run_sync(program().provide(Logger.replace(Logger.default_logger, logger)))
    assert [(e.text, dict(e.annotations)) for e in logger.entries] == [
        ("in parent", {"request": "r1", "user": "ada"}),
        ("in child", {"request": "r1", "user": "ada"}),
        ("after", {}),
    ]
    assert logger.entries[0].fiber_id != logger.entries[1].fiber_id


def test_annotations_and_spans_reach_logging_extra(caplog: pytest.LogCaptureFixture) -> None:
    """With the default logger, annotations and log spans are in the record's `extra`:
    `effects_annotations`, `effects_spans` (label -> ms), and each annotation under its own
    key where `logging` allows it."""
    caplog.set_level(logging.INFO, logger="effects")
    program = (
        effects.log("step")
        .pipe(
            effects.annotate_logs({"user": "ada", "name": "clash", "two words": 1}),
            effects.with_log_span("request"),
        )
        .provide(TestClock.layer())
    )
    effects.run_sync(program)
    [record] = effects_records(caplog)
    extra = record.__dict__
    assert extra["effects_annotations"] == {"user": "ada", "name": "clash", "two words": 1}
    assert extra["effects_spans"] == {"request": 0}
    assert extra["user"] == "ada"
    assert record.name == "effects"  # not replaced by the annotation "name"
    assert "two words" not in extra


def test_log_spans_show_elapsed_milliseconds_on_the_clock() -> None:
    """`withLogSpan(label)` shows `label=<ms>` since the span began on every entry in it,
    timed by the `Clock` (so a TestClock controls it); entries carry the Clock's time."""
    logger = TestLogger()

    @gen
    def inner():
        yield from TestClock.adjust(0.25)
        yield from effects.log("in both")

    @gen
    def program():
        yield from TestClock.adjust(1)
        yield from inner().pipe(effects.with_log_span("db"))
        yield from effects.log("outer only")

    effects.run_sync(
        program()
        .pipe(effects.with_log_span("request"))
        .provide(Logger.replace(Logger.default_logger, logger))
        .provide(TestClock.layer())
    )
    first, second = logger.entries
    assert first.span_durations() == {"request": 1250, "db": 250}
    assert second.span_durations() == {"request": 1250}
    assert first.timestamp == 1.25


def test_a_cause_among_the_messages_is_the_entry_cause(caplog: pytest.LogCaptureFixture) -> None:
    """A `Cause` passed to `Effect.log` is logged as the entry's cause, not as a message;
    the default logger gives its exception to `logging` as `exc_info`."""
    caplog.set_level(logging.INFO, logger="effects")
    boom = ValueError("boom")
    effects.run_sync(effects.log_error("failed:", Cause.die(boom)))
    [record] = effects_records(caplog)
    assert record.getMessage() == "failed:"
    assert record.exc_info is not None and record.exc_info[1] is boom

    logger = TestLogger()
    effects.run_sync(
        effects.log_error(Cause.fail(Oops())).provide(Logger.replace(Logger.default_logger, logger))
    )
    [entry] = logger.entries
    assert entry.message == () and entry.cause == Cause.fail(Oops())
    assert "Oops" in entry.text


def test_logger_make_and_replace() -> None:
    """`Logger.make(f)` is a logger calling `f(entry)`; a layer puts it in force for one
    effect."""
    seen: list[LogEntry] = []
    replaced = Logger.replace(Logger.default_logger, Logger.make(seen.append))
    effects.run_sync(effects.log_warning("x", 1).provide(replaced))
    [entry] = seen
    assert (entry.level, entry.message) == (LogLevel.WARNING, ("x", 1))


def test_stdlib_logger_level_filters_before_building_a_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The `logging` logger's own level still applies to what reaches it."""
    caplog.set_level(logging.ERROR, logger="effects")
    effects.run_sync(effects.log_warning("dropped").then(effects.log_error("kept")))
    assert [r.getMessage() for r in effects_records(caplog)] == ["kept"]


def test_several_loggers_at_once(caplog: pytest.LogCaptureFixture) -> None:
    """As Effect's `Logger.add`: an added logger gets every entry besides the default;
    `Logger.remove` takes one out (here the default: `logging` then sees nothing);
    layers provided one after the other each change the loggers the next one starts from."""
    caplog.set_level(logging.INFO, logger="effects")
    added = TestLogger()
    effects.run_sync(effects.log("both").provide(Logger.add(added)))
    assert added.messages() == ["both"]
    assert [r.getMessage() for r in effects_records(caplog)] == ["both"]

    caplog.clear()
    first, second = TestLogger(), TestLogger()
    program = (
        effects.log("only tests")
        .provide(Logger.remove(Logger.default_logger))
        .provide(Logger.add(second))
        .provide(Logger.add(first))
    )
    effects.run_sync(program)
    assert first.messages() == second.messages() == ["only tests"]
    assert effects_records(caplog) == []

    chained = TestLogger()
    layer = Logger.add(chained).provide_merge(Logger.remove(Logger.default_logger))
    effects.run_sync(effects.log("chained").provide(layer))
    assert chained.messages() == ["chained"]
    assert effects_records(caplog) == []


def test_replace_swaps_one_logger_and_adding_twice_is_once() -> None:
    """`Logger.replace(old, new)` puts `new` where `old` was (and adds it when `old` was
    not there); the loggers are a set, as Effect's: adding one already there changes
    nothing."""
    logger = TestLogger()
    twice = (
        effects.log("once")
        .provide(Logger.add(logger))
        .provide(Logger.replace(Logger.default_logger, logger))
    )
    effects.run_sync(twice)
    assert logger.messages() == ["once"]


def test_format_layers_print_instead_of_the_default(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """`Logger.json` / `Logger.logfmt` / `Logger.structured` replace the default logger
    with one printing that format to stdout (Effect's print with `console.log`)."""
    caplog.set_level(logging.INFO, logger="effects")
    program = effects.log("hi").pipe(effects.annotate_logs("user", "ada"))
    effects.run_sync(program.provide(Logger.json))
    line = json.loads(capsys.readouterr().out)
    assert (line["message"], line["logLevel"], line["annotations"]) == (
        "hi",
        "INFO",
        {"user": "ada"},
    )

    effects.run_sync(program.provide(Logger.logfmt))
    out = capsys.readouterr().out
    assert out.startswith("timestamp=") and out.endswith(" message=hi user=ada\n")

    effects.run_sync(program.provide(Logger.structured))
    assert "'message': 'hi'" in capsys.readouterr().out
    assert effects_records(caplog) == []

    effects.run_sync(effects.log_error("bad").provide(Logger.pretty))
    pretty = capsys.readouterr().out
    assert "ERROR (#" in pretty and pretty.rstrip().endswith(": bad")


def test_with_console_error_prints_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    logger = Logger.with_console_error(Logger.logfmt_logger)
    effects.run_sync(effects.log_warning("careful").provide(Logger.add(logger)))
    assert "level=WARN" in capsys.readouterr().err


def test_batched_hands_each_windows_outputs_to_flush_and_the_rest_at_the_end() -> None:
    """Effect's `Logger.batched` test: what the logger returns is kept and flushed every
    window (on the Clock); closing the scope flushes what is left. `Logger.add_scoped`
    puts such a logger in force."""
    batches: list[list[str]] = []

    def flush(batch: list[str]) -> effects.Effect[None]:
        return effects.sync(lambda: batches.append([line.split(" message=")[1] for line in batch]))

    @gen
    def program():
        yield from effects.log("a")
        yield from effects.log("b")
        yield from effects.log("c")
        yield from TestClock.adjust(0.1)
        yield from effects.log("d")
        yield from effects.log("e")
        yield from TestClock.adjust(0.1)
        yield from effects.log("f")

    batched = Logger.add_scoped(Logger.batched(Logger.logfmt_logger, 0.1, flush))
    effects.run_sync(program().provide(batched).provide(TestClock.layer()))
    assert batches == [["a", "b", "c"], ["d", "e"], ["f"]]
