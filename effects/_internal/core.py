"""`Effect`, and the nodes of composition its methods build.

Every effect is a small immutable node that the interpreter (`effects._internal.
interpreter`) runs. It runs the nodes here (`Succeed`, `FailNode`, `FlatMap`, `Map`,
`Fold`, `Catch`) and the constructors' `Gen`, `Sync` and `Suspend` inline, by their `_op`
code; the rarer operations are `Primitive`s that evaluate themselves
(`effects._internal.primitives`). Each node is declared beside its constructor.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, Generic, Never, TypeVar, overload

from returns.result import Failure as ResultFailure
from returns.result import Result
from returns.result import Success as ResultSuccess
from typing_extensions import TypeVar as DefaultTypeVar

from effects.cause import Cause, Die, Fail, Parallel, Sequential
from effects.errors import NoSuchElementError, TimeoutException
from effects.exit import Exit, Failure, Success

if TYPE_CHECKING:
    from effects.context import Tag
    from effects.layer import Layer
    from effects.schedule import Schedule

A = DefaultTypeVar("A", covariant=True, default=Any)
E = DefaultTypeVar("E", covariant=True, default=Never)
R = DefaultTypeVar("R", covariant=True, default=Never)
B = TypeVar("B")
A2 = TypeVar("A2")
E2 = TypeVar("E2")
R2 = TypeVar("R2")
E1 = TypeVar("E1", bound=BaseException)
I = TypeVar("I")  # noqa: E741 - a tag's identity type
S = TypeVar("S")
T = TypeVar("T")

# Operation codes: the interpreter dispatches on these; keep them small ints. FLAT_MAP to
# CATCH are the nodes it pushes on the stack before running their `first`.
OP_SUCCEED = 0
OP_FLAT_MAP = 1
OP_MAP = 2
OP_FOLD = 3
OP_CATCH = 4
OP_GEN = 5
OP_FAIL = 6
OP_SERVICE = 7
OP_SYNC = 8
OP_SUSPEND = 9
OP_PRIMITIVE = 10  # a `Primitive`: the interpreter calls its `evaluate`
OP_FRAME = 11  # a `Frame` on the stack: the interpreter calls its `on_success`/`on_failure`

_new = object.__new__


class Effect(Generic[A, E, R]):
    """Base class of every effect. Compose with methods, `@gen` functions or `pipe`."""

    __slots__ = ()
    _op: int

    def __iter__(self) -> Generator[Effect[A, E, R], Any, A]:
        return (yield self)

    # --- sequencing -----------------------------------------------------------------------

    def map(self, f: Callable[[A], B]) -> Effect[B, E, R]:
        """Transform the success value."""
        node = _new(Map)
        node.first = self
        node.f = f
        return node

    def flat_map(self, f: Callable[[A], Effect[B, E2, R2]]) -> Effect[B, E | E2, R | R2]:
        """Run `f(value)` after this effect succeeds."""
        node = _new(FlatMap)
        node.first = self
        node.f = f
        return node

    def tap(self, f: Callable[[A], Effect[Any, E2, R2]]) -> Effect[A, E | E2, R | R2]:
        """Run `f(value)` for its effect, keeping this effect's value."""
        return self.flat_map(lambda a: f(a).as_(a))

    def as_(self, value: B) -> Effect[B, E, R]:
        """Replace the success value."""
        return self.map(lambda _: value)

    def zip(
        self, other: Effect[B, E2, R2], concurrent: bool = False
    ) -> Effect[tuple[A, B], E | E2, R | R2]:
        """Run both in order (at once with `concurrent`); succeed with both values."""
        if concurrent:
            from effects import combinators

            return combinators.zip(self, other, concurrent=True)
        return self.flat_map(lambda a: other.map(lambda b: (a, b)))

    def then(self, other: Effect[B, E2, R2]) -> Effect[B, E | E2, R | R2]:
        """Run `other` after this effect, keeping `other`'s value."""
        return self.flat_map(lambda _: other)

    @overload
    def pipe(self, f1: Callable[[Effect[A, E, R]], T], /) -> T: ...
    @overload
    def pipe(self, f1: Callable[[Effect[A, E, R]], B], f2: Callable[[B], T], /) -> T: ...
    @overload
    def pipe(
        self, f1: Callable[[Effect[A, E, R]], B], f2: Callable[[B], A2], f3: Callable[[A2], T], /
    ) -> T: ...
    @overload
    def pipe(self, *fs: Callable[[Any], Any]) -> Any: ...
    def pipe(self, *fs: Callable[[Any], Any]) -> Any:
        """`eff.pipe(f, g)` is `g(f(eff))` (typed for up to three functions)."""
        result: Any = self
        for f in fs:
            result = f(result)
        return result

    # --- errors ---------------------------------------------------------------------------

    def fold_cause(
        self,
        on_failure: Callable[[Cause[E]], Effect[B, E2, R2]],
        on_success: Callable[[A], Effect[A2, E2, R2]],
    ) -> Effect[B | A2, E2, R | R2]:
        """Continue with `on_failure(cause)` or `on_success(value)`."""
        node = _new(Fold)
        node.first = self
        node.on_failure = on_failure
        node.on_success = on_success
        return node

    def match(
        self, on_failure: Callable[[E], B], on_success: Callable[[A], A2]
    ) -> Effect[B | A2, Never, R]:
        """Turn a typed failure or a success into a value."""
        return self.fold_cause(
            lambda c: _on_fail(c, lambda e: succeed(on_failure(e))),
            lambda a: succeed(on_success(a)),
        )

    def map_error(self, f: Callable[[E], E2]) -> Effect[A, E2, R]:
        """Transform the typed error."""
        return self.fold_cause(lambda c: fail_cause(c.map(f)), succeed)

    def tap_error(self, f: Callable[[E], Effect[Any, E2, R2]]) -> Effect[A, E | E2, R | R2]:
        """Run `f(error)` on a typed failure, then fail with the same cause."""
        return self.fold_cause(
            lambda c: _on_fail(c, lambda e: f(e).then(fail_cause(c)), catch_all=False), succeed
        )

    def catch_all(self, handler: Callable[[E], Effect[B, E2, R2]]) -> Effect[A | B, E2, R | R2]:
        """Recover from a typed failure, the first one if several failed together (a cause
        that also holds a defect fails on, its failures turned into defects; interruption
        passes through)."""
        return _catch(self, None, handler)

    def catch_all_cause(
        self, handler: Callable[[Cause[E]], Effect[B, E2, R2]]
    ) -> Effect[A | B, E2, R | R2]:
        """Recover from any cause, defects included."""
        return self.fold_cause(handler, succeed)

    def catch_tag(
        self, tag: type[E1], handler: Callable[[E1], Effect[B, E2, R2]]
    ) -> Effect[A | B, E | E2, R | R2]:
        """Recover from a typed failure of class `tag` (the first failure, if several
        failed together).

        This method form cannot remove `tag` from `E` (Python's types have no union
        subtraction); `eff.pipe(effects.catch_tag(tag, handler))` does narrow `E`.
        """
        node = _new(Catch)  # _catch inlined: this is on every typed recovery's path
        node.first = self
        node.tags = tag
        node.handler = handler
        return node

    def catch_tags(
        self, handlers: Mapping[type[E1], Callable[[Any], Effect[B, E2, R2]]]
    ) -> Effect[A | B, E | E2, R | R2]:
        """Recover from several error classes, each with its own handler."""
        return self.fold_cause(lambda c: _on_tags(c, handlers), succeed)

    def or_else(self, other: Effect[B, E2, R2]) -> Effect[A | B, E2, R | R2]:
        """On a typed failure, run `other` instead."""
        return self.catch_all(lambda _: other)

    def or_die(self) -> Effect[A, Never, R]:
        """Turn typed failures into defects."""
        return self.catch_all(lambda e: die(e if isinstance(e, BaseException) else Exception(e)))

    def either(self) -> Effect[Result[A, E], Never, R]:
        """Succeed with `returns`' `Success(value)` or `Failure(error)`."""
        return self.fold_cause(
            lambda c: _on_fail(c, lambda e: succeed(ResultFailure(e))),
            lambda a: succeed(ResultSuccess(a)),
        )

    def exit(self) -> Effect[Exit[A, E], Never, R]:
        """Succeed with the `Exit` of this effect, whatever it is."""
        return self.fold_cause(lambda c: succeed(Failure(c)), lambda a: succeed(Success(a)))

    def ignore(self) -> Effect[None, Never, R]:
        """Discard the value and any typed failure."""
        return self.match(lambda _: None, lambda _: None)

    # --- finalization ---------------------------------------------------------------------

    def on_exit(self, f: Callable[[Exit[A, E]], Effect[Any, Never, R2]]) -> Effect[A, E, R | R2]:
        """Run `f(exit)` when this effect ends, uninterruptibly, however it ends."""
        return primitives.uninterruptible_mask(
            lambda restore: restore(self).fold_cause(
                lambda c: _then(f(Failure(c)), fail_cause(c), c),
                lambda a: _then(f(Success(a)), succeed(a), None),
            )
        )

    def ensuring(self, finalizer: Effect[Any, Never, R2]) -> Effect[A, E, R | R2]:
        """Run `finalizer` after this effect, however it ends."""
        return self.on_exit(lambda _: finalizer)

    # --- services -------------------------------------------------------------------------

    def provide_service(self, tag: type[Tag[I, S]], service: S) -> Effect[A, E, R]:
        """Run with `service` for `tag`. (`effects.provide_service` narrows `R`.)"""
        return primitives.add_services(self, {tag: service})

    def provide(self, layer: Layer[Any, E2, Any]) -> Effect[A, E | E2, Any]:
        """Build `layer` (once, memoized) and run with the services it provides."""
        return layer.provide_to(self)

    # --- time and repetition ----------------------------------------------------------------

    def retry(self, schedule: Schedule[Any]) -> Effect[A, E, R]:
        """On a typed failure, try again as `schedule` says; then fail with the last error."""
        from effects.schedule import retry

        return retry(self, schedule)

    def repeat(self, schedule: Schedule[B]) -> Effect[B, E, R]:
        """After a success, run again as `schedule` says; succeed with the schedule's last
        output (Effect's `repeat`: `repeat(Schedule.recurs(n))` gives `n`)."""
        from effects.schedule import repeat

        return repeat(self, schedule)

    def timeout(self, seconds: float) -> Effect[A, E | TimeoutException, R]:
        """Fail with `TimeoutException(seconds)` unless done within `seconds` (the work is interrupted)."""
        from effects.concurrency import timeout

        return timeout(self, seconds)

    def delay(self, seconds: float) -> Effect[A, E, R]:
        """Sleep `seconds`, then run."""
        from effects.clock import sleep

        return sleep(seconds).then(self)

    # --- Effect's combinators as methods (they live in effects.combinators) ----------------

    def zip_with(
        self, other: Effect[B, E2, R2], f: Callable[[A, B], T], concurrent: bool = False
    ) -> Effect[T, E | E2, R | R2]:
        """Run both (at once with `concurrent`); combine their values with `f`."""
        from effects import combinators

        return combinators.zip_with(self, other, f, concurrent)

    def filter_or_fail(
        self, predicate: Callable[[A], bool], or_fail_with: Callable[[A], E2] | None = None
    ) -> Effect[A, E | E2 | NoSuchElementError, R]:
        """Keep a value `predicate` accepts, else fail with `or_fail_with(value)`
        (`NoSuchElementError` without it)."""
        from effects import combinators

        return combinators.filter_or_fail(self, predicate, or_fail_with)

    def when(self, condition: Callable[[], bool]) -> Effect[A | None, E, R]:
        """Run only if `condition()` holds; None if not."""
        from effects import combinators

        return combinators.when(self, condition)

    def unless(self, condition: Callable[[], bool]) -> Effect[A | None, E, R]:
        """Run only if `condition()` does not hold; None if it does."""
        from effects import combinators

        return combinators.unless(self, condition)

    def on_error(
        self, cleanup: Callable[[Cause[E]], Effect[Any, Never, R2]]
    ) -> Effect[A, E, R | R2]:
        """Run `cleanup(cause)` if this fails (interruption included)."""
        from effects import combinators

        return combinators.on_error(self, cleanup)

    def on_interrupt(self, cleanup: Effect[Any, Never, R2]) -> Effect[A, E, R | R2]:
        """Run `cleanup` if this is interrupted."""
        from effects import combinators

        return combinators.on_interrupt(self, cleanup)

    def timeout_fail(self, seconds: float, on_timeout: Callable[[], E2]) -> Effect[A, E | E2, R]:
        """Fail with `on_timeout()` unless done within `seconds`."""
        from effects import combinators

        return combinators.timeout_fail(self, seconds, on_timeout)

    def timeout_to(
        self, seconds: float, on_timeout: Callable[[], B], on_success: Callable[[A], A2]
    ) -> Effect[B | A2, E, R]:
        """`on_success(value)` if done within `seconds`, else `on_timeout()`."""
        from effects import combinators

        return combinators.timeout_to(self, seconds, on_timeout, on_success)

    def retry_or_else(
        self, schedule: Schedule[S], or_else: Callable[[E, S], Effect[B, E2, R2]]
    ) -> Effect[A | B, E2, R | R2]:
        """Retry as `schedule` says; once it stops, `or_else(last error, its last output)`."""
        from effects.schedule import retry_or_else

        return retry_or_else(self, schedule, or_else)

    def cached(self) -> Effect[Effect[A, E, R]]:
        """An effect giving an effect that runs this once and then repeats its outcome."""
        from effects import combinators

        return combinators.cached(self)

    def once(self) -> Effect[Effect[None, E, R]]:
        """An effect giving an effect that runs this at most once."""
        from effects import combinators

        return combinators.once(self)

    def forever(self) -> Effect[Never, E, R]:
        """Run again and again until it fails."""
        loop: Effect[Never, E, R]

        def again(_: object) -> Effect[Never, E, R]:
            return loop

        loop = self.flat_map(again)
        return loop

    # --- tracing ----------------------------------------------------------------------------

    def with_span(
        self, name: str, attributes: Mapping[str, object] | None = None
    ) -> Effect[A, E, R]:
        """Run in a new tracing span named `name` (Effect's `Effect.withSpan`): see
        `effects.tracing.with_span`, which also takes a `kind` and `root`."""
        import effects.tracing  # `from ... import` would cost twice this on each call

        return effects.tracing.span(self, name, attributes)


