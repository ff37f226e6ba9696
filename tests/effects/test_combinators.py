"""Effect's everyday combinators: all's modes, partition, validate_all, for_each discard,
filter_or_fail, zip / zip_with (concurrent), when / unless, cached / once,
acquire_use_release, on_error, on_interrupt, timeout_fail / timeout_to, retry_or_else,
race_all, fork_scoped / fork_in. Time is a TestClock: nothing really waits."""

from __future__ import annotations

from typing import Any

from returns.result import Failure, Success

import effects
from effects import EffectGen, Exit, NoSuchElementError, Schedule, TaggedError, TestClock, gen


class Boom(TaggedError):
    n: int


def fails(n: int) -> effects.Effect[Any, Boom]:
    return effects.fail(Boom(n=n))


def with_clock(eff: effects.Effect[Any, Any, Any]) -> Any:
    return effects.run_sync(eff.provide(TestClock.layer()))


def test_all_either_mode_gives_each_result_and_never_fails() -> None:
    """Effect.all(..., { mode: "either" }): every effect runs; each gives an Either."""
    results = effects.run_sync(effects.all([effects.succeed(1), fails(2)], mode="either"))
    assert results[0] == Success(1)
    assert isinstance(results[1], Failure) and results[1].failure() == Boom(n=2)
    keyed = effects.run_sync(effects.all({"a": fails(1)}, mode="either"))
    assert isinstance(keyed["a"], Failure)


def test_all_validate_mode_runs_all_and_fails_with_every_error() -> None:
    """Effect.all(..., { mode: "validate" }): all run; on any failure, fail with one
    Option per effect (None here where it succeeded)."""
    ran: list[int] = []
    effs = [effects.sync(lambda: ran.append(1)), fails(2), fails(3)]
    exit_ = effects.run_sync_exit(effects.all(effs, mode="validate"))
    assert isinstance(exit_, Exit.Failure)
    assert exit_.cause.failures() == [[None, Boom(n=2), Boom(n=3)]]
    assert ran == [1]
    assert effects.run_sync(effects.all({"x": effects.succeed(1)}, mode="validate")) == {"x": 1}
    keyed = effects.run_sync_exit(
        effects.all({"x": effects.succeed(1), "y": fails(4)}, mode="validate")
    )
    assert isinstance(keyed, Exit.Failure)
    assert keyed.cause.failures() == [{"x": None, "y": Boom(n=4)}]


def test_partition_splits_errors_from_values() -> None:
    """Effect.partition: never fails; [errors, values], each in order."""
    split = effects.partition(range(5), lambda n: fails(n) if n % 2 else effects.succeed(n * 10))
    assert effects.run_sync(split) == ([Boom(n=1), Boom(n=3)], [0, 20, 40])


def test_validate_all_fails_with_all_errors_or_gives_all_values() -> None:
    """Effect.validateAll: every item runs; fail with all the errors if any."""
    check = effects.validate_all(range(4), lambda n: fails(n) if n > 1 else effects.succeed(n))
    exit_ = effects.run_sync_exit(check)
    assert isinstance(exit_, Exit.Failure)
    assert exit_.cause.failures() == [[Boom(n=2), Boom(n=3)]]
    assert effects.run_sync(effects.validate_all([1, 2], effects.succeed)) == [1, 2]


def test_for_each_discard_keeps_no_results() -> None:
    """Effect.forEach(..., { discard: true }) succeeds with void."""
    seen: list[int] = []
    run = effects.for_each([1, 2, 3], lambda n: effects.sync(lambda: seen.append(n)), discard=True)
    assert effects.run_sync(run) is None
    assert seen == [1, 2, 3]
    parallel = effects.for_each([1, 2], effects.succeed, concurrency=2, discard=True)
    assert effects.run_sync(parallel) is None


def test_filter_or_fail() -> None:
    """Effect.filterOrFail: a value the predicate refuses fails with orFailWith(value),
    or NoSuchElementException without it."""
    assert effects.run_sync(effects.succeed(4).filter_or_fail(lambda n: n > 3)) == 4
    refused = effects.succeed(2).filter_or_fail(lambda n: n > 3, lambda n: Boom(n=n))
    assert effects.run_sync(refused.either()) == Failure(Boom(n=2))
    plain = effects.run_sync_exit(effects.succeed(2).filter_or_fail(lambda n: n > 3))
    assert isinstance(plain, Exit.Failure)
    assert isinstance(plain.cause.failures()[0], NoSuchElementError)


