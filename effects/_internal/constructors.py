"""Effects made from Python code: generator functions, thunks and awaitables; and the
pipeable forms that narrow types.

`Gen`, `Sync` and `Suspend` are run inline by the interpreter (by `_op`), like the nodes of
`effects._internal.core`; each is declared beside its constructor.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, Generic, Never, ParamSpec, TypeVar, cast, overload

from typing_extensions import TypeVar as DefaultTypeVar

from effects._internal.core import (
    OP_GEN,
    OP_SUSPEND,
    OP_SYNC,
    UNIT,
    Effect,
    die,
    fail,
    succeed,
)
from effects._internal.primitives import Canceler, Resume, async_
from effects.errors import TaggedError, UnknownException

if TYPE_CHECKING:
    from effects.context import Tag

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
P = ParamSpec("P")

_new = object.__new__


class Gen(Effect[A, E, R]):
    __slots__ = ("args", "fn", "kwargs")
    _op = OP_GEN
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]

    def __repr__(self) -> str:
        return f"<effect {getattr(self.fn, '__qualname__', self.fn)!s}>"


def gen(f: Callable[P, Generator[Effect[Any, E2, R2], Any, A2]]) -> Callable[P, Effect[A2, E2, R2]]:
    """Turn a generator function into a function returning an effect.

    Inside, `yield from eff` runs `eff` and gives its value, `yield from SomeTag` gives
    the service, and `yield from SomeError(...)` fails. A failure of a yielded effect is
    raised at the `yield from`, so `try`/`except`/`finally` work as usual. Interrupting
    the fiber raises `GeneratorExit` there (as `close()` would), and a `finally` block may
    still `yield from` effects: they run, uninterruptibly, before the fiber ends.
    """

    @functools.wraps(f)
    def make(*args: P.args, **kwargs: P.kwargs) -> Effect[A2, E2, R2]:
        node = _new(Gen)
        node.fn = f
        node.args = args
        node.kwargs = kwargs
        return node

    return make


class Sync(Effect[A, Never, Never]):
    __slots__ = ("thunk",)
    _op = OP_SYNC
    thunk: Callable[[], Any]


def sync(thunk: Callable[[], A2]) -> Effect[A2]:
    """Run `thunk()` when the effect runs. An exception it raises is a defect
    (a `TaggedError` it raises is a typed failure)."""
    node = _new(Sync)
    node.thunk = thunk
    return node


class Suspend(Effect[A, E, R]):
    __slots__ = ("thunk",)
    _op = OP_SUSPEND
    thunk: Callable[[], Effect[Any, Any, Any]]


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


def _await(
    make: Callable[[], Awaitable[Any]], on_error: Callable[[Exception], Any] | None, defect: bool
) -> Effect[Any, Any, Any]:
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
                lambda wake: task.add_done_callback(lambda _: wake(UNIT)), needs_loop=True
            )

        return cancel

    return async_(register, needs_loop=True)


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
