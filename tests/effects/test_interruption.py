"""Interruption as Effect 3.x runs it (packages/effect/src/internal/fiberRuntime.ts,
core.ts): inherited interruptibility, racers and workers, children awaited on exit,
and Python `finally` blocks that yield."""

from __future__ import annotations

from typing import Any

import effects
from effects import Exit, TaggedError, TestClock, gen
from effects.cause import Parallel


class Boom(TaggedError):
    n: int


def _interruptible_now() -> effects.Effect[bool]:
    return effects.check_interruptible(effects.succeed)


def test_check_interruptible_gives_the_current_interruptibility() -> None:
    """Effect's `checkInterruptible` passes the fiber's interruption flag to `f`."""
    assert effects.run_sync(_interruptible_now()) is True
    assert effects.run_sync(effects.uninterruptible(_interruptible_now())) is False
    masked = effects.uninterruptible_mask(lambda restore: restore(_interruptible_now()))
    assert effects.run_sync(effects.uninterruptible(masked)) is False


def test_a_fiber_forked_uninterruptibly_is_uninterruptible() -> None:
    """Effect forks a child with its parent's runtime flags (`unsafeMakeChildFiber`):
    mirrors forking.test.ts "fork - interruption status is heritable"."""

    @gen
    def program() -> effects.EffectGen[bool]:
        fiber = yield from effects.uninterruptible(effects.fork(_interruptible_now()))
        return (yield from fiber.join())

    assert effects.run_sync(program()) is False


def test_interrupting_an_uninterruptibly_forked_fiber_waits_for_it_to_finish() -> None:
    """An inherited uninterruptible fiber runs to its end; `interrupt()` returns after."""
    log: list[str] = []

    @gen
    def child() -> effects.EffectGen[str]:
        yield from effects.yield_now()
        log.append("child finished")
        return "done"

    @gen
    def program() -> effects.EffectGen[Exit[Any, Any]]:
        fiber = yield from effects.uninterruptible(effects.fork(child()))
        exit_ = yield from fiber.interrupt()
        log.append("interrupt returned")
        return exit_

    assert effects.run_sync(program()) == Exit.succeed("done")
    assert log == ["child finished", "interrupt returned"]


def test_race_all_and_for_each_start_their_fibers_with_the_parents_interruptibility() -> None:
    """`raceFibersWith` and `forEachConcurrentDiscard` fork with the parent's runtime
    flags, so their fibers are uninterruptible inside an uninterruptible region."""
    raced = effects.race(_interruptible_now(), _interruptible_now())
    both = effects.all([_interruptible_now(), _interruptible_now()], concurrency="unbounded")
    each = effects.for_each(range(2), lambda _: _interruptible_now(), concurrency=2)
    assert effects.run_sync(effects.uninterruptible(raced)) is False
    assert effects.run_sync(effects.uninterruptible(both)) == [False, False]
    assert effects.run_sync(effects.uninterruptible(each)) == [False, False]
    assert effects.run_sync(raced) is True
    assert effects.run_sync(both) == [True, True]


def _sleep_then_log(log: list[str], seconds: float, line: str) -> effects.Effect[None]:
    return effects.sleep(seconds).then(effects.sync(lambda: log.append(line)))


def test_a_fibers_exit_waits_for_the_children_it_interrupts() -> None:
    """Effect's fiber, done, interrupts its children and awaits them before it sets its
    exit (`FiberRuntime.interruptAllChildren`), so an uninterruptible child finishes first."""
    log: list[str] = []

    @gen
    def parent() -> effects.EffectGen[str]:
        yield from effects.fork(effects.uninterruptible(_sleep_then_log(log, 5, "child done")))
        yield from effects.yield_now()
        return "parent done"

    @gen
    def program() -> effects.EffectGen[tuple[Any, Any]]:
        fiber = yield from effects.fork(parent())
        for _ in range(3):  # the parent forks, the child sleeps, the parent returns
            yield from effects.yield_now()
        before = fiber.poll()
        yield from TestClock.adjust(5)
        return before, (yield from fiber.await_())

    before, after = effects.run_sync(program().provide(TestClock.layer()))
    assert before is None and after == Exit.succeed("parent done")
    assert log == ["child done"]


