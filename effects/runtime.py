# The interpreter loop handles nodes and frames of many kinds through one untyped path on
# purpose (speed); pyright's loop inference turns that Any into Unknown, so only the
# Unknown-reporting rules are relaxed here. Everything else stays strict.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""The interpreter: fibers that run effects on an explicit stack, and the `run*` entry points.

A fiber runs its effect in a loop with an explicit stack of continuation frames (effect
nodes, generator objects, restore frames), so deep chains and deep recursion never touch
Python's recursion limit. Leaf effects yielded by generators (`succeed`, service access)
are answered inline without touching the stack. A fiber runs synchronously until it
finishes or meets an asynchronous effect; it is then resumed by a callback through its
`Scheduler`, which uses an asyncio loop when one is attached and a plain queue otherwise.
"""

from __future__ import annotations

import asyncio
import itertools
import types
from collections import deque
from collections.abc import Callable
from typing import Any, Generic, Never, cast

from typing_extensions import TypeVar

from effects.cause import Cause, Die, Fail, Interrupt, Sequential, is_runtime_file
from effects.context import Reference, service_default
from effects.effect import (
    OP_ASYNC,
    OP_CATCH,
    OP_FAIL,
    OP_FLAT_MAP,
    OP_FOLD,
    OP_GEN,
    OP_MAP,
    OP_PROVIDE,
    OP_RESTORE_CONTEXT,
    OP_RESTORE_INTERRUPTIBLE,
    OP_SERVICE,
    OP_SET_INTERRUPTIBLE,
    OP_SUCCEED,
    OP_SUSPEND,
    OP_SYNC,
    OP_WITH_FIBER,
    OP_YIELD,
    Async,
    Canceler,
    Effect,
    FailNode,
    RestoreContext,
    RestoreInterruptible,
    Succeed,
    async_,
    fail_cause,
)
from effects.errors import (
    AsyncInSyncError,
    FailureValue,
    Interrupted,
    MissingServiceError,
    TaggedError,
)
from effects.exit import Exit, Failure, Success

A = TypeVar("A", covariant=True, default=Any)
E = TypeVar("E", covariant=True, default=Never)

_GeneratorType = types.GeneratorType
_new = object.__new__
_MISSING: Any = object()
_fiber_ids = itertools.count(1)


class MaxOpsBeforeYield(Reference["MaxOpsBeforeYield", int], default=2048):
    """How many operations a fiber runs before it lets other fibers run (Effect's
    `MaxOpsBeforeYield`); read each time the fiber starts or resumes. Fewer is fairer, more
    is faster: `eff.provide_service(MaxOpsBeforeYield, 256)`."""


class Scheduler:
    """Runs resumed fibers: on an asyncio loop when attached, else from a local queue."""

    __slots__ = ("deferred", "loop", "pending", "queue")

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop
        self.queue: deque[tuple[FiberRuntime[Any, Any], Effect[Any, Any, Any]]] = deque()
        self.deferred: list[tuple[FiberRuntime[Any, Any], Async[Any, Any, Any]]] = []
        self.pending = 0  # fibers scheduled and not yet run

    def schedule(self, fiber: FiberRuntime[Any, Any], effect: Effect[Any, Any, Any]) -> None:
        self.pending += 1
        if self.loop is not None:
            self.loop.call_soon(self._run_one, fiber, effect)
        else:
            self.queue.append((fiber, effect))

    def _run_one(self, fiber: FiberRuntime[Any, Any], effect: Effect[Any, Any, Any]) -> None:
        self.pending -= 1
        fiber.resume_with(effect)

    def drain(self) -> None:
        """Run queued fibers until none is runnable (no-loop mode)."""
        queue = self.queue
        while queue:
            fiber, effect = queue.popleft()
            self._run_one(fiber, effect)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Move to `loop`: queued fibers and async work waiting for a loop start there."""
        self.loop = loop
        queue, self.queue = self.queue, deque()
        for fiber, effect in queue:
            loop.call_soon(self._run_one, fiber, effect)
        deferred, self.deferred = self.deferred, []
        for fiber, node in deferred:
            fiber.start_async(node)


def _cause_of(exc: BaseException) -> Cause[Any]:
    return Fail(exc) if isinstance(exc, TaggedError) else Die(exc)


def _exception_for(cause: Cause[Any]) -> BaseException:
    if type(cause) is Fail:
        error = cause.error
        return error if isinstance(error, BaseException) else FailureValue(error)
    if type(cause) is Die:
        return cause.defect
    return cause.squash()


def _fail_node(cause: Cause[Any]) -> Any:
    node = _new(FailNode)
    node.cause = cause
    return node


