"""`--otel` of dev and serve: every call's span exported over OTLP/HTTP, configured by
OpenTelemetry's standard environment variables (OTEL_EXPORTER_OTLP_ENDPOINT or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_SERVICE_NAME, OTEL_BSP_SCHEDULE_DELAY, ...). It
needs the `otel` extra; the spans still queued are sent when the server stops."""

from __future__ import annotations

from collections.abc import Callable

import attrs
import typer
from rich.markup import escape

from confect.cli._common import console
from effects.otel import OtelTracer
from effects.tracing import TracerService

MISSING_EXTRA = "--otel needs OpenTelemetry's SDK and OTLP exporter: pip install 'confect-py[otel]'"


@attrs.frozen
class OtlpExport:
    """The tracer whose spans are exported, and `shutdown`, which sends those still queued
    and stops exporting."""

    tracer: TracerService
    shutdown: Callable[[], None]


def otlp_export() -> OtlpExport:
    """Spans exported in batches over OTLP/HTTP, where the environment says; exits with a
    message naming the extra to install when that is missing."""
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        console.print(f"[red]error:[/red] {escape(MISSING_EXTRA)}")
        raise typer.Exit(1) from None
    provider = TracerProvider(resource=Resource.create())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return OtlpExport(OtelTracer(provider.get_tracer("confect")), provider.shutdown)
