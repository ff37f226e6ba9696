"""`Semaphore` and `Latch`: Effect's `Effect.makeSemaphore` and `Effect.makeLatch`
semantics (packages/effect/test/Effect/semaphore.test.ts and latch.test.ts; the names in
quotes are their tests)."""

from __future__ import annotations

import effects
from effects import Exit, Latch, Ref, Semaphore, TestClock, gen


def test_with_permits_bounds_concurrency() -> None:
    """withPermits(n) lets at most `permits / n` effects run at once ("semaphore works",
    timed with TestClock there as here)."""

    @gen
    def program():
        sem = yield from Semaphore.make(2)
        running = yield from Ref.make(0)
        peak = yield from Ref.make(0)

        @gen
        def job():
            now = yield from running.update_and_get(lambda n: n + 1)
            yield from peak.update(lambda p: max(p, now))
            yield from effects.sleep(1)
            yield from running.update(lambda n: n - 1)

        fibers = yield from effects.all(
            [effects.fork(sem.with_permits(1)(job())) for _ in range(5)]
        )
        yield from TestClock.adjust(1)
        after_one = yield from sem.available
        yield from TestClock.adjust(2)
        yield from effects.all([f.join() for f in fibers])
        return after_one, (yield from peak.get), (yield from sem.available)

    assert effects.run_sync(program().provide(TestClock.layer())) == (0, 2, 2)


def test_take_waits_and_release_wakes() -> None:
    """take(n) waits until n permits are free; release gives them back and wakes it."""

    @gen
    def program():
        sem = yield from Semaphore.make(3)
        yield from sem.take(2)
        waiter = yield from effects.fork(sem.take(2))
        yield from effects.yield_now()
        blocked = waiter.poll() is None
        free = yield from sem.release(1)
        got = yield from waiter.join()
        return blocked, free, got, (yield from sem.available)

    assert effects.run_sync(program()) == (True, 0, 2, 0)  # the waiter took the 2 freed


def test_with_permits_two_arguments() -> None:
    """with_permits(n, effect) is with_permits(n)(effect)."""
    sem = Semaphore(1)
    assert effects.run_sync(sem.with_permits(1, effects.succeed(3))) == 3
    assert effects.run_sync(sem.available) == 1


def test_permits_are_released_on_failure() -> None:
    """withPermits releases its permits when the effect fails."""
    sem = Semaphore(1)
    exit_ = effects.run_sync_exit(sem.with_permits(1)(effects.die(ValueError("x"))))
    assert not exit_.is_success()
    assert effects.run_sync(sem.available) == 1


def test_interrupted_waiter_takes_nothing_and_leaves_no_entry() -> None:
    """A fiber interrupted while waiting for permits holds none and is no longer waiting:
    a later release serves the next waiter."""

    @gen
    def program():
        sem = yield from Semaphore.make(1)
        yield from sem.take(1)
        lost = yield from effects.fork(sem.with_permits(1)(effects.succeed("lost")))
        yield from effects.yield_now()
        exit_ = yield from lost.interrupt()
        waiting = repr(sem)
        live = yield from effects.fork(sem.with_permits(1)(effects.succeed("live")))
        yield from effects.yield_now()
        yield from sem.release(1)
        return exit_, waiting, (yield from live.join()), (yield from sem.available)

    exit_, waiting, value, free = effects.run_sync(program())
    assert isinstance(exit_, Exit.Failure) and exit_.cause.is_interrupted()
    assert "waiting=0" in waiting
    assert (value, free) == ("live", 1)


def test_interrupted_while_holding_releases() -> None:
    """A fiber interrupted inside withPermits gives its permits back."""

    @gen
    def program():
        sem = yield from Semaphore.make(1)
        holder = yield from effects.fork(sem.with_permits(1)(effects.never()))
        yield from effects.yield_now()
        held = yield from sem.available
        yield from holder.interrupt()
        return held, (yield from sem.available)

    assert effects.run_sync(program()) == (0, 1)


def test_permits_granted_to_a_fiber_interrupted_before_it_runs_come_back() -> None:
    """Permits handed to a waiter that is interrupted before it resumes are released ("take
    interruption does not leak permits")."""

    @gen
    def program():
        sem = yield from Semaphore.make(1)
        yield from sem.take(1)
        waiter = yield from effects.fork(sem.with_permits(1)(effects.never()))
        yield from effects.yield_now()
        yield from sem.release(1).then(effects.sync(lambda: waiter.interrupt_as(0)))
        yield from waiter.await_()
        return (yield from sem.available)

    assert effects.run_sync(program()) == 1


def test_latch_open_release_close() -> None:
    """await waits while closed; release lets current waiters through and stays closed;
    open lets everyone through until close ("open works")."""

    @gen
    def program():
        latch = yield from Latch.make()
        first = yield from effects.fork(latch.await_)
        yield from effects.yield_now()
        blocked = first.poll() is None
        yield from latch.release
        yield from first.join()
        second = yield from effects.fork(latch.when_open(effects.succeed("in")))
        yield from effects.yield_now()
        still_closed = second.poll() is None
        yield from latch.open
        passed = yield from second.join()
        open_now = yield from latch.await_.as_("passes at once")
        yield from latch.close
        third = yield from effects.fork(latch.await_)
        yield from effects.yield_now()
        closed_again = third.poll() is None
        yield from third.interrupt()
        return blocked, still_closed, passed, open_now, closed_again, repr(latch)

    assert effects.run_sync(program()) == (
        True,
        True,
        "in",
        "passes at once",
        True,
        "Latch(closed, waiting=0)",
    )


def test_latch_made_open() -> None:
    """makeLatch(true) starts open (Effect's `makeLatch(open)`)."""
    assert effects.run_sync(Latch(open=True).when_open(effects.succeed(1))) == 1