class FiberRuntime(Generic[A, E]):
    """A running effect. Users see it as the `Fiber` returned by `effects.fork`."""

    # Rarely-changed fields live as class defaults, so starting a fiber sets only three.
    interruptible: bool = True
    _scheduler: Scheduler | None = None
    _parent: FiberRuntime[Any, Any] | None = None
    _exit: Exit[Any, Any] | None = None
    _observers: list[Callable[[Exit[Any, Any]], None]] | None = None
    _children: set[FiberRuntime[Any, Any]] | None = None
    _token: object | None = None
    _canceler: Canceler | None = None
    _interrupt_cause: Cause[Any] | None = None
    _interrupt_delivered: bool = False

    def __init__(
        self,
        scheduler: Scheduler | None,
        context: dict[Any, Any],
        parent: FiberRuntime[Any, Any] | None = None,
    ) -> None:
        self.id = next(_fiber_ids)
        self.context: dict[Any, Any] = context
        self._stack: list[Any] = []
        if scheduler is not None:
            self._scheduler = scheduler
        if parent is not None:
            self._parent = parent

    @property
    def scheduler(self) -> Scheduler:
        """The scheduler that resumes this fiber (made on first need)."""
        scheduler = self._scheduler
        if scheduler is None:
            scheduler = self._scheduler = Scheduler()
        return scheduler

    # --- observing --------------------------------------------------------------------------

    @property
    def exit_value(self) -> Exit[A, E] | None:
        """The fiber's exit, or None while it runs."""
        return self._exit

    def add_observer(self, callback: Callable[[Exit[A, E]], None]) -> None:
        """Call `callback(exit)` when the fiber ends (at once if it has)."""
        if self._exit is not None:
            callback(self._exit)
        elif self._observers is None:
            self._observers = [callback]
        else:
            self._observers.append(callback)

    def remove_observer(self, callback: Callable[[Exit[A, E]], None]) -> None:
        if self._observers is not None and callback in self._observers:
            self._observers.remove(callback)

    # --- user-facing effects ------------------------------------------------------------------

    def await_(self) -> Effect[Exit[A, E]]:
        """Wait for the fiber to end; succeed with its `Exit`."""

        def register(resume: Callable[[Effect[Any, Any, Any]], None]) -> Canceler:
            def on_exit(exit_: Exit[A, E]) -> None:
                node = _new(Succeed)
                node.value = exit_
                resume(node)

            self.add_observer(on_exit)
            return lambda: self.remove_observer(on_exit)

        return async_(register)

    def join(self) -> Effect[A, E]:
        """Wait for the fiber to end; succeed or fail as it did."""
        return self.await_().flat_map(_from_exit)

    def interrupt(self) -> Effect[Exit[A, E]]:
        """Interrupt the fiber and wait until it has ended (its finalizers have run)."""
        from effects.effect import sync, with_fiber

        return with_fiber(lambda me: sync(lambda: self.interrupt_as(me.id)).then(self.await_()))

    def poll(self) -> Exit[A, E] | None:
        return self._exit

    def __repr__(self) -> str:
        state = "running" if self._exit is None else repr(self._exit)
        return f"<Fiber #{self.id} {state}>"

    # --- control --------------------------------------------------------------------------------

    def fork(self, effect: Effect[Any, Any, Any], daemon: bool = False) -> FiberRuntime[Any, Any]:
        """Start `effect` in a child fiber (interrupted when this fiber ends, unless `daemon`)."""
        child: FiberRuntime[Any, Any] = FiberRuntime(
            self.scheduler, self.context, None if daemon else self
        )
        if not daemon:
            if self._children is None:
                self._children = set()
            self._children.add(child)
        self.scheduler.schedule(child, effect)
        return child

    def interrupt_as(self, by: int) -> None:
        """Ask the fiber to stop; it stops at its next interruptible point."""
        if self._exit is not None or self._interrupt_cause is not None:
            return
        self._interrupt_cause = Interrupt(by)
        if self._token is not None:
            cause = self._take_interrupt()
            if cause is not None:
                self._cancel_async(cause)

    def _take_interrupt(self) -> Cause[Any] | None:
        """The interrupt to act on now, if one is pending, the fiber is interruptible and it
        has not been acted on yet; it is handed out once."""
        cause = self._interrupt_cause
        if cause is None or not self.interruptible or self._interrupt_delivered:
            return None
        self._interrupt_delivered = True
        return cause

    def _cancel_async(self, cause: Cause[Any]) -> None:
        canceler, self._canceler, self._token = self._canceler, None, None
        cleanup = canceler() if canceler is not None else None
        failure = _fail_node(cause)
        self.scheduler.schedule(self, failure if cleanup is None else cleanup.then(failure))

    def start_async(self, node: Async[Any, Any, Any]) -> None:
        """Register the async operation `node`; its callback resumes this fiber."""
        token = object()
        self._token = token
        sync_result: list[Effect[Any, Any, Any]] = []
        registering = True

        def resume(effect: Effect[Any, Any, Any]) -> None:
            if self._token is not token:
                return  # stale: already resumed or interrupted
            self._token = None
            self._canceler = None
            if registering:
                sync_result.append(effect)
            else:
                self.scheduler.schedule(self, effect)

        try:
            canceler = node.register(resume)
        except Exception as exc:
            self._token = None
            self.scheduler.schedule(self, _fail_node(_cause_of(exc)))
            return
        registering = False
        if sync_result:
            self.resume_with(sync_result[0])
            return
        if self._token is token:
            self._canceler = canceler
            cause = self._take_interrupt()
            if cause is not None:
                self._cancel_async(cause)

    def resume_with(self, effect: Effect[Any, Any, Any]) -> None:
        if self._exit is not None:
            return
        cause = self._take_interrupt()
        self._run(effect if cause is None else _fail_node(cause))

    def _done(self, exit_: Exit[A, E]) -> None:
        self._exit = exit_
        if self._children:
            for child in tuple(self._children):
                child.interrupt_as(self.id)
        if self._parent is not None and self._parent._children:
            self._parent._children.discard(self)
        if self._observers:
            observers, self._observers = self._observers, None
            for observer in observers:
                observer(exit_)

    # --- the interpreter -------------------------------------------------------------------------

    def _run(self, cur: Any) -> None:
        stack: list[Any] = self._stack
        ctx: dict[Any, Any] = self.context
        budget: int = ctx.get(MaxOpsBeforeYield, MaxOpsBeforeYield.default)
        value: Any = None
        cause: Any = None
        frame: Any
        instr: Any
        g: Any
        while True:
            # EVAL: reduce `cur` to a value, a cause, or pushed frames.
            if cur is not None:
                budget -= 1
                if budget <= 0:
                    self.context = ctx
                    self._yield(cur)
                    return
                try:
                    op = cur._op
                except AttributeError:
                    op = -1
                if op == OP_SUCCEED:
                    value = cur.value
                elif (
                    0 < op <= OP_CATCH
                ):  # FLAT_MAP, MAP, FOLD, CATCH: push, then run the first part
                    stack.append(cur)
                    cur = cur.first
                    continue
                elif op == OP_GEN:
                    try:
                        g = cur.fn(*cur.args, **cur.kwargs)
                    except Exception as exc:
                        cause = _cause_of(exc)
                    else:
                        if type(g) is _GeneratorType:
                            stack.append(g)
                            value = None
                        elif isinstance(g, Effect):
                            cur = g
                            continue
                        else:
                            cause = Die(
                                TypeError(
                                    f"@gen expects a generator function, got {cur!r} returning {g!r}"
                                )
                            )
                elif op == OP_FAIL:
                    cause = cur.cause
                elif op == OP_SERVICE:
                    value = ctx.get(cur, _MISSING)
                    if value is _MISSING:
                        try:
                            value = service_default(cur)
                        except MissingServiceError as exc:
                            cause = Die(exc)
                elif op == OP_SYNC:
                    try:
                        value = cur.thunk()
                    except Exception as exc:
                        cause = _cause_of(exc)
                elif op == OP_SUSPEND:
                    try:
                        cur = cur.thunk()
                    except Exception as exc:
                        cause = _cause_of(exc)
                    else:
                        continue
                elif op == OP_WITH_FIBER:
                    try:
                        cur = cur.f(self)
                    except Exception as exc:
                        cause = _cause_of(exc)
                    else:
                        continue
                elif op == OP_PROVIDE:
                    restore = _new(RestoreContext)
                    restore.context = ctx
                    stack.append(restore)
                    ctx = self.context = cur.context
                    cur = cur.first
                    continue
                elif op == OP_SET_INTERRUPTIBLE:
                    stack.append(RestoreInterruptible(self.interruptible))
                    self.interruptible = cur.flag
                    cur = cur.first
                    pending = self._take_interrupt()
                    if pending is not None:
                        cur = _fail_node(pending)
                    continue
                elif op == OP_ASYNC:
                    self.context = ctx
                    node: Async[Any, Any, Any] = cur
                    if node.needs_loop and self.scheduler.loop is None:
                        self.scheduler.deferred.append((self, node))
                    else:
                        self.start_async(node)
                    return
                elif op == OP_YIELD:
                    self.context = ctx
                    self._yield(_UNIT)
                    return
                else:
                    cause = Die(TypeError(f"not an effect: {cur!r}"))
                cur = None

            if cause is None:
                # RETURN: feed `value` to the frames on the stack.
                while stack:
                    frame = stack.pop()
                    if type(frame) is _GeneratorType:
                        send = frame.send
                        while True:
                            try:
                                instr = send(value)
                            except StopIteration as stop:
                                value = stop.value
                                break
                            except Exception as exc:
                                cause = _cause_of(exc)
                                break
                            try:
                                op = instr._op
                            except AttributeError:
                                stack.append(frame)
                                cur = _fail_node(
                                    Die(
                                        TypeError(
                                            f"a @gen function yielded {instr!r}; use `yield from` with an effect"
                                        )
                                    )
                                )
                                break
                            if op == OP_SUCCEED:
                                value = instr.value
                            elif op == OP_SERVICE:
                                try:
                                    value = ctx[instr]
                                except KeyError:
                                    stack.append(frame)
                                    cur = instr
                                    break
                            elif 0 < op <= OP_CATCH:  # push it here: one trip less through EVAL
                                stack.append(frame)
                                stack.append(instr)
                                cur = instr.first
                                break
                            else:
                                stack.append(frame)
                                cur = instr
                                break
                            budget -= 1
                            if budget <= 0:
                                stack.append(frame)
                                cur = _succeed(value)
                                break
                        if cur is not None or cause is not None:
                            break
                        continue
                    fop = frame._op
                    if fop == OP_FLAT_MAP:
                        try:
                            cur = frame.f(value)
                        except Exception as exc:
                            cause = _cause_of(exc)
                            break
                        if type(cur) is Succeed:  # answer inline, skip a trip through EVAL
                            value = cur.value
                            cur = None
                            continue
                        break
                    if fop == OP_MAP:
                        try:
                            value = frame.f(value)
                        except Exception as exc:
                            cause = _cause_of(exc)
                            break
                    elif fop == OP_FOLD:
                        try:
                            cur = frame.on_success(value)
                        except Exception as exc:
                            cause = _cause_of(exc)
                        break
                    elif fop == OP_RESTORE_CONTEXT:
                        ctx = self.context = frame.context
                    elif fop == OP_RESTORE_INTERRUPTIBLE:
                        self.interruptible = frame.flag
                        cause = self._take_interrupt()
                        if cause is not None:
                            break
                else:
                    self.context = ctx
                    done = _new(Success)
                    done.value = value
                    self._done(done)
                    return
                continue

            # FAILURE: unwind until a frame handles `cause`.
            while stack:
                frame = stack.pop()
                if type(frame) is _GeneratorType:
                    if cause.is_interrupted_only():
                        try:
                            frame.close()
                        except Exception as exc:
                            cause = Sequential(cause, Die(exc))
                        continue
                    thrown = _exception_for(cause)
                    try:
                        instr = frame.throw(thrown)
                    except StopIteration as stop:
                        value = stop.value
                        cause = None
                        break
                    except Exception as exc:
                        if exc is not thrown:
                            cause = _cause_of(exc)
                        continue
                    cause = None
                    stack.append(frame)
                    cur = (
                        instr
                        if isinstance(instr, (Effect, type))
                        else _fail_node(Die(TypeError(f"a @gen function yielded {instr!r}")))
                    )
                    break
                fop = frame._op
                if fop == OP_CATCH:
                    if type(cause) is Fail and (
                        frame.tags is None or isinstance(cause.error, frame.tags)
                    ):
                        try:
                            cur = frame.handler(cause.error)
                        except Exception as exc:
                            cause = _cause_of(exc)
                            continue
                        cause = None
                        if type(cur) is Succeed:  # recovered with a value: return it at once
                            value = cur.value
                            cur = None
                        break
                elif fop == OP_FOLD:
                    try:
                        cur = frame.on_failure(cause)
                    except Exception as exc:
                        cause = _cause_of(exc)
                        continue
                    cause = None
                    break
                elif fop == OP_RESTORE_CONTEXT:
                    ctx = self.context = frame.context
                elif fop == OP_RESTORE_INTERRUPTIBLE:
                    # leaving an uninterruptible region by failing acts on a pending interrupt
                    # as leaving it by succeeding does: the interrupt replaces the failure
                    # (Effect v4's setInterruptible does the same on both paths)
                    self.interruptible = frame.flag
                    pending = self._take_interrupt()
                    if pending is not None:
                        cause = pending
            else:
                self.context = ctx
                self._done(Failure(cause))
                return

    def _yield(self, cur: Effect[Any, Any, Any]) -> None:
        self.scheduler.schedule(self, cur)


