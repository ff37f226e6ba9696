"""The fiber: a running effect, what it is waiting for, its interruption and its end.

A fiber runs its effect synchronously (`effects._internal.interpreter`) until it ends or
meets an asynchronous effect; the effect's callback then resumes it through its
`Scheduler`. Users see a fiber as the `Fiber` that `effects.fork` returns.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator
from typing import Any, Generic, Never, cast

from typing_extensions import TypeVar

from effects._internal.constructors import sync
from effects._internal.core import Effect, fail_cause, succeed
from effects._internal.interpreter import cause_of, run_fiber
from effects._internal.primitives import Async, Canceler, Resume, async_, with_fiber
from effects._internal.scheduler import Scheduler
from effects.cause import Cause, Interrupt
from effects.exit import Exit, Failure, Success

A = TypeVar("A", covariant=True, default=Any)
E = TypeVar("E", covariant=True, default=Never)

_fiber_ids = itertools.count(1)
_UNSET: Any = object()


class FiberRuntime(Generic[A, E]):
    """A running effect. Users see it as the `Fiber` returned by `effects.fork` (`join`,
    `await_`, `interrupt`, `poll`); the rest (`stack`, `context`, `interruptible`,
    `interrupt_delivered` (the fiber is dying of an interrupt), `take_interrupt`,
    `start_async`, `resume_with`, `end`) is what the interpreter, the scheduler and
    primitives run it with."""

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
    interrupt_delivered: bool = False
    # FiberRef values (`effects.fiber_ref`): None until one is set here or in an ancestor.
    # `inherited` is the map the fiber was forked with; it is copied before its first change.
    fiber_refs: dict[Any, Any] | None = None
    inherited_refs: dict[Any, Any] | None = None

    def __init__(
        self,
        scheduler: Scheduler | None,
        context: dict[Any, Any],
        parent: FiberRuntime[Any, Any] | None = None,
    ) -> None:
        self.id = next(_fiber_ids)
        self.context: dict[Any, Any] = context
        self.stack: list[Any] = []
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

        def register(resume: Resume) -> Canceler:
            def on_exit(exit_: Exit[A, E]) -> None:
                resume(succeed(exit_))

            self.add_observer(on_exit)
            return lambda: self.remove_observer(on_exit)

        return async_(register)

    def join(self) -> Effect[A, E]:
        """Wait for the fiber to end; succeed or fail as it did. Succeeding, the joining
        fiber takes in the FiberRef values this one changed (each FiberRef's `join`)."""
        return self.await_().flat_map(self._joined)

    def __iter__(self) -> Generator[Effect[A, E], Any, A]:
        """`yield from fiber` in a `@gen` joins it (a fiber is yieldable, as in Effect)."""
        return (yield self.join())

    def _joined(self, exit_: Exit[A, E]) -> Effect[A, E]:
        if self.fiber_refs is self.inherited_refs or not isinstance(exit_, Success):
            return _from_exit(exit_)
        value = exit_.value

        def take_in(me: FiberRuntime[Any, Any]) -> Effect[A]:
            me.join_refs(self)
            return succeed(value)

        return with_fiber(take_in)

    def interrupt(self) -> Effect[Exit[A, E]]:
        """Interrupt the fiber and wait until it has ended (its finalizers have run)."""
        return with_fiber(lambda me: sync(lambda: self.interrupt_as(me.id)).then(self.await_()))

    def poll(self) -> Exit[A, E] | None:
        return self._exit

    def __repr__(self) -> str:
        state = "running" if self._exit is None else repr(self._exit)
        return f"<Fiber #{self.id} {state}>"

    # --- control --------------------------------------------------------------------------------

    def fork(self, effect: Effect[Any, Any, Any], daemon: bool = False) -> FiberRuntime[Any, Any]:
        """Start `effect` in a child fiber (interrupted when this fiber ends, unless `daemon`).
        The child starts as interruptible as this fiber is now (Effect forks with the
        parent's runtime flags)."""
        child: FiberRuntime[Any, Any] = FiberRuntime(
            self.scheduler, self.context, None if daemon else self
        )
        if not self.interruptible:
            child.interruptible = False
        refs = self.fiber_refs
        if refs is not None:
            child.fiber_refs = forked = {ref: ref.fork(v) for ref, v in refs.items()}
            # What the child is compared with at join: the parent's values. When a `fork`
            # changed one, the child's map is already its own and counts as changed.
            same = all(forked[ref] is v for ref, v in refs.items())
            child.inherited_refs = forked if same else dict(refs)
        if not daemon:
            if self._children is None:
                self._children = set()
            self._children.add(child)
        self.scheduler.schedule(child, effect)
        return child

    def set_ref(self, ref: Any, value: Any) -> None:
        """Set this fiber's value of the FiberRef `ref`."""
        refs = self.fiber_refs
        if refs is None or refs is self.inherited_refs:
            refs = self.fiber_refs = {} if refs is None else dict(refs)
        refs[ref] = value

    def join_refs(self, child: FiberRuntime[Any, Any]) -> None:
        """Take in the FiberRef values `child` changed since it was forked."""
        if child.fiber_refs is child.inherited_refs:
            return
        changed = child.fiber_refs or {}
        inherited = child.inherited_refs or {}
        mine = self.fiber_refs or {}
        for ref, value in changed.items():
            if inherited.get(ref, _UNSET) is not value:
                self.set_ref(ref, ref.join(mine.get(ref, ref.initial), value))

    def interrupt_as(self, by: int) -> None:
        """Ask the fiber to stop; it stops at its next interruptible point."""
        if self._exit is not None or self._interrupt_cause is not None:
            return
        self._interrupt_cause = Interrupt(by)
        if self._token is not None:
            cause = self.take_interrupt()
            if cause is not None:
                self._cancel_async(cause)

    def take_interrupt(self) -> Cause[Any] | None:
        """The interrupt to act on now, if one is pending, the fiber is interruptible and it
        has not been acted on yet; it is handed out once."""
        cause = self._interrupt_cause
        if cause is None or not self.interruptible or self.interrupt_delivered:
            return None
        self.interrupt_delivered = True
        return cause

    def _cancel_async(self, cause: Cause[Any]) -> None:
        canceler, self._canceler, self._token = self._canceler, None, None
        cleanup = canceler() if canceler is not None else None
        failure = fail_cause(cause)
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
            self.scheduler.schedule(self, fail_cause(cause_of(exc)))
            return
        registering = False
        if sync_result:
            self.resume_with(sync_result[0])
            return
        if self._token is token:
            self._canceler = canceler
            cause = self.take_interrupt()
            if cause is not None:
                self._cancel_async(cause)

    def resume_with(self, effect: Effect[Any, Any, Any]) -> None:
        """Run the fiber on from `effect` (what its scheduler calls)."""
        if self._exit is not None:
            return
        cause = self.take_interrupt()
        run_fiber(self, effect if cause is None else fail_cause(cause))

    def end(self, exit_: Exit[A, E]) -> None:
        """End the fiber with `exit_`, then tell its observers. Children still running are
        interrupted first and the fiber ends once they all have (as Effect's fiber does,
        uninterruptibly), so an uninterruptible child finishes before its parent's exit."""
        children = self._children
        if children:
            self._children = None
            self._end_after(tuple(children), exit_)
            return
        self._exit = exit_
        if self._parent is not None and self._parent._children:
            self._parent._children.discard(self)
        if self._observers:
            observers, self._observers = self._observers, None
            for observer in observers:
                observer(exit_)

    def _end_after(self, children: tuple[FiberRuntime[Any, Any], ...], exit_: Exit[A, E]) -> None:
        """Interrupt `children`, wait for them uninterruptibly, then end with `exit_`."""
        for child in children:
            child.interrupt_as(self.id)
        self.interruptible = False

        def register(resume: Resume) -> None:
            left = [len(children)]

            def on_exit(_: Exit[Any, Any]) -> None:
                left[0] -= 1
                if left[0] == 0:
                    resume(_from_exit(exit_))

            for child in children:
                child.add_observer(on_exit)

        self.scheduler.schedule(self, async_(register))


def _from_exit(exit_: Exit[Any, Any]) -> Effect[Any, Any, Any]:
    if isinstance(exit_, Success):
        return succeed(exit_.value)
    return fail_cause(cast("Failure[Any]", exit_).cause)
