"""OpenTelemetry as the `Tracer` (Effect's `@effect/opentelemetry` `Tracer.layer`).

Needs the `otel` extra (`pip install confect-py[otel]`); importing this module does not
import OpenTelemetry, building the layer does.

    provider = TracerProvider()              # opentelemetry.sdk.trace
    eff.provide(effects.otel.layer(provider))

Each `with_span` becomes an OpenTelemetry span: the child of the effect's current span,
or, outside any, of the OpenTelemetry context current where it starts. Times are the
`Clock`'s; attribute values that OpenTelemetry does not take are given as text; an error
ends a span with status ERROR and the exception recorded. A span's links (`SpanLink`) are
OpenTelemetry links to the linked spans' contexts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from effects.exit import Exit, Failure
from effects.layer import Layer
from effects.tracing import Span, SpanKind, SpanLink, Tracer

if TYPE_CHECKING:
    from opentelemetry.trace import Link, TracerProvider
    from opentelemetry.trace import Span as OtelSpanApi
    from opentelemetry.trace import SpanKind as OtelSpanKind
    from opentelemetry.trace import Tracer as OtelTracerApi
    from opentelemetry.util.types import AttributeValue


def layer(provider: TracerProvider | None = None, name: str = "effects") -> Layer[Tracer]:
    """A layer making OpenTelemetry the tracer: spans go to `provider`'s tracer `name`
    (the global provider where none is given)."""
    from opentelemetry import trace

    source = provider if provider is not None else trace.get_tracer_provider()
    return Tracer.layer(OtelTracer(source.get_tracer(name)))


class OtelTracer:
    """A tracer starting OpenTelemetry spans on `tracer`."""

    __slots__ = ("tracer",)

    def __init__(self, tracer: OtelTracerApi) -> None:
        self.tracer = tracer

    def span(
        self,
        name: str,
        parent: Span | None,
        attributes: Mapping[str, object],
        start: float,
        kind: SpanKind,
        links: Sequence[SpanLink],
    ) -> Span:
        from opentelemetry import trace

        context = trace.set_span_in_context(parent.otel) if isinstance(parent, OtelSpan) else None
        otel = self.tracer.start_span(
            name,
            context=context,
            kind=_kind(kind),
            attributes=_attributes(attributes),
            links=[_link(link) for link in links],
            start_time=_nanos(start),
        )
        ids = otel.get_span_context()
        return OtelSpan(
            name,
            parent,
            start,
            attributes,
            kind,
            f"{ids.trace_id:032x}",
            f"{ids.span_id:016x}",
            otel,
            links,
        )


def external_parent(otel: OtelSpanApi) -> Span:
    """An OpenTelemetry span started elsewhere (e.g. `opentelemetry.trace.get_current_span()`
    in a request handler) as the parent to give `with_span(name, parent=...)`; effects
    does not end it."""
    ids = otel.get_span_context()
    return _ExternalSpan(otel, f"{ids.trace_id:032x}", f"{ids.span_id:016x}")


class OtelSpan(Span):
    """A span that forwards its attributes, events and end to an OpenTelemetry span."""

    __slots__ = ("otel",)

    def __init__(
        self,
        name: str,
        parent: Span | None,
        start: float,
        attributes: Mapping[str, object],
        kind: SpanKind,
        trace_id: str,
        span_id: str,
        otel: OtelSpanApi,
        links: Sequence[SpanLink] = (),
    ) -> None:
        super().__init__(name, parent, start, attributes, kind, trace_id, span_id, links)
        self.otel = otel

    def set_attribute(self, key: str, value: object) -> None:
        super().set_attribute(key, value)
        self.otel.set_attribute(key, _attribute(value))

    def add_event(self, name: str, time: float, attributes: Mapping[str, object]) -> None:
        super().add_event(name, time, attributes)
        self.otel.add_event(name, _attributes(attributes), _nanos(time))

    def add_links(self, links: Sequence[SpanLink]) -> None:
        super().add_links(links)
        for link in links:
            otel = _link(link)
            self.otel.add_link(otel.context, otel.attributes)

    def finish(self, end: float, exit_: Exit[Any, Any]) -> None:
        from opentelemetry.trace import Status, StatusCode

        super().finish(end, exit_)
        if self.status == "error" and isinstance(exit_, Failure):
            cause = exit_.cause
            for error in (*cause.defects(), *cause.failures()):
                if isinstance(error, BaseException):
                    self.otel.record_exception(error, timestamp=_nanos(end))
                    break
            self.otel.set_status(Status(StatusCode.ERROR, self.error))
        else:
            self.otel.set_status(Status(StatusCode.OK))
        self.otel.end(_nanos(end))


class _ExternalSpan(OtelSpan):
    """A parent only: it was started, and is ended, by its owner."""

    __slots__ = ()

    def __init__(self, otel: OtelSpanApi, trace_id: str, span_id: str) -> None:
        super().__init__("(external)", None, 0.0, {}, "internal", trace_id, span_id, otel)

    def finish(self, end: float, exit_: Exit[Any, Any]) -> None:
        raise TypeError("an external span is ended by whoever started it")


def _nanos(seconds: float) -> int:
    return round(seconds * 1_000_000_000)


def _link(link: SpanLink) -> Link:
    """An OpenTelemetry link to `link.span`: its own context if it is an OpenTelemetry span,
    else one made of its ids (a span of another tracer, or one from elsewhere)."""
    from opentelemetry.trace import Link, SpanContext, TraceFlags

    span = link.span
    if isinstance(span, OtelSpan):
        context = span.otel.get_span_context()
    else:
        ids = int(span.trace_id, 16), int(span.span_id, 16)
        context = SpanContext(*ids, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    return Link(context, _attributes(link.attributes))


def _attributes(attributes: Mapping[str, object]) -> dict[str, AttributeValue]:
    return {key: _attribute(value) for key, value in attributes.items()}


def _attribute(value: object) -> AttributeValue:
    if isinstance(value, str | bool | int | float):
        return value
    strings = _strings(value)
    return strings if strings is not None else str(value)


def _strings(value: object) -> list[str] | None:
    if not isinstance(value, list | tuple):
        return None
    items = cast("Sequence[object]", value)
    return [str(item) for item in items] if all(isinstance(i, str) for i in items) else None


def _kind(kind: SpanKind) -> OtelSpanKind:
    from opentelemetry.trace import SpanKind as OtelSpanKind

    return OtelSpanKind[kind.upper()]


__all__ = ["OtelSpan", "OtelTracer", "external_parent", "layer"]