def _succeed(value: Any) -> Any:
    node = _new(Succeed)
    node.value = value
    return node


_UNIT = _succeed(None)


def _from_exit(exit_: Exit[Any, Any]) -> Effect[Any, Any, Any]:
    if isinstance(exit_, Success):
        return _succeed(exit_.value)
    return fail_cause(cast("Failure[Any]", exit_).cause)


# --- entry points ----------------------------------------------------------------------------------


def run_sync_exit(effect: Effect[A, E, Any]) -> Exit[A, E]:
    """Run `effect` and return its `Exit`. Synchronous effects run with no event loop;
    asynchronous ones on a private loop (refused inside a running loop)."""
    fiber: Any = FiberRuntime(None, {})
    fiber._run(effect)
    if fiber._exit is not None:
        return fiber._exit
    scheduler = fiber.scheduler
    scheduler.drain()
    if fiber._exit is not None:
        return fiber._exit
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return cast(Exit[A, E], asyncio.run(_finish_on_loop(scheduler, fiber)))
    fiber.interrupt_as(0)
    scheduler.drain()
    raise AsyncInSyncError(
        "run_sync cannot run an asynchronous effect inside a running event loop: "
        "use `await effects.run(effect)` instead"
    )


async def _finish_on_loop(scheduler: Scheduler, fiber: FiberRuntime[Any, Any]) -> Exit[Any, Any]:
    if not scheduler.deferred and scheduler.pending == 0:
        return Failure(
            Die(RuntimeError("the effect is suspended and nothing can resume it (deadlock)"))
        )
    scheduler.attach(asyncio.get_running_loop())
    return await _wait(fiber)


