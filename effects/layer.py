"""Layers: recipes that build services, once per build (memoized), with scoped resources."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, Never, TypeVar, cast, overload

from typing_extensions import TypeVar as DefaultTypeVar

from effects._internal.primitives import add_services
from effects.concurrency import for_each
from effects.config_provider import ConfigProvider, ConfigProviderService
from effects.context import Context, Tag
from effects.effect import Canceler, Effect, Resume, async_, fail_cause, never, succeed, suspend
from effects.exit import Exit, Failure, Success
from effects.scope import Scope, ScopeService, scoped

if TYPE_CHECKING:
    from effects.tracing import ParentSpan, Span, SpanEnd, SpanKind, SpanLink

ROut = DefaultTypeVar("ROut", covariant=True, default=Any)
E = DefaultTypeVar("E", covariant=True, default=Never)
RIn = DefaultTypeVar("RIn", covariant=True, default=Never)
I = TypeVar("I")  # noqa: E741
S = TypeVar("S")
A = TypeVar("A")
E2 = TypeVar("E2")
R2 = TypeVar("R2")
O2 = TypeVar("O2")

Services = dict[Any, Any]
Memo = dict["Layer[Any, Any, Any]", "Services | _Building"]
Builder = Callable[[Memo, ScopeService], Effect[Services, Any, Any]]


class Layer(Generic[ROut, E, RIn]):
    """Builds the services `ROut`, may fail with `E`, needs `RIn`.

    Within one build (one `provide`), each layer object is built once however many
    times it appears, unless made `fresh()`. Resources acquired by scoped layers are
    released, in reverse order, when the effect they were provided to ends.
    """

    __slots__ = ("_build", "_fresh", "_pure")

    def __init__(
        self, build: Builder | None, pure: Services | None = None, fresh: bool = False
    ) -> None:
        self._build = build  # None when `pure` holds the services
        self._pure = pure  # known services, when building needs no effect at all
        self._fresh = fresh

    # --- constructors ---------------------------------------------------------------------------

    @staticmethod
    def succeed(tag: type[Tag[I, S]], service: S) -> Layer[I, Never, Never]:
        """A layer with a ready service."""
        return Layer(None, pure={tag: service})

    @staticmethod
    def succeed_context(context: Context) -> Layer[Any, Never, Never]:
        """A layer with several ready services."""
        return Layer(None, pure=context.as_dict())

    @staticmethod
    def effect(tag: type[Tag[I, S]], effect: Effect[S, E2, R2]) -> Layer[I, E2, R2]:
        """A layer whose service is made by running `effect`."""
        return Layer(lambda memo, scope: effect.map(lambda service: {tag: service}))

    @staticmethod
    def scoped(tag: type[Tag[I, S]], effect: Effect[S, E2, R2]) -> Layer[I, E2, Any]:
        """Like `effect`, but `effect` may acquire resources in the layer's `Scope`
        (e.g. with `acquire_release`); they are released when the layer's user ends."""
        return Layer(
            lambda memo, scope: effect.provide_service(Scope, scope).map(
                lambda service: {tag: service}
            )
        )

    @staticmethod
    def span(
        name: str,
        *,
        attributes: Mapping[str, object] | None = None,
        kind: SpanKind = "internal",
        parent: Span | None = None,
        root: bool = False,
        links: Sequence[SpanLink] = (),
        on_end: SpanEnd | None = None,
    ) -> Layer[ParentSpan]:
        """A span over the layer's scope, the current span of the effects the layer is
        provided to (Effect's `Layer.span`): see `effects.tracing.layer_span`."""
        from effects.tracing import layer_span

        return layer_span(
            name,
            attributes=attributes,
            kind=kind,
            parent=parent,
            root=root,
            links=links,
            on_end=on_end,
        )

    @staticmethod
    def merge(*layers: Layer[Any, Any, Any]) -> Layer[Any, Any, Any]:
        """All the services of `layers`, built concurrently (as Effect's `Layer.merge`): a
        part that waits does not hold up the others, and one that fails interrupts them.
        Where two give the same tag, the later one's service wins."""
        merged: Services | None = {}
        for layer in layers:
            if layer._pure is None:
                merged = None
                break
            merged.update(layer._pure)
        if merged is not None:
            return Layer(None, pure=merged)

        def build(memo: Memo, scope: ScopeService) -> Effect[Services, Any, Any]:
            parts = [layer.build_in(memo, scope) for layer in layers]
            return for_each(parts, _identity, concurrency="unbounded").map(_union)

        return Layer(build)

    @staticmethod
    def set_config_provider(provider: ConfigProviderService) -> Layer[Never, Never, Never]:
        """A layer that makes the effects it is provided to read configs from `provider`
        (Effect's `Layer.setConfigProvider`)."""
        return Layer(None, pure={ConfigProvider: provider})

    # --- combinators ----------------------------------------------------------------------------

    def provide(self, lower: Layer[O2, E2, R2]) -> Layer[ROut, E | E2, R2]:
        """Feed `lower`'s services to this layer's build; the result offers only this layer's."""
        if self._pure is not None:
            return self  # pyright: ignore[reportReturnType]

        def build(memo: Memo, scope: ScopeService) -> Effect[Services, Any, Any]:
            return lower.build_in(memo, scope).flat_map(
                lambda below: add_services(self.build_in(memo, scope), below)
            )

        return Layer(build)

    def provide_merge(self, lower: Layer[O2, E2, R2]) -> Layer[ROut | O2, E | E2, R2]:
        """Like `provide`, but the result offers both layers' services."""

        def build(memo: Memo, scope: ScopeService) -> Effect[Services, Any, Any]:
            return lower.build_in(memo, scope).flat_map(
                lambda below: add_services(self.build_in(memo, scope), below).map(
                    lambda up: {**below, **up}
                )
            )

        return Layer(build)

    def fresh(self) -> Layer[ROut, E, RIn]:
        """The same recipe, built anew each time it appears, with its own memo: every layer
        in it is built again, once, whatever was built outside (Effect's `Layer.fresh`)."""
        if self._pure is not None:
            return self  # ready services: nothing to build again
        return Layer(self._build, fresh=True)

    # --- building -------------------------------------------------------------------------------

    def build_in(self, memo: Memo, scope: ScopeService) -> Effect[Services, E, RIn]:
        """The effect that builds this layer's services, sharing `memo` and `scope`. A layer
        asked for again while it is being built (by a concurrent part of a `merge`) is
        waited for, not built twice."""
        build = self._build
        if build is None:
            return succeed(self._pure or {})
        if self._fresh:
            return suspend(lambda: build({}, scope))
        known = memo.get(self)
        if isinstance(known, dict):
            return succeed(known)

        def start() -> Effect[Services, Any, Any]:
            entry = memo.get(self)
            if isinstance(entry, dict):
                return succeed(entry)
            if isinstance(entry, _Building):
                return entry.wait()
            building = memo[self] = _Building()

            def done(exit_: Exit[Services, Any]) -> Effect[None]:
                if isinstance(exit_, Success):
                    memo[self] = exit_.value
                else:
                    del memo[self]
                building.finish(exit_)
                return succeed(None)

            return build(memo, scope).on_exit(done)

        return suspend(start)

    def build(self) -> Effect[Context, E, RIn | Scope]:
        """Build in the current `Scope`; succeed with the services as a `Context`."""
        return Scope.flat_map(lambda scope: self.build_in({}, scope)).map(Context)

    def launch(self) -> Effect[Never, E, RIn]:
        """Build this layer and keep its services until interrupted, then release its
        resources (Effect's `Layer.launch`): for a layer that is a whole application."""
        return scoped(self.build().then(never()))

    def provide_to(self, effect: Effect[A, E2, R2]) -> Effect[A, E | E2, Any]:
        """Run `effect` with this layer's services (what `effect.provide(layer)` does)."""
        pure = self._pure
        if pure is not None:
            return add_services(effect, pure)

        def run() -> Effect[A, E | E2, Any]:
            scope = ScopeService()
            built = self.build_in({}, scope)
            return built.flat_map(lambda services: add_services(effect, services)).on_exit(
                scope.close
            )

        return suspend(run)


