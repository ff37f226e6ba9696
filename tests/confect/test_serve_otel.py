"""`confect serve --otel` / `confect dev --otel`: each call's span reaches an OTLP/HTTP
collector (one of the test's own, decoding what arrives with OpenTelemetry's protobuf
messages) named by where OpenTelemetry's environment variables say; the spans still queued
are sent as the server stops; without the `otel` extra, a clear message."""

from __future__ import annotations

import http.server
import json
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from confect.cli import cli
from tests.servers import NOTES, confect_serve, copy_app

QUERY = "query notes:list_by_author"


class Collector(http.server.ThreadingHTTPServer):
    """An OTLP/HTTP trace collector on a free port of 127.0.0.1: keeps each export request,
    and sets `arrived` once a span named QUERY is among them."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receive)
        self.requests: list[object] = []
        self.arrived = threading.Event()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Receive(http.server.BaseHTTPRequestHandler):
    server: Collector

    def do_POST(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
            ExportTraceServiceResponse,
        )

        if self.path != "/v1/traces":
            self.send_error(404)
            return
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest.FromString(body)
        self.server.requests.append(request)
        names = {
            span.name
            for resource in request.resource_spans
            for scope in resource.scope_spans
            for span in scope.spans
        }
        reply = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
        if QUERY in names:
            self.server.arrived.set()

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet


@pytest.fixture
def collector() -> Iterator[Collector]:
    pytest.importorskip("opentelemetry.exporter.otlp.proto.http")
    server = Collector()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("command", ["serve", "dev"])
def test_otel_exports_each_calls_span_to_the_collector_the_environment_names(
    command: str, collector: Collector, tmp_path: Path
):
    """The query's span, named by kind and path with its attributes, kind and status,
    arrives from the service OTEL_SERVICE_NAME names. The batch delay is longer than the
    test: the span is sent because the server flushes its exporter as it stops."""
    app = copy_app(NOTES, tmp_path)
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
        "OTEL_SERVICE_NAME": "notes-under-test",
        "OTEL_BSP_SCHEDULE_DELAY": "600000",
    }
    options = ("--otel", "--site-port", "0") if command == "dev" else ("--otel",)
    with confect_serve(app, *options, env=env, command=command) as serving:
        call = {"path": "notes:list_by_author", "args": {"author": "a"}, "format": "json"}
        request = urllib.request.Request(
            f"{serving.url}/api/query",
            json.dumps(call).encode(),
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answered:
            assert json.load(answered)["status"] == "success"
    assert collector.arrived.wait(30), serving.output
    [(resource, span)] = [
        (resource, span)
        for request in collector.requests
        for resource in request.resource_spans  # pyright: ignore[reportAttributeAccessIssue]
        for scope in resource.scope_spans
        for span in scope.spans
        if span.name == QUERY
    ]
    service = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert service["service.name"] == "notes-under-test"
    attributes = {a.key: a.value.string_value for a in span.attributes}
    assert attributes == {"confect.function": "notes:list_by_author", "confect.kind": "query"}
    assert span.kind == span.SPAN_KIND_SERVER
    assert span.status.code == span.status.STATUS_CODE_OK
    assert span.end_time_unix_nano >= span.start_time_unix_nano > 0


def test_otel_without_the_extra_says_which_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """Without OpenTelemetry's exporter importable, `--otel` exits 1 naming the extra,
    before opening anything."""
    # importing it raises ImportError, as when it is not installed
    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.trace_exporter", None)
    app = copy_app(NOTES, tmp_path)
    result = CliRunner().invoke(cli, ["serve", str(app), "--otel"])
    assert result.exit_code == 1
    assert "pip install 'confect-py[otel]'" in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not (app / ".confect").exists()