# --- the nodes of composition -------------------------------------------------------------------
# The interpreter runs these inline (by `_op`); each constructor is beside its node.


class Succeed(Effect[A, Never, Never]):
    __slots__ = ("value",)
    _op = OP_SUCCEED
    value: Any

    def __repr__(self) -> str:
        return f"succeed({self.value!r})"


def succeed(value: A2) -> Effect[A2]:
    """An effect that succeeds with `value`."""
    node = _new(Succeed)
    node.value = value
    return node


class FailNode(Effect[Never, E, Never]):
    __slots__ = ("cause",)
    _op = OP_FAIL
    cause: Cause[Any]

    def __repr__(self) -> str:
        return f"fail_cause({self.cause!r})"


def fail(error: E2) -> Effect[Never, E2]:
    """An effect that fails with the typed error `error`."""
    cause = _new(Fail)  # no __init__ call: fail() is on every typed failure's path
    cause.error = error
    node = _new(FailNode)
    node.cause = cause
    return node


def fail_cause(cause: Cause[E2]) -> Effect[Never, E2]:
    """An effect that fails with `cause`."""
    node = _new(FailNode)
    node.cause = cause
    return node


def die(defect: BaseException) -> Effect[Never]:
    """An effect that fails with a defect (an unexpected error)."""
    return fail_cause(Die(defect))