def test_closing_a_scope_waits_for_an_uninterruptible_fiber_forked_in_it() -> None:
    """Effect's `forkScoped`/`forkIn`: the scope's finalizer interrupts the fiber and
    awaits it (`interruptFiber`), so closing waits for an uninterruptible fiber."""
    log: list[str] = []
    child = effects.uninterruptible(_sleep_then_log(log, 5, "child done"))
    body = effects.fork_scoped(child).then(effects.yield_now())  # the child starts sleeping

    @gen
    def program() -> effects.EffectGen[Any]:
        fiber = yield from effects.fork(
            effects.scoped(body).then(effects.sync(lambda: log.append("closed")))
        )
        for _ in range(3):
            yield from effects.yield_now()
        before = list(log)
        yield from TestClock.adjust(5)
        yield from fiber.join()
        return before

    assert effects.run_sync(program().provide(TestClock.layer())) == []
    assert log == ["child done", "closed"]


def test_a_fiber_a_worker_forks_onto_an_outer_scope_outlives_the_worker() -> None:
    """`forkIn(scope)` and `forkDaemon` fibers do not belong to the worker that forks
    them: they run on after `for_each` is done, until the scope closes."""
    log: list[str] = []

    @gen
    def program() -> effects.EffectGen[None]:
        scope = yield from effects.Scope
        yield from effects.for_each(
            range(2),
            lambda i: effects.fork_in(_sleep_then_log(log, 5, f"in scope {i}"), scope).then(
                effects.fork_daemon(_sleep_then_log(log, 5, f"daemon {i}"))
            ),
            concurrency="unbounded",
        )
        log.append("workers done")
        yield from TestClock.adjust(5)

    effects.run_sync(effects.scoped(program()).provide(TestClock.layer()))
    assert log[0] == "workers done"
    assert sorted(log[1:]) == ["daemon 0", "daemon 1", "in scope 0", "in scope 1"]


def test_for_each_fails_with_every_failure_in_a_parallel_cause() -> None:
    """Effect's `forEach` with concurrency collects the exit of every failed fiber, in
    order, with `exitCollectAll(..., { parallel: true })`: runs that fail while the first
    failure interrupts them (here, workers uninterruptible like the region that starts
    them) are all in the cause."""

    def work(i: int) -> effects.Effect[None, Boom]:
        return effects.sleep(1 + i).then(effects.fail(Boom(n=i)))

    @gen
    def program() -> effects.EffectGen[Exit[Any, Any]]:
        each = effects.for_each(range(3), work, concurrency="unbounded")
        fiber = yield from effects.fork(effects.uninterruptible(each))
        yield from TestClock.adjust(3)
        return (yield from fiber.await_())

    exit_ = effects.run_sync(program().provide(TestClock.layer()))
    assert isinstance(exit_, Exit.Failure) and isinstance(exit_.cause, Parallel)
    assert exit_.cause.failures() == [Boom(n=0), Boom(n=1), Boom(n=2)]


def test_a_racer_that_began_acquiring_when_the_other_won_has_its_release_run() -> None:
    """Both sides of Effect's `race` start (`raceFibersWith` forks both); the loser is
    interrupted and awaited, so a resource it was acquiring (uninterruptibly) is
    released before `race` returns (mirrors interruption.test.ts "interruption of raced")."""
    log: list[str] = []
    acquire = effects.sleep(1).then(effects.sync(lambda: log.append("acquired")))
    resource = effects.acquire_release(
        acquire, lambda _: effects.sync(lambda: log.append("released"))
    )
    loser = effects.scoped(resource.then(effects.never()))
    winner = effects.sleep(0.5).then(effects.sync(lambda: log.append("won"))).as_("winner")

    @gen
    def program() -> effects.EffectGen[str]:
        fiber = yield from effects.fork(effects.race(loser, winner))
        yield from TestClock.adjust(0.5)
        assert fiber.poll() is None  # the loser is still acquiring
        yield from TestClock.adjust(0.5)
        return (yield from fiber.join())

    assert effects.run_sync(program().provide(TestClock.layer())) == "winner"
    assert log == ["won", "acquired", "released"]


def test_a_finally_block_that_yields_runs_its_effects_when_the_fiber_is_interrupted() -> None:
    """An interrupted `@gen` runs `try/finally` cleanup that itself runs effects, as an
    interrupted Effect.gen runs its `finally` (Effect drives the iterator's `return`);
    the cleanup runs uninterruptibly and `interrupt()` returns after it."""
    log: list[str] = []

    @gen
    def release() -> effects.EffectGen[None]:
        yield from effects.sleep(1)
        log.append("released")

    @gen
    def worker() -> effects.EffectGen[None]:
        log.append("acquired")
        try:
            yield from effects.never()
        finally:
            yield from release()
            log.append("finally done")

    @gen
    def program() -> effects.EffectGen[Exit[Any, Any]]:
        fiber = yield from effects.fork(worker())
        yield from effects.yield_now()
        stopping = yield from effects.fork(fiber.interrupt())
        yield from effects.yield_now()
        yield from TestClock.adjust(1)
        return (yield from stopping.join())

    exit_ = effects.run_sync(program().provide(TestClock.layer()))
    assert isinstance(exit_, Exit.Failure) and exit_.cause.is_interrupted_only()
    assert log == ["acquired", "released", "finally done"]


