"""Recovering from composite causes, as Effect 3.x does (packages/effect/src/internal/
core.ts: `catchAll`/`either` go through `matchEffect`, `catchIf`/`catchSome`/`catchTag`
through `Cause.failureOrCause`; cause.ts: `failureOrCause`, `electFailures`,
`isInterruptedOnly`)."""

from __future__ import annotations

from typing import Any

from returns.result import Failure as ResultFailure

import effects
from effects import Cause, Exit, TaggedError
from effects.cause import EMPTY, Die, Parallel


class Boom(TaggedError):
    n: int


class Other(TaggedError):
    pass


BOTH_FAILED = Cause.parallel(Cause.fail(Boom(n=1)), Cause.fail(Boom(n=2)))


def _value(effect: effects.Effect[Any, Any]) -> Any:
    return effects.run_sync(effect)


def test_catch_all_recovers_the_first_failure_of_a_parallel_cause() -> None:
    """Effect's `catchAll` (matchEffect) hands the handler the first of the cause's
    failures, wherever it sits in a `Parallel` or `Sequential` cause."""
    recovered = effects.fail_cause(BOTH_FAILED).catch_all(lambda e: effects.succeed(e.n))
    assert _value(recovered) == 1
    sequential = Cause.sequential(Cause.interrupt(7), Cause.fail(Boom(n=3)))
    assert _value(effects.fail_cause(sequential).catch_all(lambda e: effects.succeed(e.n))) == 3


def test_either_of_a_race_both_sides_lose_is_the_first_failure() -> None:
    """Effect's `race` fails with `Parallel(left, right)` when both fail, and `either`
    (matchEffect) makes the first failure its Left (racing.test.ts, error-handling.test.ts)."""
    result = _value(effects.race(effects.fail(Boom(n=1)), effects.fail(Boom(n=2))).either())
    assert isinstance(result, ResultFailure) and result.failure() == Boom(n=1)


def test_catch_tag_and_or_else_recover_a_failure_inside_a_composite_cause() -> None:
    """Effect's `catchTag` is `catchIf`: it tests the first failure (`failureOrCause`) and
    recovers it when it matches; `orElse` recovers any failure."""
    assert (
        _value(effects.fail_cause(BOTH_FAILED).catch_tag(Boom, lambda e: effects.succeed(e.n))) == 1
    )
    assert _value(effects.fail_cause(BOTH_FAILED).or_else(effects.succeed("else"))) == "else"
    tags = effects.fail_cause(BOTH_FAILED).catch_tags({Boom: lambda e: effects.succeed(e.n)})
    assert _value(tags) == 1
    unmatched = effects.fail_cause(BOTH_FAILED).catch_tag(Other, lambda _: effects.succeed(0))
    exit_ = effects.run_sync_exit(unmatched)
    assert exit_ == Exit.fail_cause(BOTH_FAILED)


def test_catch_tag_recovers_a_failure_beside_a_defect() -> None:
    """`catchIf` looks only for a failure (`failureOrCause`), so a defect beside it does
    not stop `catch_tag`."""
    cause = Cause.parallel(Cause.fail(Boom(n=1)), Cause.die(ValueError("bug")))
    assert _value(effects.fail_cause(cause).catch_tag(Boom, lambda e: effects.succeed(e.n))) == 1


def test_catch_all_and_either_fail_on_with_a_defect_and_the_failures_elected() -> None:
    """Effect's `matchEffect` (catchAll, either, match) does not recover when the cause
    holds a defect: it fails with `electFailures(cause)`, every failure made a defect."""
    bug = ValueError("bug")
    cause = Cause.parallel(Cause.fail(Boom(n=1)), Cause.die(bug))
    for recovering in (
        effects.fail_cause(cause).catch_all(lambda _: effects.succeed("recovered")),
        effects.fail_cause(cause).either(),
        effects.fail_cause(cause).match(lambda _: "failed", lambda _: "ok"),
    ):
        exit_ = effects.run_sync_exit(recovering)
        assert isinstance(exit_, Exit.Failure)
        assert exit_.cause == Parallel(Die(exit_.cause.defects()[0]), Die(bug))
        assert exit_.cause.defects()[0] == Boom(n=1) and not exit_.cause.failures()


def test_tap_error_sees_the_first_failure_and_keeps_the_whole_cause() -> None:
    """Effect's `tapError` runs on `failureOrCause`'s Left and fails on with the cause."""
    seen: list[int] = []
    tapped = effects.fail_cause(BOTH_FAILED).tap_error(
        lambda e: effects.sync(lambda: seen.append(e.n))
    )
    assert effects.run_sync_exit(tapped) == Exit.fail_cause(BOTH_FAILED) and seen == [1]


def test_the_empty_cause_is_interrupted_only() -> None:
    """Effect's `isInterruptedOnly` reduces `Empty` to true."""
    assert EMPTY.is_interrupted_only()
    assert Cause.parallel(Cause.interrupt(1), Cause.interrupt(2)).is_interrupted_only()
    assert not Cause.parallel(Cause.interrupt(1), Cause.fail(Boom(n=1))).is_interrupted_only()
