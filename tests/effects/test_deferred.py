"""`Deferred`: Effect's `Deferred` semantics (mirrors packages/effect/test/Deferred.test.ts)."""

from __future__ import annotations

import effects
from effects import Cause, Deferred, Exit, Ref, TaggedError, gen


class Boom(TaggedError):
    n: int


def test_succeed_then_await() -> None:
    """succeed completes it (True) and await gives the value ("complete a deferred using
    succeed")."""

    @gen
    def program():
        d = yield from Deferred[int].make()
        ok = yield from d.succeed(32)
        return ok, (yield from d.await_())

    assert effects.run_sync(program()) == (True, 32)


def test_complete_runs_the_effect_once() -> None:
    """complete memoizes the effect's outcome: every await sees the same value ("complete a
    deferred using complete")."""

    @gen
    def program():
        d = yield from Deferred[int].make()
        ref = yield from Ref.make(13)
        yield from d.complete(ref.update_and_get(lambda n: n + 1))
        return (yield from d.await_()), (yield from d.await_())

    assert effects.run_sync(program()) == (14, 14)


def test_complete_twice_keeps_the_first() -> None:
    """A second completion does nothing and says so ("complete a deferred twice")."""

    @gen
    def program():
        d = yield from Deferred[int].make()
        yield from d.succeed(1)
        again = yield from d.complete(effects.succeed(9))
        return again, (yield from d.await_())

    assert effects.run_sync(program()) == (False, 1)


def test_fail_die_and_fail_cause() -> None:
    """fail, die and fail_cause complete with that failure; await fails with it ("fail a
    deferred using fail")."""
    boom = Boom(n=1)
    defect = ValueError("x")

    def outcome(complete: str) -> Exit[object, Boom]:
        d: Deferred[int, Boom] = Deferred()
        first = {
            "fail": d.fail(boom),
            "die": d.die(defect),
            "fail_cause": d.fail_cause(Cause.fail(boom)),
        }[complete]
        return effects.run_sync_exit(first.then(d.await_()))

    assert outcome("fail") == Exit.fail(boom)
    assert outcome("fail_cause") == Exit.fail(boom)
    assert outcome("die") == Exit.fail_cause(Cause.die(defect))


def test_is_done_and_poll() -> None:
    """isDone and poll see the completion; poll is empty before it ("is done when a
    deferred is completed", "poll a deferred that is not completed yet", "poll a deferred
    that is completed")."""

    @gen
    def program():
        d = yield from Deferred[int].make()
        before = (yield from d.is_done()), (yield from d.poll())
        yield from d.succeed(12)
        return before, (yield from d.is_done()), (yield from d.poll())

    assert effects.run_sync(program()) == ((False, None), True, Exit.succeed(12))


def test_interrupt_interrupts_the_waiters() -> None:
    """interrupt completes it with an interruption: waiting fibers end interrupted ("should
    interrupt a deferred", "poll a deferred that is interrupted")."""

    @gen
    def program():
        d = yield from Deferred[int].make()
        waiter = yield from effects.fork(d.await_())
        yield from effects.yield_now()
        ok = yield from d.interrupt()
        exit_ = yield from waiter.await_()
        return ok, exit_, (yield from d.poll())

    ok, exit_, polled = effects.run_sync(program())
    assert ok is True
    assert isinstance(exit_, Exit.Failure) and exit_.cause.is_interrupted()
    assert isinstance(polled, Exit.Failure) and polled.cause.is_interrupted()


def test_waiters_are_woken_by_completion() -> None:
    """Fibers suspended on await resume with the value once another fiber completes it."""

    @gen
    def program():
        d = yield from Deferred[str].make()
        waiters = yield from effects.all([effects.fork(d.await_()) for _ in range(3)])
        yield from effects.yield_now()
        assert all(w.poll() is None for w in waiters)
        yield from d.succeed("go")
        return (yield from effects.all([w.join() for w in waiters]))

    assert effects.run_sync(program()) == ["go", "go", "go"]


def test_an_interrupted_waiter_leaves_no_entry() -> None:
    """Interrupting a fiber blocked on await ends it and removes it from the waiters."""

    @gen
    def program():
        d = yield from Deferred[int].make()
        waiter = yield from effects.fork(d.await_())
        yield from effects.yield_now()
        waiting = repr(d)
        exit_ = yield from waiter.interrupt()
        return waiting, exit_, repr(d)

    waiting, exit_, after = effects.run_sync(program())
    assert "waiting=1" in waiting and "waiting=0" in after
    assert isinstance(exit_, Exit.Failure) and exit_.cause.is_interrupted()


def test_make_is_lazy() -> None:
    """Deferred.make is an effect: each run makes a new, empty deferred."""
    make = Deferred[int].make()
    first = effects.run_sync(make)
    effects.run_sync(first.succeed(1))
    assert effects.run_sync(make.flat_map(lambda d: d.is_done())) is False
