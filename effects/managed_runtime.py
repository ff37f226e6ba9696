"""`ManagedRuntime`: a layer built once and kept, to run many effects with its services
(Effect's `ManagedRuntime`), then disposed to release its resources."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, Never, TypeVar, cast

from effects._internal.primitives import Canceler, Resume, add_services, async_
from effects.context import Context
from effects.effect import Effect, die, fail_cause, succeed, suspend, uninterruptible
from effects.errors import AsyncInSyncError
from effects.exit import Exit, Failure, Success
from effects.layer import Layer, Services
from effects.running_fiber import RunningFiber, run_fork
from effects.runtime import run, run_exit, run_sync, run_sync_exit
from effects.scope import ScopeService

ROut = TypeVar("ROut")
ER = TypeVar("ER")
RO = TypeVar("RO")
X = TypeVar("X")
A = TypeVar("A")
B = TypeVar("B")
E = TypeVar("E")

Waiter = Callable[[Exit[Services, Any]], None]


class ManagedRuntime(Generic[ROut, ER]):
    """Runs effects with the services of one layer, built once, on first use (as in
    Effect), and shared by every run; a build failure fails every run. `dispose()`
    releases the layer's resources in reverse order; runs after that fail with a defect.

        runtime = ManagedRuntime.make(AppLayer)
        runtime.run_sync(eff)  # or: await runtime.run(eff)
        runtime.dispose()  # in async code: await runtime.dispose()

    Also a context manager (`with` / `async with`) that disposes on exit.
    """

    __slots__ = ("_built", "_disposed", "_layer", "_scope", "_waiters")

    def __init__(self, layer: Layer[ROut, ER, Any]) -> None:
        self._layer = layer
        self._scope = ScopeService()
        self._built: Exit[Services, ER] | None = None
        self._waiters: list[Waiter] | None = None  # a list while the layer is being built
        self._disposed = False

    @staticmethod
    def make(layer: Layer[RO, X, Any]) -> ManagedRuntime[RO, X]:
        """A runtime for `layer`; nothing is built until the first run."""
        return ManagedRuntime(layer)

    # --- running --------------------------------------------------------------------------------

    def context(self) -> Effect[Context, ER]:
        """The layer's services (building it if not yet built): Effect's `runtimeEffect`,
        the context of the runtime it gives."""
        return self._services().map(Context)

    def provide(self, effect: Effect[A, E, ROut]) -> Effect[A, E | ER, Never]:
        """`effect` with this runtime's services (building the layer if not yet built)."""
        return self._services().flat_map(lambda services: add_services(effect, services))

    def run_sync(self, effect: Effect[A, E, ROut]) -> A:
        """As `effects.run_sync`, with this runtime's services."""
        return self._sync(run_sync, effect)

    def run_sync_exit(self, effect: Effect[A, E, ROut]) -> Exit[A, E | ER]:
        """As `effects.run_sync_exit`, with this runtime's services."""
        return self._sync(run_sync_exit, effect)

    def _sync(self, runner: Callable[[Effect[A, Any, Any]], B], effect: Effect[A, E, ROut]) -> B:
        builds = self._built is None and self._waiters is None  # this run starts the build
        try:
            return runner(self.provide(effect))
        except AsyncInSyncError:
            # refused inside a running loop, the build it started can never finish: forget
            # it, so that the next run (`await runtime.run(...)`) builds the layer again
            if builds and self._built is None:
                self._waiters = None
            raise

    async def run(self, effect: Effect[A, E, ROut], *, timeout: float | None = None) -> A:
        """As `await effects.run(...)`, with this runtime's services."""
        return await run(self.provide(effect), timeout=timeout)

    async def run_exit(
        self, effect: Effect[A, E, ROut], *, timeout: float | None = None
    ) -> Exit[A, E | ER]:
        """As `await effects.run_exit(...)`, with this runtime's services."""
        return await run_exit(self.provide(effect), timeout=timeout)

    def run_fork(self, effect: Effect[A, E, ROut]) -> RunningFiber[A, E | ER]:
        """As `effects.run_fork`, with this runtime's services."""
        return run_fork(self.provide(effect))

    # --- disposing ------------------------------------------------------------------------------

    def dispose_effect(self) -> Effect[None]:
        """Release the layer's resources (last acquired first); again, it does nothing."""

        def dispose() -> Effect[None]:
            self._disposed = True
            self._built = None
            return self._scope.close(Exit.succeed(None))

        return suspend(dispose)

    def dispose(self) -> RunningFiber[None]:
        """Release the layer's resources. In plain code it returns when they are released
        (asynchronous finalizers run on a private loop, as `run_sync`) and raises a
        finalizer's failure; in async code, `await runtime.dispose()` waits for them."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            run_sync(self.dispose_effect())
            return run_fork(succeed(None))
        return run_fork(self.dispose_effect())

    def __enter__(self) -> ManagedRuntime[ROut, ER]:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.dispose()

    async def __aenter__(self) -> ManagedRuntime[ROut, ER]:
        return self

    async def __aexit__(
        self, *exc: type[BaseException] | BaseException | TracebackType | None
    ) -> None:
        await self.dispose()

    # --- building -------------------------------------------------------------------------------

    def _services(self) -> Effect[Services, ER]:
        """The layer's services: built by the first run (uninterruptibly, so that an
        interrupted first run leaves no half-built layer), awaited by runs meanwhile."""

        def get() -> Effect[Services, ER]:
            if self._disposed:
                return die(RuntimeError("ManagedRuntime disposed: make a new one to run effects"))
            if self._built is not None:
                return _from_exit(self._built)
            if self._waiters is not None:
                return self._await_build()
            self._waiters = []
            build = self._layer.build_in({}, self._scope)
            return uninterruptible(build).exit().flat_map(self._finish)

        return suspend(get)

    def _finish(self, exit_: Exit[Services, ER]) -> Effect[Services, ER]:
        waiters, self._waiters = self._waiters or [], None
        if not self._disposed:
            self._built = exit_
        for waiter in waiters:
            waiter(exit_)
        return _from_exit(exit_)

    def _await_build(self) -> Effect[Services, ER]:
        def register(resume: Resume) -> Canceler:
            def on_built(exit_: Exit[Services, Any]) -> None:
                resume(_from_exit(exit_))

            waiters = cast("list[Waiter]", self._waiters)
            waiters.append(on_built)
            return lambda: waiters.remove(on_built) if on_built in waiters else None

        return async_(register)


def _from_exit(exit_: Exit[A, E]) -> Effect[A, E]:
    if isinstance(exit_, Success):
        return succeed(exit_.value)
    return fail_cause(cast("Failure[E]", exit_).cause)


__all__ = ["ManagedRuntime"]
