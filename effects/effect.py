"""`Effect[A, E, R]`: an immutable description of work, and the primitive nodes the runtime runs.

An effect needs services `R`, may fail with a typed error `E`, and succeeds with `A`.
Nothing happens until a runtime (`effects.run_sync`, `await effects.run(...)`) runs it,
and running the same effect twice runs it twice.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Generator, Mapping
from typing import TYPE_CHECKING, Any, Generic, Never, ParamSpec, TypeVar, cast, overload

from returns.result import Failure as ResultFailure
from returns.result import Result
from returns.result import Success as ResultSuccess
from typing_extensions import TypeVar as DefaultTypeVar

from effects.cause import Cause, Die, Fail, Sequential
from effects.errors import TaggedError, UnknownException
from effects.exit import Exit, Failure, Success

if TYPE_CHECKING:
    from effects.context import Tag
    from effects.layer import Layer
    from effects.runtime import FiberRuntime
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
P = ParamSpec("P")

# Operation codes. The runtime dispatches on these; keep them small ints.
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
OP_PROVIDE = 10
OP_WITH_FIBER = 11
OP_ASYNC = 12
OP_SET_INTERRUPTIBLE = 13
OP_YIELD = 14
# frame-only codes
OP_RESTORE_CONTEXT = 20
OP_RESTORE_INTERRUPTIBLE = 21

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

    def zip(self, other: Effect[B, E2, R2]) -> Effect[tuple[A, B], E | E2, R | R2]:
        """Run both in order; succeed with both values."""
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
        return self.fold_cause(lambda c: _on_fail(c, lambda e: f(e).then(fail_cause(c))), succeed)

    def catch_all(self, handler: Callable[[E], Effect[B, E2, R2]]) -> Effect[A | B, E2, R | R2]:
        """Recover from any typed failure (defects and interruption pass through)."""
        return _catch(self, None, handler)

    def catch_all_cause(
        self, handler: Callable[[Cause[E]], Effect[B, E2, R2]]
    ) -> Effect[A | B, E2, R | R2]:
        """Recover from any cause, defects included."""
        return self.fold_cause(handler, succeed)

    def catch_tag(
        self, tag: type[E1], handler: Callable[[E1], Effect[B, E2, R2]]
    ) -> Effect[A | B, E | E2, R | R2]:
        """Recover from typed failures of class `tag`.

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
        return uninterruptible_mask(
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
        return with_fiber(lambda fiber: _provide_dict(self, {**fiber.context, tag: service}))

    def provide(self, layer: Layer[Any, E2, Any]) -> Effect[A, E | E2, Any]:
        """Build `layer` (once, memoized) and run with the services it provides."""
        return layer.provide_to(self)

    # --- time and repetition ----------------------------------------------------------------

    def retry(self, schedule: Schedule) -> Effect[A, E, R]:
        """On a typed failure, try again as `schedule` says; then fail with the last error."""
        from effects.schedule import retry

        return retry(self, schedule)

    def repeat(self, schedule: Schedule) -> Effect[A, E, R]:
        """After a success, run again as `schedule` says; succeed with the last value."""
        from effects.schedule import repeat

        return repeat(self, schedule)

    def timeout(self, seconds: float) -> Effect[A, E | TimeoutErrorType, R]:
        """Fail with `TimeoutError(seconds)` unless done within `seconds` (the work is interrupted)."""
        from effects.concurrency import timeout

        return timeout(self, seconds)

    def delay(self, seconds: float) -> Effect[A, E, R]:
        """Sleep `seconds`, then run."""
        from effects.clock import sleep

        return sleep(seconds).then(self)

    def forever(self) -> Effect[Never, E, R]:
        """Run again and again until it fails."""
        loop: Effect[Never, E, R]

        def again(_: object) -> Effect[Never, E, R]:
            return loop

        loop = self.flat_map(again)
        return loop


from effects.errors import TimeoutError as TimeoutErrorType  # noqa: E402

# --- nodes ------------------------------------------------------------------------------------


class Succeed(Effect[A, Never, Never]):
    __slots__ = ("value",)
    _op = OP_SUCCEED
    value: Any

    def __repr__(self) -> str:
        return f"succeed({self.value!r})"


class FailNode(Effect[Never, E, Never]):
    __slots__ = ("cause",)
    _op = OP_FAIL
    cause: Cause[Any]

    def __repr__(self) -> str:
        return f"fail_cause({self.cause!r})"


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


class Gen(Effect[A, E, R]):
    __slots__ = ("args", "fn", "kwargs")
    _op = OP_GEN
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def __repr__(self) -> str:
        return f"<effect {getattr(self.fn, '__qualname__', self.fn)!s}>"


class Sync(Effect[A, Never, Never]):
    __slots__ = ("thunk",)
    _op = OP_SYNC
    thunk: Callable[[], Any]


class Suspend(Effect[A, E, R]):
    __slots__ = ("thunk",)
    _op = OP_SUSPEND
    thunk: Callable[[], Effect[Any, Any, Any]]


class Provide(Effect[A, E, R]):
    __slots__ = ("context", "first")
    _op = OP_PROVIDE
    first: Effect[Any, Any, Any]
    context: dict[Any, Any]


class WithFiber(Effect[A, E, R]):
    __slots__ = ("f",)
    _op = OP_WITH_FIBER
    f: Callable[[FiberRuntime], Effect[Any, Any, Any]]


Resume = Callable[[Effect[Any, Any, Any]], None]
Canceler = Callable[[], "Effect[Any, Never, Any] | None"]


class Async(Effect[A, E, R]):
    """Suspends the fiber until `register(resume)` calls `resume(effect)`.

    `register` may return a canceler, called on interruption; it may return an effect
    that the interrupted fiber runs (e.g. to wait until the work has really stopped).
    `needs_loop` says that `register` uses the running asyncio loop.
    """

    __slots__ = ("needs_loop", "register")
    _op = OP_ASYNC
    register: Callable[[Resume], Canceler | None]
    needs_loop: bool


class SetInterruptible(Effect[A, E, R]):
    __slots__ = ("first", "flag")
    _op = OP_SET_INTERRUPTIBLE
    first: Effect[Any, Any, Any]
    flag: bool


class YieldNow(Effect[None, Never, Never]):
    __slots__ = ()
    _op = OP_YIELD


class RestoreContext:
    """Stack frame: put back the context that was in force before a `Provide`."""

    __slots__ = ("context",)
    _op = OP_RESTORE_CONTEXT

    def __init__(self, context: dict[Any, Any]) -> None:
        self.context = context


class RestoreInterruptible:
    """Stack frame: put back the interruptibility in force before a region."""

    __slots__ = ("flag",)
    _op = OP_RESTORE_INTERRUPTIBLE

    def __init__(self, flag: bool) -> None:
        self.flag = flag


# --- constructors ------------------------------------------------------------------------------


def succeed(value: A2) -> Effect[A2]:
    """An effect that succeeds with `value`."""
    node = _new(Succeed)
    node.value = value
    return node


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


def sync(thunk: Callable[[], A2]) -> Effect[A2]:
    """Run `thunk()` when the effect runs. An exception it raises is a defect
    (a `TaggedError` it raises is a typed failure)."""
    node = _new(Sync)
    node.thunk = thunk
    return node


def suspend(thunk: Callable[[], Effect[A2, E2, R2]]) -> Effect[A2, E2, R2]:
    """Build the effect lazily, each time it runs."""
    node = _new(Suspend)
    node.thunk = thunk
    return node


def attempt(
    thunk: Callable[[], A2], on_error: Callable[[Exception], E2] | None = None
) -> Effect[A2, E2]:
    """Run `thunk()`; an exception becomes the typed failure `on_error(exc)`
    (or `UnknownException(exc)` without a mapper)."""

    def run() -> Effect[A2, E2]:
        try:
            return succeed(thunk())
        except Exception as exc:
            return fail(on_error(exc) if on_error else cast(E2, UnknownException(error=exc)))

    return suspend(run)


def promise(make: Callable[[], Awaitable[A2]]) -> Effect[A2]:
    """Await `make()` on the event loop; an exception is a defect."""
    return _await(make, None, defect=True)


def try_promise(
    make: Callable[[], Awaitable[A2]], on_error: Callable[[Exception], E2] | None = None
) -> Effect[A2, E2]:
    """Await `make()`; an exception becomes the typed failure `on_error(exc)`
    (or `UnknownException(exc)`)."""
    return _await(make, on_error, defect=False)


def async_(
    register: Callable[[Resume], Canceler | None], needs_loop: bool = False
) -> Effect[Any, Any, Any]:
    """Low-level: suspend until `register`'s `resume(effect)` is called (see `Async`)."""
    node = _new(Async)
    node.register = register
    node.needs_loop = needs_loop
    return node


def never() -> Effect[Never]:
    """An effect that never ends (until interrupted)."""
    return async_(lambda resume: None)


def yield_now() -> Effect[None]:
    """Let other fibers run before continuing."""
    return _YIELD


def interrupt() -> Effect[Never]:
    """Interrupt the current fiber."""
    return with_fiber(lambda fiber: fail_cause(Cause.interrupt(fiber.id)))


def with_fiber(f: Callable[[FiberRuntime], Effect[A2, E2, R2]]) -> Effect[A2, E2, R2]:
    """Low-level: build an effect from the running fiber."""
    node = _new(WithFiber)
    node.f = f
    return node


def uninterruptible(effect: Effect[A2, E2, R2]) -> Effect[A2, E2, R2]:
    """Run `effect` so that interruption waits until it is done."""
    return _set_interruptible(effect, False)


def interruptible(effect: Effect[A2, E2, R2]) -> Effect[A2, E2, R2]:
    """Run `effect` interruptibly (the default)."""
    return _set_interruptible(effect, True)


def uninterruptible_mask(
    f: Callable[[Callable[[Effect[Any, Any, Any]], Effect[Any, Any, Any]]], Effect[A2, E2, R2]],
) -> Effect[A2, E2, R2]:
    """Run `f(restore)` uninterruptibly; `restore(eff)` runs `eff` with the outer interruptibility."""

    def body(fiber: FiberRuntime) -> Effect[A2, E2, R2]:
        outer = fiber.interruptible
        return _set_interruptible(f(lambda eff: _set_interruptible(eff, outer)), False)

    return with_fiber(body)


def gen(f: Callable[P, Generator[Effect[Any, E2, R2], Any, A2]]) -> Callable[P, Effect[A2, E2, R2]]:
    """Turn a generator function into a function returning an effect.

    Inside, `yield from eff` runs `eff` and gives its value, `yield from SomeTag` gives
    the service, and `yield from SomeError(...)` fails. A failure of a yielded effect is
    raised at the `yield from`, so `try`/`except`/`finally` work as usual.
    """

    @functools.wraps(f)
    def make(*args: P.args, **kwargs: P.kwargs) -> Effect[A2, E2, R2]:
        node = _new(Gen)
        node.fn = f
        node.args = args
        node.kwargs = kwargs
        return node

    return make


# --- pipeable forms that narrow types ----------------------------------------------------------


class catch_tag(Generic[E1, A2, E2, R2]):
    """`eff.pipe(catch_tag(NotFound, handler))`: like the method, but removes `NotFound` from `E`."""

    __slots__ = ("handler", "tag")

    def __init__(self, tag: type[E1], handler: Callable[[E1], Effect[A2, E2, R2]]) -> None:
        self.tag = tag
        self.handler = handler

    @overload
    def __call__(self, effect: Effect[B, E1, R]) -> Effect[A2 | B, E2, R | R2]: ...
    @overload
    def __call__(self, effect: Effect[B, E | E1, R]) -> Effect[A2 | B, E | E2, R | R2]: ...
    def __call__(self, effect: Effect[Any, Any, Any]) -> Effect[Any, Any, Any]:
        return effect.catch_tag(self.tag, self.handler)


class provide_service(Generic[I, S]):
    """`eff.pipe(provide_service(Tag, impl))`: like the method, but removes `Tag` from `R`."""

    __slots__ = ("service", "tag")

    def __init__(self, tag: type[Tag[I, S]], service: S) -> None:
        self.tag = tag
        self.service = service

    @overload
    def __call__(self, effect: Effect[A2, E2, I]) -> Effect[A2, E2, Never]: ...
    @overload
    def __call__(self, effect: Effect[A2, E2, R | I]) -> Effect[A2, E2, R]: ...
    def __call__(self, effect: Effect[Any, Any, Any]) -> Effect[Any, Any, Any]:
        return effect.provide_service(self.tag, self.service)


# --- helpers ------------------------------------------------------------------------------------


_YIELD = _new(YieldNow)


def _set_interruptible(effect: Effect[A2, E2, R2], flag: bool) -> Effect[A2, E2, R2]:
    node = _new(SetInterruptible)
    node.first = effect
    node.flag = flag
    return node


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


def _provide_dict(effect: Effect[A2, E2, Any], context: dict[Any, Any]) -> Effect[A2, E2, Never]:
    node = _new(Provide)
    node.first = effect
    node.context = context
    return node


def _on_fail(
    cause: Cause[Any], handler: Callable[[Any], Effect[Any, Any, Any]]
) -> Effect[Any, Any, Any]:
    if type(cause) is Fail:
        return handler(cause.error)
    return fail_cause(cause)


def _on_tags(
    cause: Cause[Any], handlers: Mapping[Any, Callable[[Any], Effect[Any, Any, Any]]]
) -> Effect[Any, Any, Any]:
    if type(cause) is Fail:
        for tag, handler in handlers.items():
            if isinstance(cause.error, tag):
                return handler(cause.error)
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


def _await(
    make: Callable[[], Awaitable[Any]], on_error: Callable[[Exception], Any] | None, defect: bool
) -> Effect[Any, Any, Any]:
    import asyncio

    def register(resume: Resume) -> Canceler:
        task = asyncio.ensure_future(make())

        def done(t: asyncio.Future[Any]) -> None:
            if t.cancelled():
                resume(die(asyncio.CancelledError()))
                return
            exc = t.exception()
            if exc is None:
                resume(succeed(t.result()))
            elif defect or not isinstance(exc, Exception):
                resume(die(exc))
            elif isinstance(exc, TaggedError):
                resume(fail(exc))
            else:
                resume(fail(on_error(exc) if on_error else UnknownException(error=exc)))

        task.add_done_callback(done)

        def cancel() -> Effect[Any, Never, Any] | None:
            task.remove_done_callback(done)
            if task.done():
                return None
            task.cancel()
            return async_(
                lambda wake: task.add_done_callback(lambda _: wake(_UNIT)), needs_loop=True
            )

        return cancel

    return async_(register, needs_loop=True)


_UNIT = succeed(None)
