"""Fibers: lightweight concurrent runs of effects (`effects.fork`, `fiber.join()`)."""

from effects.concurrency import fork, fork_daemon, fork_in, fork_scoped
from effects.runtime import Fiber, FiberRuntime

__all__ = ["Fiber", "FiberRuntime", "fork", "fork_daemon", "fork_in", "fork_scoped"]