def test_zip_concurrent_runs_both_at_once() -> None:
    """Effect.zip(..., { concurrent: true }) and zipWith: both run at once, so two 5s
    sleeps end together at t=5 (not t=10)."""

    def sleepy(n: int) -> effects.Effect[int, Any, Any]:
        return effects.sleep(5).then(effects.clock.now()).map(lambda t: n + int(t))

    @gen
    def program():
        fiber = yield from effects.fork(sleepy(1).zip(sleepy(2), concurrent=True))
        summed = yield from effects.fork(
            sleepy(1).zip_with(sleepy(2), lambda a, b: a + b, concurrent=True)
        )
        yield from TestClock.adjust(5)
        return (yield from fiber.join()), (yield from summed.join())

    assert with_clock(program()) == ((6, 7), 13)
    assert (
        effects.run_sync(effects.succeed(1).zip_with(effects.succeed(2), lambda a, b: a - b)) == -1
    )


def test_zip_concurrent_interrupts_the_other_on_failure() -> None:
    """Effect's concurrent zip: the first failure interrupts the other side."""
    stopped: list[str] = []
    other = effects.never().on_interrupt(effects.sync(lambda: stopped.append("other")))
    exit_ = effects.run_sync_exit(other.zip(fails(1), concurrent=True))
    assert isinstance(exit_, Exit.Failure) and exit_.cause.failures() == [Boom(n=1)]
    assert stopped == ["other"]


def test_when_and_unless() -> None:
    """Effect.when / unless: the effect runs only as the condition says; else none."""
    ran: list[str] = []
    eff = effects.sync(lambda: ran.append("x") or 1)
    flag = [False]
    gated = eff.when(lambda: flag[0])
    assert effects.run_sync(gated) is None
    flag[0] = True
    assert effects.run_sync(gated) == 1  # the condition is read when it runs
    assert effects.run_sync(eff.unless(lambda: True)) is None
    assert ran == ["x"]


def test_cached_runs_once_and_repeats_the_outcome() -> None:
    """Effect.cached: the inner effect runs the first time; later uses, and uses that
    wait while it runs, get the same outcome."""
    runs: list[int] = []

    @gen
    def program():
        get = (
            yield from effects.sleep(1)
            .then(effects.sync(lambda: runs.append(1) or len(runs)))
            .cached()
        )
        first = yield from effects.fork(get)
        second = yield from effects.fork(get)
        yield from TestClock.adjust(1)
        return (yield from first.join()), (yield from second.join()), (yield from get)

    assert with_clock(program()) == (1, 1, 1)
    assert runs == [1]


def test_once_runs_at_most_once() -> None:
    """Effect.once: however often the returned effect runs, the work runs once."""
    runs: list[int] = []

    @gen
    def program():
        only = yield from effects.sync(lambda: runs.append(1)).once()
        yield from only
        yield from only
        return len(runs)

    assert effects.run_sync(program()) == 1


def test_acquire_use_release_releases_with_the_use_exit() -> None:
    """Effect.acquireUseRelease: release gets the resource and the use's Exit, however
    the use ends."""
    log: list[object] = []

    def release(resource: str, exit_: Exit[Any, Any]) -> effects.Effect[None]:
        return effects.sync(lambda: log.append((resource, isinstance(exit_, Exit.Success))))

    ok = effects.acquire_use_release(
        effects.succeed("r"), lambda r: effects.succeed(r + "!"), release
    )
    assert effects.run_sync(ok) == "r!"
    bad = effects.acquire_use_release(effects.succeed("s"), lambda r: fails(1), release)
    assert isinstance(effects.run_sync_exit(bad), Exit.Failure)
    assert log == [("r", True), ("s", False)]


def test_on_error_runs_only_on_failure() -> None:
    """Effect.onError: the cleanup runs with the cause when the effect fails, not when it
    succeeds."""
    causes: list[object] = []

    def note(cause: effects.Cause[Any]) -> effects.Effect[None]:
        return effects.sync(lambda: causes.append(cause.failures()))

    effects.run_sync(effects.succeed(1).on_error(note))
    effects.run_sync_exit(fails(7).on_error(note))
    assert causes == [[Boom(n=7)]]


def test_on_interrupt_runs_only_on_interruption() -> None:
    """Effect.onInterrupt: the cleanup runs when the effect is interrupted, not when it
    fails or succeeds."""
    log: list[str] = []
    cleanup = effects.sync(lambda: log.append("interrupted"))

    @gen
    def program():
        fiber = yield from effects.fork(effects.never().on_interrupt(cleanup))
        yield from effects.yield_now()
        yield from fiber.interrupt()

    effects.run_sync_exit(fails(1).on_interrupt(cleanup))
    effects.run_sync(effects.succeed(1).on_interrupt(cleanup))
    assert log == []
    effects.run_sync(program())
    assert log == ["interrupted"]


