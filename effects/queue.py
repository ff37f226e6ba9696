"""`Queue[A]`: an asynchronous FIFO queue between fibers (Effect's `Queue`).

`Queue.bounded(n)` makes offers wait while it is full (back-pressure); `dropping(n)`
refuses what does not fit, `sliding(n)` drops the oldest to make room, `unbounded()` always
takes. `take` waits while it is empty. After `shutdown` the fibers waiting to offer or
take are interrupted, and so is any later offer or take.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any, Generic, Literal

from typing_extensions import TypeVar

from effects._internal.constructors import suspend, sync
from effects._internal.core import UNIT, Effect, succeed
from effects._internal.primitives import interrupt, with_fiber
from effects._internal.waiting import Waiter, Waiters, first, wait
from effects.cause import Cause

A = TypeVar("A", default=Any)

Strategy = Literal["suspend", "dropping", "sliding"]

_TRUE = succeed(True)
_FALSE = succeed(False)


class Queue(Generic[A]):
    """A queue of `A`s (Effect's `Queue`). Make one with `Queue[int].bounded(16)` (or
    `unbounded()`, `dropping(n)`, `sliding(n)`); every operation is an effect."""

    __slots__ = (
        "_capacity",
        "_closed",
        "_items",
        "_putters",
        "_shutdown_waiters",
        "_strategy",
        "_takers",
    )

    def __init__(self, capacity: int | None = None, strategy: Strategy = "suspend") -> None:
        """Make a queue now, outside an effect: `capacity` None is unbounded."""
        if capacity is not None and capacity < 1:
            raise ValueError(f"a queue's capacity must be >= 1, got {capacity}")
        self._capacity = capacity
        self._strategy: Strategy = strategy
        self._items: deque[A] = deque()
        self._takers: Waiters = {}
        self._putters: Waiters = {}  # each waits with a deque of the items it still offers
        self._shutdown_waiters: Waiters = {}
        self._closed = False

    # --- making -------------------------------------------------------------------------------

    @classmethod
    def bounded(cls, capacity: int) -> Effect[Queue[A]]:
        """A queue of `capacity` items whose offers wait while it is full (Effect's
        `Queue.bounded`)."""
        return sync(lambda: cls(capacity, "suspend"))

    @classmethod
    def unbounded(cls) -> Effect[Queue[A]]:
        """A queue with no limit: offers never wait (Effect's `Queue.unbounded`)."""
        return sync(lambda: cls(None))

    @classmethod
    def dropping(cls, capacity: int) -> Effect[Queue[A]]:
        """A queue of `capacity` items that refuses offers while full: they succeed with
        False (Effect's `Queue.dropping`)."""
        return sync(lambda: cls(capacity, "dropping"))

    @classmethod
    def sliding(cls, capacity: int) -> Effect[Queue[A]]:
        """A queue of `capacity` items that drops its oldest to take an offer while full
        (Effect's `Queue.sliding`)."""
        return sync(lambda: cls(capacity, "sliding"))

    @property
    def capacity(self) -> int | None:
        """How many items it holds at most (None: unbounded) (Effect's `Queue.capacity`)."""
        return self._capacity

    # --- offering -----------------------------------------------------------------------------

    def offer(self, item: A) -> Effect[bool]:
        """Add `item`; succeed with whether it was taken in (False only for a full
        dropping queue). A full bounded queue waits for room (Effect's `Queue.offer`)."""
        return suspend(lambda: self._offer_all([item]))

    def offer_all(self, items: Iterable[A]) -> Effect[bool]:
        """Add `items` in order; succeed with whether all were taken in. A bounded queue
        waits for room for the rest (Effect's `Queue.offerAll`)."""
        return suspend(lambda: self._offer_all(list(items)))

    def _offer_all(self, items: list[A]) -> Effect[bool]:
        if self._closed:
            return interrupt()
        pending = deque(items)
        takers = self._takers
        while pending and takers:
            first(takers).wake(pending.popleft())
        queue, capacity = self._items, self._capacity
        if capacity is None:
            queue.extend(pending)
            return _TRUE
        while pending and len(queue) < capacity:
            queue.append(pending.popleft())
        if not pending:
            return _TRUE
        if self._strategy == "dropping":
            return _FALSE
        if self._strategy == "sliding":
            queue.extend(pending)
            while len(queue) > capacity:
                queue.popleft()
            return _TRUE
        return wait(self._putters, pending)

    # --- taking -------------------------------------------------------------------------------

    @property
    def take(self) -> Effect[A]:
        """Remove and succeed with the oldest item, waiting while the queue is empty
        (Effect's `Queue.take`). Interruptible; an interrupted take takes nothing."""

        def start() -> Effect[A]:
            if self._closed:
                return interrupt()
            if self._items:
                item = self._items.popleft()
                self._fill_from_putters()
                return succeed(item)
            return wait(self._takers, give_back=self._give_back)

        return suspend(start)

    @property
    def take_all(self) -> Effect[list[A]]:
        """Remove and succeed with every item, maybe none; never waits (Effect's
        `Queue.takeAll`)."""
        return self.take_up_to(None)

    def take_up_to(self, max_items: int | None) -> Effect[list[A]]:
        """Remove and succeed with the oldest `max_items` items or fewer; never waits
        (Effect's `Queue.takeUpTo`)."""

        def start() -> Effect[list[A]]:
            if self._closed:
                return interrupt()
            queue = self._items
            n = len(queue) if max_items is None else min(max_items, len(queue))
            out = [queue.popleft() for _ in range(n)]
            self._fill_from_putters()
            return succeed(out)

        return suspend(start)

    @property
    def poll(self) -> Effect[A | None]:
        """Remove and succeed with the oldest item, or None if it is empty; never waits
        (Effect's `Queue.poll`, which gives an `Option`)."""
        return self.take_up_to(1).map(lambda items: items[0] if items else None)

    def _give_back(self, item: A) -> None:
        """A taker was handed `item` and interrupted before it ran: the item goes back
        first in line."""
        if self._closed:
            return
        if self._takers:
            first(self._takers).wake(item)
        else:
            self._items.appendleft(item)

    def _fill_from_putters(self) -> None:
        queue, capacity, putters = self._items, self._capacity, self._putters
        while putters and (capacity is None or len(queue) < capacity):
            putter: Waiter[bool] = next(iter(putters))
            pending: deque[A] = putter.payload
            queue.append(pending.popleft())
            if not pending:
                del putters[putter]
                putter.wake(True)

    # --- observing ----------------------------------------------------------------------------

    @property
    def size(self) -> Effect[int]:
        """The items in the queue, plus those offers wait to add, minus the fibers waiting
        to take (so negative when takers wait), as Effect's `Queue.size` counts.
        Interrupts once the queue is shut down."""

        def go() -> Effect[int]:
            if self._closed:
                return interrupt()
            waiting = sum(len(putter.payload) for putter in self._putters)
            return succeed(len(self._items) + waiting - len(self._takers))

        return suspend(go)

    @property
    def is_empty(self) -> Effect[bool]:
        """Whether `size` is 0 or less (Effect's `Queue.isEmpty`)."""
        return self.size.map(lambda n: n <= 0)

    @property
    def is_full(self) -> Effect[bool]:
        """Whether `size` has reached the capacity (Effect's `Queue.isFull`)."""
        capacity = self._capacity
        return self.size.map(lambda n: capacity is not None and n >= capacity)

    # --- shutting down ------------------------------------------------------------------------

    @property
    def shutdown(self) -> Effect[None]:
        """Shut the queue down: the fibers waiting to take or offer are interrupted, and so
        will be later offers and takes (Effect's `Queue.shutdown`)."""

        def go(fiber: Any) -> Effect[None]:
            self._shut_down(Cause.interrupt(fiber.id), release_offers=False)
            return UNIT

        return with_fiber(go)

    def _shut_down(self, cause: Cause[Any], release_offers: bool) -> None:
        """Shut down now: fail the waiting takers with `cause`; the waiting offers fail
        with it too, or succeed when `release_offers` (a `PubSub` closing a subscription
        lets the publisher waiting on it go on)."""
        if self._closed:
            return
        self._closed = True
        self._items.clear()
        takers, putters = self._takers, self._putters
        while takers:
            first(takers).fail(cause)
        while putters:
            putter = first(putters)
            if release_offers:
                putter.wake(True)
            else:
                putter.fail(cause)
        while self._shutdown_waiters:
            first(self._shutdown_waiters).wake(None)

    @property
    def is_shutdown(self) -> Effect[bool]:
        """Whether the queue is shut down (Effect's `Queue.isShutdown`)."""
        return sync(lambda: self._closed)

    @property
    def await_shutdown(self) -> Effect[None]:
        """Wait until the queue is shut down (Effect's `Queue.awaitShutdown`)."""
        return suspend(lambda: UNIT if self._closed else wait(self._shutdown_waiters).as_(None))

    def __repr__(self) -> str:
        return (
            f"Queue({list(self._items)!r}, capacity={self._capacity}, strategy={self._strategy},"
            f" takers={len(self._takers)}, offerers={len(self._putters)})"
        )


__all__ = ["Queue", "Strategy"]
