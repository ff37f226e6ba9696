"""`Queue`: Effect 3.x's `Queue` semantics. Tests name the Effect test they mirror from
packages/effect/test/Queue.test.ts where there is one (that file now tests Effect v4's
queue; the 3.x results are kept: `offerAll` succeeds with a boolean)."""

from __future__ import annotations

import pytest

import effects
from effects import Exit, Queue, gen


def _interrupted(exit_: Exit[object, object]) -> bool:
    return isinstance(exit_, Exit.Failure) and exit_.cause.is_interrupted()


def test_offer_take_fifo() -> None:
    """Items come out in the order they went in."""

    @gen
    def program():
        q = yield from Queue[int].unbounded()
        yield from q.offer_all([1, 2, 3])
        yield from q.offer(4)
        return [(yield from q.take), (yield from q.take)], (yield from q.take_all)

    assert effects.run_sync(program()) == ([1, 2], [3, 4])


def test_take_waits_for_an_offer() -> None:
    """take suspends on an empty queue until another fiber offers."""

    @gen
    def program():
        q = yield from Queue[str].bounded(4)
        taker = yield from effects.fork(q.take)
        yield from effects.yield_now()
        assert taker.poll() is None
        assert (yield from q.size) == -1  # Effect counts a waiting taker as -1
        yield from q.offer("x")
        return (yield from taker.join())

    assert effects.run_sync(program()) == "x"


def test_bounded_offer_all_waits_until_capacity_is_released() -> None:
    """A bounded queue's offers wait while it is full and go on as room is made ("bounded
    offerAll waits until capacity is released")."""

    @gen
    def program():
        q = yield from Queue[int].bounded(2)
        offerer = yield from effects.fork(q.offer_all([1, 2, 3, 4]))
        yield from effects.yield_now()
        assert offerer.poll() is None
        assert (yield from q.size) == 4  # the waiting offers count, as in Effect
        first = yield from q.take_all
        second = yield from q.take_all
        done = yield from offerer.join()
        return first, second, done

    assert effects.run_sync(program()) == ([1, 2], [3, 4], True)


def test_bounded_offer_suspends_when_full() -> None:
    """offer on a full bounded queue suspends (back-pressure) until a take makes room."""

    @gen
    def program():
        q = yield from Queue[int].bounded(1)
        yield from q.offer(1)
        offerer = yield from effects.fork(q.offer(2))
        yield from effects.yield_now()
        blocked = offerer.poll() is None
        first = yield from q.take
        yield from offerer.join()
        return blocked, first, (yield from q.take)

    assert effects.run_sync(program()) == (True, 1, 2)


def test_offer_dropping() -> None:
    """A full dropping queue refuses offers ("offer dropping")."""

    @gen
    def program():
        q = yield from Queue[int].dropping(2)
        all_in = yield from q.offer_all([1, 2, 3, 4])
        five = yield from q.offer(5)
        return all_in, five, (yield from q.take_all)

    assert effects.run_sync(program()) == (False, False, [1, 2])


def test_offer_sliding() -> None:
    """A full sliding queue drops its oldest items ("offer sliding")."""

    @gen
    def program():
        q = yield from Queue[int].sliding(2)
        all_in = yield from q.offer_all([1, 2, 3, 4])
        five = yield from q.offer(5)
        return all_in, five, (yield from q.take_all)

    assert effects.run_sync(program()) == (True, True, [4, 5])


def test_take_up_to_and_poll() -> None:
    """takeUpTo takes at most n and never waits; poll takes one or nothing."""

    @gen
    def program():
        q = yield from Queue[int].unbounded()
        empty = yield from q.poll
        yield from q.offer_all([1, 2, 3])
        two = yield from q.take_up_to(2)
        rest = yield from q.take_up_to(5)
        none = yield from q.take_up_to(5)
        yield from q.offer(9)
        return empty, two, rest, none, (yield from q.poll)

    assert effects.run_sync(program()) == (None, [1, 2], [3], [], 9)


def test_offer_all_can_be_interrupted() -> None:
    """Interrupting a suspended offerAll keeps what it had put in and offers no more
    ("offerAll can be interrupted")."""

    @gen
    def program():
        q = yield from Queue[int].bounded(2)
        offerer = yield from effects.fork(q.offer_all([1, 2, 3, 4]))
        yield from effects.yield_now()
        yield from offerer.interrupt()
        first = yield from q.take_all
        yield from q.offer(5)
        return first, (yield from q.take_all), (yield from q.size)

    assert effects.run_sync(program()) == ([1, 2], [5], 0)


def test_take_can_be_interrupted_without_losing_offers() -> None:
    """An interrupted taker leaves no entry: the next offer goes to a live taker ("take can
    be interrupted without losing offers")."""

    @gen
    def program():
        q = yield from Queue[int].unbounded()
        lost = yield from effects.fork(q.take)
        yield from effects.yield_now()
        exit_ = yield from lost.interrupt()
        live = yield from effects.fork(q.take)
        yield from effects.yield_now()
        yield from q.offer(1)
        return exit_, (yield from live.join()), (yield from q.size)

    exit_, value, size = effects.run_sync(program())
    assert _interrupted(exit_) and value == 1 and size == 0


def test_item_handed_to_a_taker_interrupted_before_it_runs_is_not_lost() -> None:
    """A taker handed an item and interrupted before it resumed gives the item back (Effect
    may lose it in that race; here no offer is lost)."""

    @gen
    def program():
        q = yield from Queue[int].unbounded()
        taker = yield from effects.fork(q.take)
        yield from effects.yield_now()
        # In one step: hand the item to the waiting taker, then interrupt it before it runs.
        yield from q.offer(7).then(effects.sync(lambda: taker.interrupt_as(0)))
        exit_ = yield from taker.await_()
        return exit_, (yield from q.take_all)

    exit_, rest = effects.run_sync(program())
    assert _interrupted(exit_) and rest == [7]


def test_shutdown_interrupts_waiting_takers_and_offerers() -> None:
    """shutdown interrupts the fibers suspended on take and on offer, and later offers and
    takes interrupt; isShutdown and awaitShutdown see it ("shutdown")."""

    @gen
    def program():
        full = yield from Queue[int].bounded(1)
        yield from full.offer(0)
        offerer = yield from effects.fork(full.offer(1))
        empty = yield from Queue[int].unbounded()
        taker = yield from effects.fork(empty.take)
        watcher = yield from effects.fork(empty.await_shutdown)
        yield from effects.yield_now()
        before = yield from empty.is_shutdown
        yield from full.shutdown
        yield from empty.shutdown
        exits = (yield from offerer.await_()), (yield from taker.await_())
        later = (yield from empty.offer(1).exit()), (yield from full.take.exit())
        yield from watcher.join()
        return before, (yield from empty.is_shutdown), exits, later

    before, after, exits, later = effects.run_sync(program())
    assert before is False and after is True
    assert all(_interrupted(e) for e in exits)
    assert all(_interrupted(e) for e in later)


def test_capacity_must_be_positive() -> None:
    """A bounded queue needs room for at least one item."""
    with pytest.raises(ValueError):
        Queue[int](0)
    assert effects.run_sync(Queue[int].bounded(3)).capacity == 3
