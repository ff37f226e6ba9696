"""Tracing: Effect's `Effect.withSpan`, `Tracer`, `currentSpan`, `annotateCurrentSpan`,
`Layer.withSpan`, and the OpenTelemetry tracer (`@effect/opentelemetry`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import pytest

import effects
from effects import (
    Exit,
    Layer,
    ManagedRuntime,
    NoSuchElementError,
    Tag,
    TaggedError,
    TestClock,
    Tracer,
    gen,
)
from effects.tracing import (
    RecordingTracer,
    Span,
    SpanKind,
    SpanLink,
    link_span_current,
    link_spans,
    span_links,
    with_span,
)


class Oops(TaggedError):
    pass


def traced(program: effects.Effect[object, object, object]) -> RecordingTracer:
    tracer = RecordingTracer()
    effects.run_sync_exit(program.provide(Tracer.layer(tracer)).provide(TestClock.layer()))
    return tracer


def test_without_a_tracer_spans_are_not_recorded() -> None:
    """Under the default tracer `withSpan` only runs its effect: there is no current span
    (`currentSpan` fails with NoSuchElementException) and annotating it does nothing."""

    @gen
    def program():
        yield from effects.annotate_current_span("ignored", 1)
        found = yield from effects.current_span().either()
        return found

    result = effects.run_sync(program().with_span("outer"))
    assert isinstance(result.failure(), NoSuchElementError)


def test_spans_nest_across_yield_from_with_times_and_attributes() -> None:
    """A span started in another's effect is its child, in the same trace; each records
    its start and end on the Clock, its attributes (given, and set with
    `annotateCurrentSpan`) and ends "ok"."""

    @gen
    def load():
        yield from TestClock.adjust(2)
        yield from effects.annotate_current_span({"rows": 3})
        span = yield from effects.current_span()
        return span

    @gen
    def program():
        yield from TestClock.adjust(1)
        inner = yield from load().pipe(effects.with_span("load", attributes={"table": "users"}))
        yield from TestClock.adjust(1)
        return inner

    tracer = traced(program().with_span("request", {"path": "/users"}))
    request, load_span = tracer.spans
    assert (request.name, request.parent, request.attributes) == (
        "request",
        None,
        {"path": "/users"},
    )
    assert load_span.parent is request and load_span.trace_id == request.trace_id
    assert load_span.attributes == {"table": "users", "rows": 3}
    assert (request.start, request.end, load_span.start, load_span.end) == (0, 4, 1, 3)
    assert (request.status, load_span.status) == ("ok", "ok")
    assert isinstance(load_span.exit, Exit.Success)


def test_a_failure_ends_the_span_with_error_and_the_cause_report() -> None:
    """A span whose effect fails ends with status error and the cause's pretty report."""
    tracer = traced(effects.fail(Oops()).with_span("failing"))
    [span] = tracer.spans
    assert span.status == "error"
    assert span.error is not None and "Oops" in span.error


def test_interruption_alone_ends_the_span_ok_marked_interrupted() -> None:
    """As Effect's OpenTelemetry tracer: a span interrupted (and nothing else) is not an
    error; it is marked with the attribute `status.interrupted`."""
    tracer = traced(effects.interrupt().with_span("cancelled"))
    [span] = tracer.spans
    assert (span.status, span.attributes) == ("ok", {"status.interrupted": True})


def test_a_forked_fiber_spans_are_children_of_the_span_it_was_forked_in() -> None:
    """The current span is fiber-local and inherited: what a forked fiber traces nests
    under the span it was forked in, even in a parallel `all`."""

    @gen
    def program():
        fiber = yield from effects.fork(effects.succeed(1).with_span("in fork"))
        yield from fiber.join()
        yield from effects.all(
            [effects.succeed(i).with_span(f"task {i}") for i in range(2)],
            concurrency="unbounded",
        )

    tracer = traced(program().with_span("parent"))
    parent = tracer.named("parent")
    assert [s.name for s in tracer.spans if s.parent is parent] == ["in fork", "task 0", "task 1"]


def test_root_spans_have_no_parent() -> None:
    """`withSpan(name, { root: true })` starts a new trace."""
    tracer = traced(
        effects.succeed(1).pipe(effects.with_span("detached", root=True)).with_span("outer")
    )
    detached = tracer.named("detached")
    assert detached.parent is None and detached.trace_id != tracer.named("outer").trace_id