class FlatMap(Effect[A, E, R]):
    __slots__ = ("f", "first")
    _op = OP_FLAT_MAP
    first: Effect[Any, Any, Any]
    f: Callable[[Any], Effect[Any, Any, Any]]


class Map(Effect[A, E, R]):
    __slots__ = ("f", "first")
    _op = OP_MAP
    first: Effect[Any, Any, Any]
    f: Callable[[Any], Any]


class Fold(Effect[A, E, R]):
    __slots__ = ("first", "on_failure", "on_success")
    _op = OP_FOLD
    first: Effect[Any, Any, Any]
    on_failure: Callable[[Cause[Any]], Effect[Any, Any, Any]]
    on_success: Callable[[Any], Effect[Any, Any, Any]]


class Catch(Effect[A, E, R]):
    """Recovers from a typed failure whose error is an instance of `tags` (any, if None)."""

    __slots__ = ("first", "handler", "tags")
    _op = OP_CATCH
    first: Effect[Any, Any, Any]
    tags: type[BaseException] | tuple[type[BaseException], ...] | None
    handler: Callable[[Any], Effect[Any, Any, Any]]


def _catch(
    effect: Effect[Any, Any, Any],
    tags: type[BaseException] | tuple[type[BaseException], ...] | None,
    handler: Callable[[Any], Effect[Any, Any, Any]],
) -> Any:
    node = _new(Catch)
    node.first = effect
    node.tags = tags
    node.handler = handler
    return node