def test_timeout_fail_and_timeout_to() -> None:
    """Effect.timeoutFail fails with its own error past the duration; timeoutTo maps the
    outcome: onSuccess(value) in time, onTimeout() past it."""

    @gen
    def program():
        late = yield from effects.fork(
            effects.sleep(10).as_(1).timeout_fail(5, lambda: Boom(n=5)).either()
        )
        to_late = yield from effects.fork(
            effects.sleep(10).as_(1).timeout_to(5, lambda: "late", lambda v: f"got {v}")
        )
        to_ok = yield from effects.fork(
            effects.sleep(1).as_(1).timeout_to(5, lambda: "late", lambda v: f"got {v}")
        )
        yield from TestClock.adjust(5)
        return (yield from late.join()), (yield from to_late.join()), (yield from to_ok.join())

    assert with_clock(program()) == (Failure(Boom(n=5)), "late", "got 1")


def test_retry_or_else_method() -> None:
    """Effect.retryOrElse: once the schedule stops, orElse(last error, last output)."""
    tries: list[int] = []
    eff = effects.suspend(lambda: fails(len(tries)) if not tries.append(1) else effects.succeed(0))
    result = effects.run_sync(
        eff.retry_or_else(Schedule.recurs(2), lambda e, out: effects.succeed((e.n, out)))
    )
    assert result == (3, 2)
    assert len(tries) == 3


def test_race_all_first_success_wins_and_others_are_interrupted() -> None:
    """Effect.raceAll: the first to succeed wins, the rest are interrupted; it fails
    only if all fail."""
    stopped: list[int] = []

    def after(seconds: float, n: int) -> effects.Effect[int, Any, Any]:
        return effects.sleep(seconds).as_(n).on_interrupt(effects.sync(lambda: stopped.append(n)))

    @gen
    def program():
        fiber = yield from effects.fork(
            effects.race_all([after(3, 1), fails(9), after(1, 2), after(2, 3)])
        )
        yield from TestClock.adjust(1)
        return (yield from fiber.join())

    assert with_clock(program()) == 2
    assert sorted(stopped) == [1, 3]
    all_fail = effects.run_sync_exit(effects.race_all([fails(1), fails(2)]))
    assert isinstance(all_fail, Exit.Failure)
    assert sorted(e.n for e in all_fail.cause.failures()) == [1, 2]


def test_fork_scoped_lives_until_the_scope_closes() -> None:
    """Effect.forkScoped: the fiber outlives the effect that forked it, and is
    interrupted when the scope closes."""
    log: list[str] = []
    worker = effects.never().on_interrupt(effects.sync(lambda: log.append("stopped")))

    @gen
    def start():
        return (yield from effects.fork_scoped(worker))

    @gen
    def program():
        fiber = yield from start()  # start has ended; its fiber goes on in the scope
        yield from effects.yield_now()
        alive = fiber.poll() is None
        return alive

    assert effects.run_sync(effects.scoped(program())) is True
    assert log == ["stopped"]


def test_fork_in_a_given_scope() -> None:
    """Effect.forkIn: the fiber lives until the given scope closes."""
    log: list[str] = []
    worker = effects.never().on_interrupt(effects.sync(lambda: log.append("stopped")))

    @gen
    def program():
        scope = effects.ScopeService()
        fiber = yield from effects.fork_in(worker, scope)
        yield from effects.yield_now()
        alive = fiber.poll() is None and not log
        yield from scope.close(Exit.succeed(None))
        return alive, list(log)

    assert effects.run_sync(program()) == (True, ["stopped"])


class JoinedFailure(TaggedError):
    pass


def test_a_fiber_is_yielded_from_to_join_it() -> None:
    """A fiber is yieldable: `yield* fiber` in Effect's generators joins it (Fiber's
    `[Symbol.iterator]`), giving its value or failing as it failed."""

    @gen
    def join(fiber: Any) -> EffectGen[Any]:
        return (yield from fiber)

    @gen
    def program() -> EffectGen[tuple[int, str]]:
        ok = yield from effects.fork(effects.succeed(21).map(lambda x: x * 2))
        value = yield from ok
        failing = yield from effects.fork(effects.fail(JoinedFailure()))
        caught = yield from join(failing).catch_all(lambda e: effects.succeed(type(e).__name__))
        return value, caught

    assert effects.run_sync(program()) == (42, "JoinedFailure")