class Db(Tag["Db", str]): ...


def test_layers_are_built_in_spans() -> None:
    """`Layer.withSpan(name)` builds the layer in a span (what its build traces nests under
    it); a layer provided inside a span is built in that span."""
    with_db_span = effects.with_span("build db")(
        Layer.effect(Db, effects.succeed("conn").with_span("connect"))
    )

    @gen
    def use():
        return (yield from Db)

    tracer = traced(use().provide(with_db_span).with_span("request"))
    request, build, connect = tracer.spans
    assert (build.name, build.parent, connect.parent) == ("build db", request, build)


def test_logs_in_a_span_are_its_events() -> None:
    """As Effect's tracer logger: an entry logged in a span is an event of the span, at
    the entry's time, with its level, fiber and annotations as attributes."""
    program = (
        TestClock.adjust(1)
        .then(effects.log_warning("slow"))
        .pipe(effects.annotate_logs("user", "ada"))
        .with_span("op")
    )
    [span] = traced(program).spans
    [event] = span.events
    assert (event.name, event.time) == ("slow", 1)
    assert event.attributes["effect.logLevel"] == "WARNING"
    assert event.attributes["user"] == "ada"


def test_spans_are_a_tracer_service_to_replace() -> None:
    """Any object with `span(...)` can be the tracer (a Reference with a default)."""
    started: list[str] = []

    class Names:
        def span(
            self,
            name: str,
            parent: Span | None,
            attributes: Mapping[str, object],
            start: float,
            kind: SpanKind,
            links: Sequence[SpanLink],
        ) -> Span:
            started.append(name)
            return Span(name, parent, start, attributes, kind)

    effects.run_sync(effects.succeed(1).with_span("a").provide_service(Tracer, Names()))
    assert started == ["a"]


def test_logs_carry_the_span_they_were_logged_in(caplog: pytest.LogCaptureFixture) -> None:
    """An entry knows its span; the default logger puts its trace and span ids in the
    record's `extra`, to correlate logs with traces."""
    caplog.set_level(logging.INFO, logger="effects")
    tracer = traced(effects.log("inside").with_span("op"))
    [record] = [r for r in caplog.records if r.name == "effects"]
    span = tracer.named("op")
    assert (record.__dict__["effects_trace_id"], record.__dict__["effects_span_id"]) == (
        span.trace_id,
        span.span_id,
    )


def test_a_managed_runtime_can_provide_the_tracer() -> None:
    """A tracer layer given to a `ManagedRuntime` traces every effect it runs."""
    tracer = RecordingTracer()
    with ManagedRuntime(Tracer.layer(tracer)) as runtime:
        runtime.run_sync(effects.succeed(1).with_span("one"))
        runtime.run_sync(effects.succeed(2).with_span("two"))
    assert [s.name for s in tracer.spans] == ["one", "two"]


def test_a_span_is_linked_to_the_spans_given_as_links() -> None:
    """`withSpan(name, { links })`: the span records its links, each to a span with the
    link's attributes; a link is no parent (the span stays in its own trace)."""

    @gen
    def program():
        cause = yield from effects.current_span().with_span("cause")
        link = SpanLink(cause, {"why": "commit"})
        yield from effects.succeed(1).pipe(with_span("effect", root=True, links=[link]))

    tracer = traced(program())
    cause, effect = tracer.named("cause"), tracer.named("effect")
    assert effect.links == [SpanLink(cause, {"why": "commit"})]
    assert effect.parent is None and effect.trace_id != cause.trace_id
    assert cause.links == []


def test_link_spans_links_every_span_of_an_effect() -> None:
    """`Effect.linkSpans(span, attributes)`: every span started inside the effect, nested
    ones too, gets the link, before the links its own `withSpan` gives; spans outside do
    not; `Effect.spanLinks` reads them."""
    tracer = RecordingTracer()
    other = Span("batch", None, 0.0)

    @gen
    def program():
        inside = yield from span_links()
        yield from effects.succeed(1).pipe(with_span("inner", links=[SpanLink(other)]))
        return inside

    linked = program().with_span("outer").pipe(link_spans(other, {"n": 1}))
    whole = linked.then(effects.succeed(2).with_span("after"))
    effects.run_sync(whole.provide(Tracer.layer(tracer)))
    assert tracer.named("outer").links == [SpanLink(other, {"n": 1})]
    assert tracer.named("inner").links == [SpanLink(other, {"n": 1}), SpanLink(other)]
    assert tracer.named("after").links == []
    assert effects.run_sync(program().pipe(link_spans(other))) == (SpanLink(other),)


