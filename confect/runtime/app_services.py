"""The app's own services, what its layer (`services.py`, `App.layer`) builds, on an
`effects.ManagedRuntime` of their own: built once per deployment (and once per version of
the app a reload serves), and released, finalizers last-acquired first, when disposed.
"""

from __future__ import annotations

from typing import Any

import effects
from effects import Layer, ManagedRuntime
from effects.running_fiber import RunningFiber

_NO_SERVICES: Layer[Any, Any, Any] = Layer(None, pure={})


class AppServices:
    """The services one layer built (`services`: by their tags), held by its runtime until
    `dispose`. Build them with `build_now` (plain code) or `await AppServices.build(...)`;
    a layer that fails to build raises its error, with what it had acquired released."""

    __slots__ = ("runtime", "services")

    def __init__(self, runtime: ManagedRuntime[Any, Any], services: dict[Any, Any]) -> None:
        self.runtime = runtime
        self.services = services

    @staticmethod
    def build_now(layer: Layer[Any, Any, Any] | None) -> AppServices:
        """The services of `layer` (none if None), built now, on a private loop for any
        asynchronous step (as `effects.run_sync`)."""
        runtime = ManagedRuntime.make(layer or _NO_SERVICES)
        try:
            context = effects.run_sync(runtime.context())
        except BaseException:
            runtime.dispose()
            raise
        return AppServices(runtime, context.as_dict())

    @staticmethod
    async def build(layer: Layer[Any, Any, Any] | None) -> AppServices:
        """The services of `layer` (none if None), built on the running event loop."""
        runtime = ManagedRuntime.make(layer or _NO_SERVICES)
        try:
            context = await effects.run(runtime.context())
        except BaseException:
            await runtime.dispose()
            raise
        return AppServices(runtime, context.as_dict())

    def dispose(self) -> RunningFiber[None]:
        """Release what the layer acquired, last acquired first (see
        `ManagedRuntime.dispose`: in plain code it returns once they are released; in async
        code, `await` it)."""
        return self.runtime.dispose()
