"""Tracing (Effect's `Effect.withSpan`, `Tracer`, `currentSpan`, `annotateCurrentSpan`).

`with_span(name)` runs an effect in a new span of the `Tracer` in force. The span is the
child of the fiber's current span, which a forked fiber inherits (a FiberRef), so spans
nest across `yield from`, forks and layer builds. `Layer.span(name)` (`layer_span`) is a
span over a layer's scope that the effects it is provided to run in (a `ParentSpan`
service), and `with_span(name)(layer)` builds a layer in a span over its scope. It records its start and end (`Clock`
time), attributes, events (each entry logged in it) and how it ended: "ok", or "error"
with the cause's report.

The default tracer records nothing, and `with_span` under it costs one fiber read:
provide a `RecordingTracer` (tests), or `effects.otel.layer(...)` (OpenTelemetry).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, overload

from effects._internal.core import Effect, succeed
from effects._internal.primitives import uninterruptible, with_fiber
from effects.clock import Clock, ClockService
from effects.context import Reference, Tag
from effects.effect import fail, sync
from effects.errors import NoSuchElementError
from effects.exit import Exit, Failure
from effects.fiber_ref import FiberRef
from effects.layer import Layer, Memo, Services
from effects.scope import ScopeService

if TYPE_CHECKING:
    from effects._internal.fiber import FiberRuntime

A = TypeVar("A")
E = TypeVar("E")
R = TypeVar("R")
RO = TypeVar("RO")

SpanKind = Literal["internal", "server", "client", "producer", "consumer"]
SpanStatus = Literal["running", "ok", "error"]


@dataclass(frozen=True, slots=True)
class SpanEvent:
    """Something that happened in a span, at `time` (Effect's `span.event`)."""

    name: str
    time: float
    attributes: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class SpanLink:
    """A link from a span to `span`, one it does not descend from but relates to (what
    caused it, a batch it handles), with the link's own `attributes` (Effect's `SpanLink`)."""

    span: Span
    attributes: Mapping[str, object] = field(default_factory=dict[str, object])


class Span:
    """A span (Effect's `Span`): its name, parent, ids, kind, start and end times, its
    attributes, events and links, and its status once ended ("ok", or "error" with `error`, the
    cause's report; an interruption alone ends it "ok" with the attribute
    `status.interrupted`, as Effect's OpenTelemetry tracer does). A tracer may subclass it
    to forward what happens to the span elsewhere."""

    __slots__ = (
        "attributes",
        "end",
        "error",
        "events",
        "exit",
        "kind",
        "links",
        "name",
        "parent",
        "span_id",
        "start",
        "status",
        "trace_id",
    )

    def __init__(
        self,
        name: str,
        parent: Span | None,
        start: float,
        attributes: Mapping[str, object] | None = None,
        kind: SpanKind = "internal",
        trace_id: str | None = None,
        span_id: str | None = None,
        links: Sequence[SpanLink] = (),
    ) -> None:
        self.name = name
        self.parent = parent
        self.start = start
        self.kind: SpanKind = kind
        self.attributes: dict[str, object] = dict(attributes or {})
        self.events: list[SpanEvent] = []
        self.links: list[SpanLink] = list(links)
        self.trace_id = trace_id or (
            parent.trace_id if parent else f"{random.getrandbits(128):032x}"
        )
        self.span_id = span_id or f"{random.getrandbits(64):016x}"
        self.end: float | None = None
        self.status: SpanStatus = "running"
        self.error: str | None = None
        self.exit: Exit[Any, Any] | None = None

    def set_attribute(self, key: str, value: object) -> None:
        """Set one attribute (Effect's `span.attribute`)."""
        self.attributes[key] = value

    def add_event(self, name: str, time: float, attributes: Mapping[str, object]) -> None:
        """Record an event at `time` (Effect's `span.event`)."""
        self.events.append(SpanEvent(name, time, attributes))

    def add_links(self, links: Sequence[SpanLink]) -> None:
        """Link the span to more spans (Effect's `span.addLinks`)."""
        self.links.extend(links)

    def finish(self, end: float, exit_: Exit[Any, Any]) -> None:
        """End the span at `end` with how its effect ended (Effect's `span.end`)."""
        self.end = end
        self.exit = exit_
        if isinstance(exit_, Failure) and not exit_.cause.is_interrupted_only():
            self.status = "error"
            self.error = exit_.cause.pretty()
        else:
            self.status = "ok"
            if isinstance(exit_, Failure):
                self.set_attribute("status.interrupted", True)

    def __repr__(self) -> str:
        return f"<Span {self.name!r} {self.status}>"


class TracerService(Protocol):
    """What a tracer offers: `span(...)` starts a span (Effect's `Tracer.span`); the
    runtime calls the span's `finish` when its effect ends."""

    def span(
        self,
        name: str,
        parent: Span | None,
        attributes: Mapping[str, object],
        start: float,
        kind: SpanKind,
        links: Sequence[SpanLink],
    ) -> Span: ...


class NoopTracer:
    """The default tracer: `with_span` under it starts no span at all."""

    __slots__ = ()

    def span(
        self,
        name: str,
        parent: Span | None,
        attributes: Mapping[str, object],
        start: float,
        kind: SpanKind,
        links: Sequence[SpanLink],
    ) -> Span:
        return Span(name, parent, start, attributes, kind, links=links)


_NOOP = NoopTracer()


class RecordingTracer:
    """A tracer keeping every span it started, in order (`spans`), for tests or to look
    at a program's spans (Effect's native tracer keeps them as this one does)."""

    __slots__ = ("spans",)

    def __init__(self) -> None:
        self.spans: list[Span] = []

    def span(
        self,
        name: str,
        parent: Span | None,
        attributes: Mapping[str, object],
        start: float,
        kind: SpanKind,
        links: Sequence[SpanLink],
    ) -> Span:
        span = Span(name, parent, start, attributes, kind, links=links)
        self.spans.append(span)
        return span

    def named(self, name: str) -> Span:
        """The first span started with `name`."""
        return next(span for span in self.spans if span.name == name)


class Tracer(Reference["Tracer", TracerService], default=_NOOP):
    """The tracer service key (Effect's `Tracer`); by default spans are not recorded."""

    @staticmethod
    def layer(tracer: TracerService) -> Layer[Tracer]:
        """A layer making `tracer` the tracer (Effect's `Layer.setTracer`)."""
        return Layer.succeed(Tracer, tracer)


CURRENT_SPAN: FiberRef[Span | None] = FiberRef(None)
"""The span the fiber runs in, the parent of the next one it starts."""

CURRENT_SPAN_LINKS: FiberRef[tuple[SpanLink, ...]] = FiberRef(())
"""The links every span the fiber starts gets (see `link_spans`)."""


@dataclass(frozen=True, slots=True)
class ProvidedSpan:
    """What `Layer.span` provides: its `span`, and the fiber's own span (`CURRENT_SPAN`)
    where the layer was built, `under`."""

    span: Span
    under: Span | None


class ParentSpan(Tag["ParentSpan", ProvidedSpan]):
    """The span a layer (`Layer.span`) gives the effects it is provided to as their current
    span (Effect's `Tracer.ParentSpan`)."""


def span_of(fiber: FiberRuntime[Any, Any]) -> Span | None:
    """Low-level: the span `fiber` runs in: the innermost of its own (`with_span`) and the
    one a layer gave it (`ParentSpan`): that one unless the fiber started a span of its
    own since it was given."""
    refs = fiber.fiber_refs
    own = None if refs is None else refs.get(CURRENT_SPAN)
    given: ProvidedSpan | None = fiber.context.get(ParentSpan, None)
    if given is not None and (own is None or own is given.under):
        return given.span
    return own


SpanEnd = Callable[[Span, Exit[Any, Any]], Effect[None]]
"""Run as a scoped span ends, with the span and the scope's exit (Effect's `onEnd`)."""


class with_span:
    """Run an effect, or build a layer, in a new span named `name` (Effect's
    `Effect.withSpan` / `Layer.withSpan`): `eff.pipe(with_span("load", attributes={...}))`,
    `with_span("db")(layer)`, or the method `eff.with_span("load")`. The span is a child
    of the current one, or of `parent` if given, or of none if `root`; it is linked to
    `links` (after those `link_spans` gives every span of the effect). A layer is built in
    its span, which lasts as long as the layer's scope: it ends, with the scope's exit, when
    the effect the layer is provided to ends (then `on_end`, a layer's only, runs)."""

    __slots__ = ("attributes", "kind", "links", "name", "on_end", "parent", "root")

    def __init__(
        self,
        name: str,
        *,
        attributes: Mapping[str, object] | None = None,
        kind: SpanKind = "internal",
        parent: Span | None = None,
        root: bool = False,
        links: Sequence[SpanLink] = (),
        on_end: SpanEnd | None = None,
    ) -> None:
        self.name = name
        self.parent = parent
        self.attributes: Mapping[str, object] = attributes or {}
        self.kind: SpanKind = kind
        self.root = root
        self.links = tuple(links)
        self.on_end = on_end

    @overload
    def __call__(self, target: Effect[A, E, R]) -> Effect[A, E, R]: ...
    @overload
    def __call__(self, target: Layer[RO, E, R]) -> Layer[RO, E, R]: ...
    def __call__(self, target: Effect[Any, Any, Any] | Layer[Any, Any, Any]) -> Any:
        if isinstance(target, Effect):
            return span(
                target, self.name, self.attributes, self.kind, self.parent, self.root, self.links
            )
        layer = target

        def build(memo: Memo, scope: ScopeService) -> Effect[Services, Any, Any]:
            def in_span(started: Span | None) -> Effect[Services, Any, Any]:
                built = layer.build_in(memo, scope)
                return built if started is None else CURRENT_SPAN.locally(started, built)

            return self.scoped(scope).flat_map(in_span)

        return Layer(build)

    def scoped(self, scope: ScopeService) -> Effect[Span | None]:
        """Low-level: start the span now, to end when `scope` closes (Effect's
        `makeSpanScoped`); None under the default tracer."""

        def go(fiber: FiberRuntime[Any, Any]) -> Effect[Span | None]:
            tracer: TracerService = fiber.context.get(Tracer, _NOOP)
            if tracer is _NOOP:
                return succeed(None)
            begun, clock = _start(
                fiber,
                tracer,
                self.name,
                self.attributes,
                self.kind,
                self.parent,
                self.root,
                self.links,
            )
            on_end = self.on_end

            def end(exit_: Exit[Any, Any]) -> Effect[None]:
                begun.finish(clock.now(), exit_)
                return succeed(None) if on_end is None else on_end(begun, exit_)

            return scope.add_finalizer(end).as_(begun)

        return uninterruptible(with_fiber(go))


def layer_span(
    name: str,
    *,
    attributes: Mapping[str, object] | None = None,
    kind: SpanKind = "internal",
    parent: Span | None = None,
    root: bool = False,
    links: Sequence[SpanLink] = (),
    on_end: SpanEnd | None = None,
) -> Layer[ParentSpan]:
    """A layer whose span is the current span of the effects it is provided to (their
    spans are its children), from when the layer is built until its scope closes, with the
    scope's exit (Effect's `Layer.span`); `Layer.span(...)` is this."""
    options = with_span(
        name,
        attributes=attributes,
        kind=kind,
        parent=parent,
        root=root,
        links=links,
        on_end=on_end,
    )

    def build(memo: Memo, scope: ScopeService) -> Effect[Services, Any, Any]:
        def provided(fiber: FiberRuntime[Any, Any]) -> Effect[Services]:
            refs = fiber.fiber_refs
            under = None if refs is None else refs.get(CURRENT_SPAN)
            return options.scoped(scope).map(
                lambda started: (
                    {} if started is None else {ParentSpan: ProvidedSpan(started, under)}
                )
            )

        return with_fiber(provided)

    return Layer(build)


def _start(
    fiber: FiberRuntime[Any, Any],
    tracer: TracerService,
    name: str,
    attributes: Mapping[str, object],
    kind: SpanKind,
    parent: Span | None,
    root: bool,
    links: Sequence[SpanLink],
) -> tuple[Span, ClockService]:
    """A new span of `tracer` (the fiber's) and the clock that times it."""
    clock: ClockService = fiber.context.get(Clock, Clock.default)
    outer = parent or (None if root else span_of(fiber))
    refs = fiber.fiber_refs
    inherited = () if refs is None else refs.get(CURRENT_SPAN_LINKS, ())
    every = (*inherited, *links) if inherited else links
    return tracer.span(name, outer, attributes, clock.now(), kind, every), clock


def span(
    effect: Effect[A, E, R],
    name: str,
    attributes: Mapping[str, object] | None = None,
    kind: SpanKind = "internal",
    parent: Span | None = None,
    root: bool = False,
    links: Sequence[SpanLink] = (),
) -> Effect[A, E, R]:
    """`effect` in a new span: what `with_span(name, ...)(effect)` is."""

    def go(fiber: FiberRuntime[Any, Any]) -> Effect[A, E, R]:
        tracer: TracerService = fiber.context.get(Tracer, _NOOP)
        if tracer is _NOOP:
            return effect
        begun, clock = _start(fiber, tracer, name, attributes or {}, kind, parent, root, links)
        return CURRENT_SPAN.locally(begun, effect).on_exit(
            lambda exit_: sync(lambda: begun.finish(clock.now(), exit_))
        )

    return with_fiber(go)


@overload
def annotate_current_span(key: str, value: object, /) -> Effect[None]: ...
@overload
def annotate_current_span(attributes: Mapping[str, object], /) -> Effect[None]: ...
def annotate_current_span(key: str | Mapping[str, object], value: object = None, /) -> Effect[None]:
    """Set attributes of the current span, if there is one (Effect's
    `Effect.annotateCurrentSpan`)."""
    added: Mapping[str, object] = {key: value} if isinstance(key, str) else dict(key)

    def go(fiber: FiberRuntime[Any, Any]) -> Effect[None]:
        span = span_of(fiber)
        if span is not None:
            for name, item in added.items():
                span.set_attribute(name, item)
        return succeed(None)

    return with_fiber(go)


class link_spans:
    """Link every span started inside an effect to `span`, with the link's `attributes`
    (Effect's `Effect.linkSpans`): `eff.pipe(link_spans(cause))`."""

    __slots__ = ("link",)

    def __init__(self, span: Span, attributes: Mapping[str, object] | None = None) -> None:
        self.link = SpanLink(span, attributes or {})

    def __call__(self, effect: Effect[A, E, R]) -> Effect[A, E, R]:
        link = self.link
        return CURRENT_SPAN_LINKS.locally_with(lambda links: (*links, link), effect)


@overload
def link_span_current(
    span: Span, attributes: Mapping[str, object] | None = None, /
) -> Effect[None]: ...
@overload
def link_span_current(links: Sequence[SpanLink], /) -> Effect[None]: ...
def link_span_current(
    target: Span | Sequence[SpanLink], attributes: Mapping[str, object] | None = None, /
) -> Effect[None]:
    """Link the current span, if there is one, to a span (with the link's `attributes`) or
    to each of `links` (Effect's `Effect.linkSpanCurrent`)."""
    added = [SpanLink(target, attributes or {})] if isinstance(target, Span) else list(target)

    def go(fiber: FiberRuntime[Any, Any]) -> Effect[None]:
        span = span_of(fiber)
        if span is not None:
            span.add_links(added)
        return succeed(None)

    return with_fiber(go)


def span_links() -> Effect[tuple[SpanLink, ...]]:
    """The links `link_spans` gives the spans the fiber starts (Effect's `Effect.spanLinks`)."""
    return CURRENT_SPAN_LINKS.get


def current_span() -> Effect[Span, NoSuchElementError]:
    """The current span; fails with `NoSuchElementError` outside any (Effect's
    `Effect.currentSpan`)."""

    def go(fiber: FiberRuntime[Any, Any]) -> Effect[Span, NoSuchElementError]:
        span = span_of(fiber)
        if span is None:
            return fail(NoSuchElementError(message="no span: the effect runs outside with_span"))
        return succeed(span)

    return with_fiber(go)


__all__ = [
    "CURRENT_SPAN",
    "CURRENT_SPAN_LINKS",
    "NoopTracer",
    "ParentSpan",
    "ProvidedSpan",
    "RecordingTracer",
    "Span",
    "SpanEnd",
    "SpanEvent",
    "SpanKind",
    "SpanLink",
    "SpanStatus",
    "Tracer",
    "TracerService",
    "annotate_current_span",
    "current_span",
    "layer_span",
    "link_span_current",
    "link_spans",
    "span",
    "span_links",
    "span_of",
    "with_span",
]