def test_link_span_current_links_the_current_span() -> None:
    """`Effect.linkSpanCurrent`: a span, or a list of links, added to the current span's
    links; outside any span it does nothing."""
    first, second = Span("a", None, 0.0), Span("b", None, 0.0)

    @gen
    def program():
        yield from link_span_current(first, {"k": "v"})
        yield from link_span_current([SpanLink(second)])

    tracer = traced(program().with_span("op"))
    assert tracer.named("op").links == [SpanLink(first, {"k": "v"}), SpanLink(second)]
    assert effects.run_sync(program()) is None


def test_layer_span_is_the_parent_of_the_effects_it_is_provided_to() -> None:
    """`Layer.span(name)`: a span from the layer's build until its scope closes (with the
    scope's exit, then `onEnd`), the current span of the effect it is provided to: the
    effect's spans are its children, and its own child spans are theirs."""
    ended: list[tuple[str, bool]] = []

    def on_end(span: Span, exit_: Exit[object, object]) -> effects.Effect[None]:
        return effects.sync(lambda: ended.append((span.name, exit_.is_success())))

    @gen
    def handler():
        current = yield from effects.current_span()
        yield from TestClock.adjust(5)
        yield from effects.succeed(1).with_span("inner").with_span("step")
        return current

    layer = Layer.span("app", attributes={"v": 1}, on_end=on_end)
    tracer = traced(handler().provide(layer).with_span("request"))
    request, app, step, inner = tracer.spans
    assert (app.name, app.parent, app.attributes) == ("app", request, {"v": 1})
    assert (step.parent, inner.parent) == (app, step)
    assert (app.start, app.end, app.status) == (0, 5, "ok")
    assert ended == [("app", True)]
    outside = effects.run_sync(effects.current_span().provide(layer).either())
    assert isinstance(outside.failure(), NoSuchElementError)  # no tracer: no span


def test_layer_span_ends_with_the_failure_of_its_effect() -> None:
    """The layer's span ends with how the effect it was provided to ended."""
    tracer = traced(effects.fail(Oops()).provide(Layer.span("app")))
    [app] = tracer.spans
    assert app.status == "error" and app.error is not None and "Oops" in app.error


def test_a_managed_runtime_with_layer_span_runs_every_effect_in_it() -> None:
    """A `ManagedRuntime` built with `Layer.span`: each effect it runs traces under that
    span, which ends when the runtime is disposed."""
    tracer = RecordingTracer()
    with ManagedRuntime(Layer.span("server").provide_merge(Tracer.layer(tracer))) as runtime:
        runtime.run_sync(effects.succeed(1).with_span("one"))
        runtime.run_sync(effects.succeed(2).with_span("two"))
        server = tracer.named("server")
        assert server.status == "running"
    assert [s.parent for s in tracer.spans[1:]] == [server, server]
    assert server.status == "ok"


def test_layer_with_span_lasts_the_layers_scope_and_is_the_parent_of_its_build_only() -> None:
    """`Layer.withSpan(name)`: the layer is built in the span, which ends when the layer's
    scope closes (then `onEnd`); the effect the layer is provided to is not in it."""
    ended: list[str] = []
    layer = with_span(
        "build db", on_end=lambda span, _: effects.sync(lambda: ended.append(span.name))
    )(Layer.effect(Db, effects.succeed("conn").with_span("connect")))

    @gen
    def use():
        yield from TestClock.adjust(3)
        found = yield from effects.current_span().either()
        return found

    tracer = RecordingTracer()
    program = use().provide(layer).provide(Tracer.layer(tracer)).provide(TestClock.layer())
    outside = effects.run_sync(program)
    build, connect = tracer.spans
    assert connect.parent is build and build.parent is None
    assert (build.start, build.end) == (0, 3)
    assert ended == ["build db"]
    assert isinstance(outside.failure(), NoSuchElementError)