class _Building:
    """A memo entry for a layer being built: those that ask for it meanwhile wait here."""

    __slots__ = ("_waiters",)

    def __init__(self) -> None:
        self._waiters: list[Resume] = []

    def wait(self) -> Effect[Services, Any, Any]:
        def register(resume: Resume) -> Canceler:
            self._waiters.append(resume)
            return lambda: self._waiters.remove(resume) if resume in self._waiters else None

        return async_(register)

    def finish(self, exit_: Exit[Services, Any]) -> None:
        outcome: Effect[Services, Any, Any] = (
            succeed(exit_.value)
            if isinstance(exit_, Success)
            else fail_cause(cast("Failure[Any]", exit_).cause)
        )
        waiters, self._waiters = self._waiters, []
        for resume in waiters:
            resume(outcome)


def _identity(x: A) -> A:
    return x


def _union(parts: list[Services]) -> Services:
    out: Services = {}
    for part in parts:
        out.update(part)
    return out


class provide(Generic[ROut, E, RIn]):
    """`eff.pipe(provide(layer))`: like `eff.provide(layer)`, but removes the layer's
    services from `R` where pyright can solve it."""

    __slots__ = ("layer",)

    def __init__(self, layer: Layer[ROut, E, RIn]) -> None:
        self.layer = layer

    @overload
    def __call__(self, effect: Effect[A, E2, ROut]) -> Effect[A, E | E2, RIn]: ...
    @overload
    def __call__(self, effect: Effect[A, E2, R2 | ROut]) -> Effect[A, E | E2, R2 | RIn]: ...
    def __call__(self, effect: Effect[Any, Any, Any]) -> Effect[Any, Any, Any]:
        return self.layer.provide_to(effect)
