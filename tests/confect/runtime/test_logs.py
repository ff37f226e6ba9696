"""A call's log lines: what `print` and `logging` make of them, Convex's wire form and
limits, and that each call collects its own lines only."""

import logging
import sys
import threading

from confect.runtime import logs
from confect.runtime.logs import MAX_LOG_LINES, LogLevel, LogLine

app_log = logging.getLogger("tests.app")


def wires(lines: list[LogLine]) -> list[str]:
    return [line.wire() for line in lines]


def test_prints_and_log_records_become_lines_with_convex_levels():
    app_log.setLevel(logging.DEBUG)
    try:
        with logs.collecting() as collector:
            print("hello")
            print("a", 1, end="")  # finished when the call ends
            sys.stderr.write("oops\n")
            app_log.debug("d %d", 1)
            app_log.info("i")
            app_log.warning("w")
            app_log.error("e")
            app_log.critical("c")
    finally:
        app_log.setLevel(logging.NOTSET)
    assert wires(collector.lines) == [
        "[LOG] 'hello'",
        "[ERROR] 'oops'",
        "[DEBUG] 'd 1'",
        "[INFO] 'i'",
        "[WARN] 'w'",
        "[ERROR] 'e'",
        "[ERROR] 'c'",
        "[LOG] 'a 1'",
    ]


def test_outside_a_call_print_goes_to_the_stream_it_always_went_to(capsys):
    with logs.collecting():
        pass
    print("not a call's")
    assert capsys.readouterr().out == "not a call's\n"


def test_a_line_is_quoted_as_convexs_console_quotes_a_string():
    line = LogLine(LogLevel.INFO, "it's a \\ path\tand\x01", 0.0)
    assert line.wire() == "[INFO] 'it\\'s a \\\\ path\\tand\\x01'"


def test_a_line_past_convexs_length_is_cut_and_says_so():
    line = LogLine.of(LogLevel.LOG, "é" * 20000)  # 40000 bytes of UTF-8
    assert line.truncated and len(line.text.encode()) <= logs.MAX_LOG_LINE_LENGTH
    assert line.wire().endswith("é' (truncated due to length)")
    assert not LogLine.of(LogLevel.LOG, "x" * 9000).truncated


def test_a_call_keeps_convexs_number_of_lines_the_last_saying_the_rest_were_dropped():
    with logs.collecting() as collector:
        for i in range(MAX_LOG_LINES + 50):
            print(i)
    assert len(collector.lines) == MAX_LOG_LINES
    assert collector.lines[-2].text == str(MAX_LOG_LINES - 2)
    assert collector.lines[-1].wire() == (
        "[ERROR] 'Log overflow (maximum 256). Remaining log lines omitted.'"
    )


def test_each_thread_collects_its_own_calls_lines_only():
    both_started = threading.Barrier(2)
    found: dict[str, list[str]] = {}

    def call(name: str) -> None:
        with logs.collecting() as collector:
            print(f"{name} 1")
            both_started.wait()
            app_log.warning("%s 2", name)
            both_started.wait()
            print(f"{name} 3")
        found[name] = [line.text for line in collector.lines]

    threads = [threading.Thread(target=call, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == {"a": ["a 1", "a 2", "a 3"], "b": ["b 1", "b 2", "b 3"]}


def test_an_ended_calls_collector_takes_no_more_lines():
    with logs.collecting() as collector:
        print("during")
    collector.write(LogLevel.LOG, "after\n")
    collector.add(LogLevel.LOG, "after")
    assert [line.text for line in collector.lines] == ["during"]


def test_a_run_again_drops_the_lines_of_the_run_before():
    with logs.collecting() as collector:
        print("before the transaction")
        mark = logs.mark()
        print("first run")
        logs.rewind(mark)
        print("second run")
    assert [line.text for line in collector.lines] == ["before the transaction", "second run"]


def test_print_shows_each_value_as_convexs_console_shows_each_argument():
    """Convex joins `console.log`'s arguments, each formatted by object-inspect (text in
    quotes): `print("a", "b")` is `[LOG] 'a' 'b'`; other values show their `repr`. Another
    `sep` or `end`, or a line begun by a write, is text as written."""
    with logs.collecting() as collector:
        print("a", "b")
        print("it's", 1, None, {"k": "v"})
        print("to", "stderr", file=sys.stderr)
        print("a", "b", sep=",")
        sys.stdout.write("begun ")
        print("then", "printed")
    assert wires(collector.lines) == [
        "[LOG] 'a' 'b'",
        "[LOG] 'it\\'s' 1 None {'k': 'v'}",
        "[ERROR] 'to' 'stderr'",
        "[LOG] 'a,b'",
        "[LOG] 'begun then printed'",
    ]
    assert collector.lines[1].text == "it's 1 None {'k': 'v'}"


def test_a_record_below_its_loggers_level_is_the_calls_line_only():
    """As Convex collects `console.debug`: in a call, `debug` on a logger at INFO is a
    `[DEBUG]` line, and no handler of the process sees it; outside a call nothing is made."""
    seen: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())  # type: ignore[method-assign]
    app_log.addHandler(handler)
    app_log.setLevel(logging.INFO)
    try:
        with logs.collecting() as collector:
            app_log.debug("quiet %s", 1)
            app_log.info("loud")
        app_log.debug("outside")
        off = logging.getLogger("tests.app.off")
        off.disabled = True
        with logs.collecting() as disabled:
            off.debug("not even in a call")
        off.disabled = False
    finally:
        app_log.removeHandler(handler)
        app_log.setLevel(logging.NOTSET)
    assert wires(collector.lines) == ["[DEBUG] 'quiet 1'", "[INFO] 'loud'"]
    assert seen == ["loud"]
    assert disabled.lines == []