async def _wait(fiber: FiberRuntime[Any, Any]) -> Exit[Any, Any]:
    if fiber.exit_value is not None:
        return fiber.exit_value
    future: asyncio.Future[Exit[Any, Any]] = asyncio.get_running_loop().create_future()

    def on_exit(exit_: Exit[Any, Any]) -> None:
        if not future.done():
            future.set_result(exit_)

    fiber.add_observer(on_exit)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        fiber.interrupt_as(0)
        await future
        raise


async def run_exit(effect: Effect[A, E, Any], *, timeout: float | None = None) -> Exit[A, E]:
    """Run `effect` on the running event loop and return its `Exit`. Cancelling the
    awaiting task interrupts the effect (its finalizers run); so does `timeout` (seconds),
    after which this raises `TimeoutError`. An effect that finishes without suspending
    costs no timer."""
    scheduler = Scheduler(asyncio.get_running_loop())
    fiber: FiberRuntime[Any, Any] = FiberRuntime(scheduler, {})
    fiber._run(effect)  # pyright: ignore[reportPrivateUsage]
    if fiber.exit_value is not None or timeout is None:
        return cast("Exit[A, E]", await _wait(fiber))
    async with asyncio.timeout(timeout):
        return cast("Exit[A, E]", await _wait(fiber))


