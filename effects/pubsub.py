"""`PubSub[A]`: publish once, every subscriber receives it (Effect's `PubSub`)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Generic, Never

from typing_extensions import TypeVar

from effects._internal.constructors import suspend, sync
from effects._internal.core import UNIT, Effect, succeed
from effects._internal.primitives import interrupt, with_fiber
from effects._internal.waiting import Waiters, first, wait
from effects.cause import Cause
from effects.concurrency import for_each
from effects.queue import Queue, Strategy
from effects.scope import Scope, acquire_release
from effects.synchronization import Semaphore

A = TypeVar("A", default=Any)


class PubSub(Generic[A]):
    """A hub of `A`s (Effect's `PubSub`): each message published goes to every subscription
    open at that moment, in publishing order. `subscribe` is scoped: the subscription, a
    `Queue` to take from, closes with its scope.

    `bounded(n)`: a publish waits until every subscriber has room (back-pressure from the
    slowest); `dropping(n)`: a subscriber with no room misses the message (publish succeeds
    with False); `sliding(n)`: it drops its oldest; `unbounded()`: never waits."""

    __slots__ = ("_capacity", "_closed", "_lock", "_shutdown_waiters", "_strategy", "_subscribers")

    def __init__(self, capacity: int | None = None, strategy: Strategy = "suspend") -> None:
        """Make one now, outside an effect: `capacity` None is unbounded."""
        if capacity is not None and capacity < 1:
            raise ValueError(f"a PubSub's capacity must be >= 1, got {capacity}")
        self._capacity = capacity
        self._strategy: Strategy = strategy
        self._subscribers: dict[Queue[A], None] = {}
        self._lock = Semaphore(1)  # bounded: publishes wait in turn, so all see one order
        self._closed = False
        self._shutdown_waiters: Waiters = {}

    @classmethod
    def bounded(cls, capacity: int) -> Effect[PubSub[A]]:
        """Publishes wait while a subscriber has `capacity` messages not taken (Effect's
        `PubSub.bounded`)."""
        return sync(lambda: cls(capacity, "suspend"))

    @classmethod
    def unbounded(cls) -> Effect[PubSub[A]]:
        """Publishes never wait (Effect's `PubSub.unbounded`)."""
        return sync(lambda: cls(None))

    @classmethod
    def dropping(cls, capacity: int) -> Effect[PubSub[A]]:
        """A full subscriber misses the message (Effect's `PubSub.dropping`)."""
        return sync(lambda: cls(capacity, "dropping"))

    @classmethod
    def sliding(cls, capacity: int) -> Effect[PubSub[A]]:
        """A full subscriber drops its oldest message (Effect's `PubSub.sliding`)."""
        return sync(lambda: cls(capacity, "sliding"))

    @property
    def capacity(self) -> int | None:
        """How many messages a subscriber holds at most (None: unbounded)."""
        return self._capacity

    def publish(self, item: A) -> Effect[bool]:
        """Send `item` to every subscriber; succeed with whether all received it (Effect's
        `PubSub.publish`). With no subscriber the message is dropped and it succeeds."""
        return self.publish_all([item])

    def publish_all(self, items: Iterable[A]) -> Effect[bool]:
        """Send `items`, in order, to every subscriber (Effect's `PubSub.publishAll`)."""

        def start() -> Effect[bool]:
            if self._closed:
                return interrupt()
            batch = list(items)
            sent = suspend(
                lambda: for_each(list(self._subscribers), lambda q: _offer(q, batch)).map(all)
            )
            if self._strategy == "suspend" and self._capacity is not None:
                return self._lock.with_permits(1)(sent)
            return sent

        return suspend(start)

    @property
    def subscribe(self) -> Effect[Queue[A], Never, Scope]:
        """Open a subscription: a `Queue` of the messages published from now on, closed
        (its waiting takers interrupted) when the scope closes (Effect's
        `PubSub.subscribe`). Take from it; do not offer to it."""

        def open_() -> Effect[Queue[A]]:
            if self._closed:
                return interrupt()
            queue: Queue[A] = Queue(self._capacity, self._strategy)
            self._subscribers[queue] = None
            return succeed(queue)

        def close(queue: Queue[A]) -> Effect[None]:
            def go(fiber: Any) -> Effect[None]:
                self._subscribers.pop(queue, None)
                queue._shut_down(Cause.interrupt(fiber.id), release_offers=True)  # pyright: ignore[reportPrivateUsage]
                return UNIT

            return with_fiber(go)

        return acquire_release(suspend(open_), close)

    @property
    def shutdown(self) -> Effect[None]:
        """Shut down: subscriptions close, fibers waiting to publish or take are
        interrupted, and so are later publishes and subscribes (Effect's
        `PubSub.shutdown`)."""

        def go(fiber: Any) -> Effect[None]:
            if self._closed:
                return UNIT
            self._closed = True
            cause = Cause.interrupt(fiber.id)
            subscribers, self._subscribers = self._subscribers, {}
            for queue in subscribers:
                queue._shut_down(cause, release_offers=False)  # pyright: ignore[reportPrivateUsage]
            while self._shutdown_waiters:
                first(self._shutdown_waiters).wake(None)
            return UNIT

        return with_fiber(go)

    @property
    def is_shutdown(self) -> Effect[bool]:
        """Whether it is shut down (Effect's `PubSub.isShutdown`)."""
        return sync(lambda: self._closed)

    @property
    def await_shutdown(self) -> Effect[None]:
        """Wait until it is shut down (Effect's `PubSub.awaitShutdown`)."""
        return suspend(lambda: UNIT if self._closed else wait(self._shutdown_waiters).as_(None))

    def __repr__(self) -> str:
        return (
            f"PubSub(capacity={self._capacity}, strategy={self._strategy},"
            f" subscribers={len(self._subscribers)})"
        )


def _offer(subscription: Queue[A], batch: list[A]) -> Effect[bool]:
    """Offer `batch` to a subscription; one closed meanwhile is skipped."""

    def go() -> Effect[bool]:
        if subscription._closed:  # pyright: ignore[reportPrivateUsage]
            return succeed(True)
        return subscription.offer_all(batch)

    return suspend(go)


__all__ = ["PubSub"]
