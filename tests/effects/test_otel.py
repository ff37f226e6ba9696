"""The OpenTelemetry tracer (`effects.otel`, Effect's `@effect/opentelemetry` Tracer),
checked with the SDK's in-memory exporter."""

from __future__ import annotations

import subprocess
import sys

import pytest

from effects import Exit, TaggedError, TestClock, gen


class Oops(TaggedError):
    pass


def test_opentelemetry_tracer_exports_spans() -> None:
    """`effects.otel.layer(provider)`: each span is an OpenTelemetry span of `provider`
    with the same parent, kind, attributes, Clock times, events and status."""
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import SpanKind, StatusCode

    import effects.otel

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    @gen
    def handler():
        yield from TestClock.adjust(1)
        yield from effects.log("handling")
        yield from effects.annotate_current_span("rows", 2)
        yield from effects.fail(Oops()).with_span("query", {"sql": "select 1"})

    program = handler().pipe(effects.with_span("request", kind="server"))
    exit_ = effects.run_sync_exit(
        program.provide(effects.otel.layer(provider)).provide(TestClock.layer())
    )
    assert isinstance(exit_, Exit.Failure)
    query, request = exporter.get_finished_spans()
    assert request.kind == SpanKind.SERVER and request.parent is None
    assert query.parent is not None and query.parent.span_id == request.context.span_id
    assert query.context.trace_id == request.context.trace_id
    assert dict(query.attributes or {}) == {"sql": "select 1"}
    assert dict(request.attributes or {}) == {"rows": 2}
    assert (request.start_time, request.end_time) == (0, 1_000_000_000)
    assert query.status.status_code == StatusCode.ERROR
    assert [e.name for e in query.events] == ["exception"]
    assert [(e.name, e.timestamp) for e in request.events] == [
        ("handling", 1_000_000_000),
        ("exception", 1_000_000_000),
    ]
    assert request.status.status_code == StatusCode.ERROR


def test_importing_the_module_does_not_import_opentelemetry() -> None:
    """`effects.otel` imports OpenTelemetry only when a layer is made, so it is importable
    without the `otel` extra."""
    code = "import sys, effects.otel; assert not any(m.startswith('opentelemetry') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_external_opentelemetry_span_can_be_the_parent() -> None:
    """`with_span(name, parent=...)` (Effect's `parent` option) with
    `effects.otel.external_parent(span)` nests the effect's spans under a span started
    outside effects, e.g. by a web framework's instrumentation."""
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import effects.otel

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("web").start_as_current_span("http request") as outer:
        parent = effects.otel.external_parent(outer)
        program = effects.succeed(1).pipe(effects.with_span("handler", parent=parent))
        effects.run_sync(program.provide(effects.otel.layer(provider)))
    handler, request = exporter.get_finished_spans()
    assert handler.parent is not None and handler.parent.span_id == request.context.span_id


def test_span_links_are_opentelemetry_links() -> None:
    """A span's links, given when it starts or added later (`linkSpanCurrent`), are
    OpenTelemetry links to the linked spans' contexts with the links' attributes; a link
    to a span of another tracer carries its ids."""
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    import effects.otel
    from effects.tracing import Span, SpanLink, link_span_current, with_span

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    foreign = Span("elsewhere", None, 0.0)

    @gen
    def program():
        cause = yield from effects.current_span().with_span("cause")
        linked = link_span_current(foreign).pipe(
            with_span("effect", root=True, links=[SpanLink(cause, {"why": "commit"})])
        )
        yield from linked

    effects.run_sync(program().provide(effects.otel.layer(provider)))
    cause, effect = exporter.get_finished_spans()
    first, second = effect.links
    assert first.context.span_id == cause.context.span_id
    assert first.context.trace_id == cause.context.trace_id
    assert dict(first.attributes or {}) == {"why": "commit"}
    assert (f"{second.context.trace_id:032x}", f"{second.context.span_id:016x}") == (
        foreign.trace_id,
        foreign.span_id,
    )