def run_sync(effect: Effect[A, E, Any]) -> A:
    """Run `effect`; return its value or raise its error (typed error, defect or `Interrupted`)."""
    exit_: Any = run_sync_exit(effect)
    if type(exit_) is Success:
        return exit_.value
    return _value_or_raise(exit_)


async def run(effect: Effect[A, E, Any], *, timeout: float | None = None) -> A:
    """Run `effect` on the running event loop; return its value or raise its error
    (`TimeoutError` past `timeout` seconds, as `run_exit`)."""
    return _value_or_raise(await run_exit(effect, timeout=timeout))


def _value_or_raise(exit_: Exit[A, Any]) -> A:
    if isinstance(exit_, Success):
        return exit_.value
    cause: Cause[Any] = exit_.cause  # pyright: ignore[reportAttributeAccessIssue]
    if cause.is_interrupted_only():
        raise Interrupted()
    exc = _exception_for(cause)
    _strip_runtime_frames(exc)
    raise exc


def _strip_runtime_frames(exc: BaseException) -> None:
    """Drop the interpreter's own frames from a traceback so users see their code."""
    kept: list[types.TracebackType] = []
    tb = exc.__traceback__
    while tb is not None:
        if not is_runtime_file(tb.tb_frame.f_code.co_filename):
            kept.append(tb)
        tb = tb.tb_next
    rebuilt: types.TracebackType | None = None
    for entry in reversed(kept):
        rebuilt = types.TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    exc.__traceback__ = rebuilt


Fiber = FiberRuntime