def test_a_generator_that_catches_the_interruption_still_ends_interrupted() -> None:
    """Interruption cannot be recovered in an interruptible region: a generator that
    catches the `GeneratorExit` and runs effects in its handler finishes them, and the
    fiber still ends interrupted. An error raised by the cleanup is a defect after it."""
    log: list[str] = []

    @gen
    def swallowing() -> effects.EffectGen[str]:
        try:
            yield from effects.never()
        except GeneratorExit:
            yield from effects.sync(lambda: log.append("handled"))
            return "recovered?"
        return "unreachable"

    @gen
    def raising() -> effects.EffectGen[None]:
        try:
            yield from effects.never()
        finally:
            yield from effects.yield_now()
            raise ValueError("cleanup failed")

    @gen
    def program() -> effects.EffectGen[tuple[Exit[Any, Any], Exit[Any, Any]]]:
        first = yield from effects.fork(swallowing())
        second = yield from effects.fork(raising())
        yield from effects.yield_now()
        return (yield from first.interrupt()), (yield from second.interrupt())

    swallowed, raised = effects.run_sync(program())
    assert isinstance(swallowed, Exit.Failure) and swallowed.cause.is_interrupted_only()
    assert log == ["handled"]
    assert isinstance(raised, Exit.Failure) and raised.cause.is_interrupted()
    assert [str(d) for d in raised.cause.defects()] == ["cleanup failed"]


def test_a_fiber_forked_in_a_scope_may_close_that_scope_itself() -> None:
    """Effect's `forkIn` finalizer skips interrupting the fiber that closes the scope."""
    scope = effects.ScopeService()

    @gen
    def program() -> effects.EffectGen[Exit[Any, Any]]:
        fiber = yield from effects.fork_in(
            effects.yield_now().then(scope.close(Exit.succeed(None))), scope
        )
        return (yield from fiber.await_())

    assert effects.run_sync(program()) == Exit.succeed(None)


def test_an_interrupted_fiber_runs_no_handler_outside_an_uninterruptible_region() -> None:
    """Effect 3's fiber skips failure handlers while it is interrupted and interruptible
    (fiberRuntime.ts OP_FAILURE: `stripFailures`), so `exit()` cannot swallow the
    interruption there; inside `uninterruptible` it sees it (mirrors interruption.test.ts
    "run of interruptible")."""

    @gen
    def program() -> effects.EffectGen[tuple[Exit[Any, Any], Exit[Any, Any]]]:
        caught = effects.interruptible(effects.never()).exit()
        free = yield from effects.fork(caught)
        masked = yield from effects.fork(effects.uninterruptible(caught))
        yield from effects.yield_now()
        return (yield from free.interrupt()), (yield from masked.interrupt())

    free, masked = effects.run_sync(program())
    assert isinstance(free, Exit.Failure) and free.cause.is_interrupted_only()
    assert isinstance(masked, Exit.Success) and isinstance(masked.value, Exit.Failure)


def test_a_failure_in_an_uninterruptible_region_is_kept_beside_the_interruption() -> None:
    """Effect 3 ends an uninterruptible region that failed while an interrupt waited with
    `Sequential(failure, interruption)` (fiberRuntime.ts OP_REVERT_FLAGS), so concurrent
    `for_each` keeps the failures of interrupted workers too."""

    def work(i: int) -> effects.Effect[None, Boom]:
        return effects.uninterruptible(effects.sleep(1 + i).then(effects.fail(Boom(n=i))))

    @gen
    def program() -> effects.EffectGen[Exit[Any, Any]]:
        fiber = yield from effects.fork(effects.for_each(range(3), work, concurrency="unbounded"))
        yield from TestClock.adjust(3)
        return (yield from fiber.await_())

    exit_ = effects.run_sync(program().provide(TestClock.layer()))
    assert isinstance(exit_, Exit.Failure) and exit_.cause.is_interrupted()
    assert exit_.cause.failures() == [Boom(n=0), Boom(n=1), Boom(n=2)]
