"""`PubSub`: written from Effect 3.x's `PubSub` semantics (packages/effect/src/PubSub.ts:
every subscriber sees each message, back-pressure, dropping and sliding strategies, scoped
subscriptions)."""

from __future__ import annotations

import effects
from effects import Exit, PubSub, Queue, gen


def test_every_subscriber_receives_each_message_in_order() -> None:
    """A message published reaches every open subscription, in publishing order."""

    @gen
    def program():
        hub = yield from PubSub[int].unbounded()
        a = yield from hub.subscribe
        b = yield from hub.subscribe
        yield from hub.publish_all([1, 2])
        yield from hub.publish(3)
        return (yield from a.take_all), (yield from b.take_all)

    assert effects.run_sync(effects.scoped(program())) == ([1, 2, 3], [1, 2, 3])


def test_a_subscriber_sees_only_later_messages() -> None:
    """Messages published before a subscription opened are not delivered to it; with no
    subscriber a publish succeeds and the message is dropped."""

    @gen
    def program():
        hub = yield from PubSub[str].bounded(2)
        nobody = yield from hub.publish("early")
        sub = yield from hub.subscribe
        yield from hub.publish("late")
        return nobody, (yield from sub.take_all)

    assert effects.run_sync(effects.scoped(program())) == (True, ["late"])


def test_subscribers_wait_for_publishes() -> None:
    """A subscriber's take suspends until a message is published."""

    @gen
    def program():
        hub = yield from PubSub[int].unbounded()
        sub = yield from hub.subscribe
        taker = yield from effects.fork(sub.take)
        yield from effects.yield_now()
        assert taker.poll() is None
        yield from hub.publish(5)
        return (yield from taker.join())

    assert effects.run_sync(effects.scoped(program())) == 5


def test_bounded_publish_waits_for_the_slowest_subscriber() -> None:
    """A bounded PubSub applies back-pressure: publish suspends until every subscriber has
    room, so it waits for the slowest."""

    @gen
    def program():
        hub = yield from PubSub[int].bounded(1)
        fast = yield from hub.subscribe
        slow = yield from hub.subscribe
        yield from hub.publish(1)
        publisher = yield from effects.fork(hub.publish(2))
        yield from effects.yield_now()
        blocked_by_both = publisher.poll() is None
        first_fast = yield from fast.take
        yield from effects.yield_now()
        blocked_by_slow = publisher.poll() is None
        first_slow = yield from slow.take
        yield from publisher.join()
        return (
            blocked_by_both,
            blocked_by_slow,
            [first_fast, (yield from fast.take)],
            [first_slow, (yield from slow.take)],
        )

    assert effects.run_sync(effects.scoped(program())) == (True, True, [1, 2], [1, 2])


def test_dropping_and_sliding() -> None:
    """A dropping PubSub makes a full subscriber miss messages (publish says False); a
    sliding one drops the subscriber's oldest."""

    def run(make: effects.Effect[PubSub[int]]) -> tuple[bool, list[int]]:
        @gen
        def program():
            hub = yield from make
            sub = yield from hub.subscribe
            ok = yield from hub.publish_all([1, 2, 3])
            return ok, (yield from sub.take_all)

        return effects.run_sync(effects.scoped(program()))

    assert run(PubSub[int].dropping(2)) == (False, [1, 2])
    assert run(PubSub[int].sliding(2)) == (True, [2, 3])


def test_subscription_is_released_with_its_scope() -> None:
    """Closing the subscription's scope removes it: it is shut down and later publishes
    skip it; a publisher waiting on it is let go, not interrupted."""

    @gen
    def program():
        hub = yield from PubSub[int].bounded(1)
        kept: list[Queue[int]] = []

        @gen
        def subscribe_then_leave():
            sub = yield from hub.subscribe
            kept.append(sub)
            yield from hub.publish(1)
            offering = yield from effects.fork(hub.publish(2))  # sub is full: it waits
            queued = yield from effects.fork(hub.publish(3))  # waits its turn to publish
            yield from effects.yield_now()
            return offering, queued

        offering, queued = yield from effects.scoped(subscribe_then_leave())
        waited = (yield from offering.await_()), (yield from queued.await_())
        published = yield from hub.publish(4)
        return repr(hub), (yield from kept[0].is_shutdown), waited, published

    listing, closed, waited, published = effects.run_sync(program())
    assert "subscribers=0" in listing and closed
    assert waited == (Exit.succeed(True), Exit.succeed(True)) and published is True


def test_shutdown_interrupts_subscribers_and_later_publishes() -> None:
    """shutdown interrupts fibers taking from subscriptions and any later publish or
    subscribe; awaitShutdown and isShutdown see it."""

    @gen
    def program():
        hub = yield from PubSub[int].unbounded()
        sub = yield from hub.subscribe
        taker = yield from effects.fork(sub.take)
        watcher = yield from effects.fork(hub.await_shutdown)
        yield from effects.yield_now()
        yield from hub.shutdown
        yield from watcher.join()
        return (
            (yield from taker.await_()),
            (yield from hub.publish(1).exit()),
            (yield from effects.scoped(hub.subscribe).exit()),
            (yield from hub.is_shutdown),
        )

    taker, publish, subscribe, closed = effects.run_sync(effects.scoped(program()))
    for exit_ in (taker, publish, subscribe):
        assert isinstance(exit_, Exit.Failure) and exit_.cause.is_interrupted()
    assert closed