# --- what the methods' handlers do ----------------------------------------------------------------


def recoverable(cause: Cause[Any], catch_all: bool) -> tuple[Fail[Any] | None, Cause[Any]]:
    """The typed failure a handler recovers from `cause`, if any, and the cause to go on
    failing with otherwise. The first failure anywhere in the cause is recovered (Effect's
    `failureOrCause`), except that recovering from every error (`catch_all`, `either`,
    `match`: Effect's `matchEffect`) gives way to a defect: then the cause fails on with
    its failures turned into defects."""
    if type(cause) is Fail:
        return cause, cause
    if not isinstance(cause, (Sequential, Parallel)):
        return None, cause  # a defect, an interruption or nothing: no failure to recover
    if catch_all and cause.defects():
        return None, cause.elect_failures()
    return cause.first_failure(), cause


def _on_fail(
    cause: Cause[Any], handler: Callable[[Any], Effect[Any, Any, Any]], catch_all: bool = True
) -> Effect[Any, Any, Any]:
    failed, cause = recoverable(cause, catch_all)
    return fail_cause(cause) if failed is None else handler(failed.error)


def _on_tags(
    cause: Cause[Any], handlers: Mapping[Any, Callable[[Any], Effect[Any, Any, Any]]]
) -> Effect[Any, Any, Any]:
    failed, cause = recoverable(cause, False)
    if failed is not None:
        for tag, handler in handlers.items():
            if isinstance(failed.error, tag):
                return handler(failed.error)
    return fail_cause(cause)


def _then(
    finalizer: Effect[Any, Any, Any], result: Effect[Any, Any, Any], cause: Cause[Any] | None
) -> Effect[Any, Any, Any]:
    """Run `finalizer`, then `result`; if the finalizer fails, fail with its cause (after
    `cause`, the one being re-raised, if any)."""
    return finalizer.fold_cause(
        lambda failed: fail_cause(failed if cause is None else Sequential(cause, failed)),
        lambda _: result,
    )


UNIT = succeed(None)

# The primitives subclass Effect, so their module imports this one; the methods above reach
# them through the module object bound here, at call time (it works whichever module is
# imported first).
from effects._internal import primitives  # noqa: E402
