"""Constructors, combinators, @gen, errors and running."""

from __future__ import annotations

import traceback

import pytest

import effects
from effects import Cause, Exit, TaggedError, gen


class NotFound(TaggedError):
    id: str


class Forbidden(TaggedError):
    reason: str


def test_succeed_and_map_chain() -> None:
    eff = effects.succeed(2).map(lambda x: x * 3).flat_map(lambda x: effects.succeed(x + 1))
    assert effects.run_sync(eff) == 7


def test_effects_are_reusable_descriptions() -> None:
    calls: list[int] = []
    eff = effects.sync(lambda: calls.append(1))
    assert calls == []
    effects.run_sync(eff)
    effects.run_sync(eff)
    assert calls == [1, 1]


def test_fail_raises_the_typed_error_from_run_sync() -> None:
    with pytest.raises(NotFound) as info:
        effects.run_sync(effects.fail(NotFound(id="a")))
    assert info.value == NotFound(id="a")


def test_run_sync_exit_reports_fail_die_and_success() -> None:
    assert effects.run_sync_exit(effects.succeed(1)) == Exit.succeed(1)
    assert effects.run_sync_exit(effects.fail(NotFound(id="x"))) == Exit.fail_cause(
        Cause.fail(NotFound(id="x"))
    )
    boom = ValueError("boom")

    def explode() -> int:
        raise boom

    exit_ = effects.run_sync_exit(effects.sync(explode))
    assert isinstance(exit_, Exit.Failure)
    assert exit_.cause.defects() == [boom]


def test_tagged_error_is_frozen_structural_and_readable() -> None:
    err = NotFound(id="7")
    assert err._tag == "NotFound"
    assert err == NotFound(id="7") and err != NotFound(id="8")
    assert hash(err) == hash(NotFound(id="7"))
    assert repr(err) == "NotFound(id='7')"
    with pytest.raises(Exception, match="FrozenInstance|can't set|cannot assign"):
        err.id = "8"  # type: ignore[misc]


def test_catch_tag_handles_only_its_tag() -> None:
    eff = effects.fail(NotFound(id="1")).catch_tag(
        NotFound, lambda e: effects.succeed(f"nf {e.id}")
    )
    assert effects.run_sync(eff) == "nf 1"
    other = effects.fail(Forbidden(reason="no")).catch_tag(NotFound, lambda e: effects.succeed("x"))
    with pytest.raises(Forbidden):
        effects.run_sync(other)


def test_catch_tags_all_and_or_else() -> None:
    handlers = {
        NotFound: lambda e: effects.succeed("nf"),
        Forbidden: lambda e: effects.succeed("fb"),
    }
    assert effects.run_sync(effects.fail(Forbidden(reason="r")).catch_tags(handlers)) == "fb"
    assert (
        effects.run_sync(effects.fail(NotFound(id="i")).catch_all(lambda e: effects.succeed(e.id)))
        == "i"
    )
    assert effects.run_sync(effects.fail(NotFound(id="i")).or_else(effects.succeed(0))) == 0


def test_catch_all_does_not_catch_defects() -> None:
    eff = effects.die(RuntimeError("bug")).catch_all(lambda e: effects.succeed("caught"))
    with pytest.raises(RuntimeError, match="bug"):
        effects.run_sync(eff)


def test_map_error_tap_as_either_exit() -> None:
    eff = effects.fail(NotFound(id="1")).map_error(lambda e: Forbidden(reason=e.id))
    assert effects.run_sync(eff.either()).failure() == Forbidden(reason="1")
    assert effects.run_sync(effects.succeed(3).either()).unwrap() == 3
    seen: list[int] = []
    assert (
        effects.run_sync(effects.succeed(5).tap(lambda x: effects.sync(lambda: seen.append(x))))
        == 5
    )
    assert seen == [5]
    assert effects.run_sync(effects.succeed(1).as_("a")) == "a"
    assert effects.run_sync(effects.fail(NotFound(id="q")).exit()) == Exit.fail(NotFound(id="q"))


def test_attempt_maps_or_wraps_exceptions() -> None:
    def bad() -> int:
        raise KeyError("k")

    assert effects.run_sync(
        effects.attempt(bad, lambda e: NotFound(id=str(e))).either()
    ).failure() == NotFound(id="'k'")
    failure = effects.run_sync(effects.attempt(bad).either()).failure()
    assert isinstance(failure, effects.UnknownException) and isinstance(failure.error, KeyError)


def test_suspend_is_lazy() -> None:
    built: list[int] = []

    def make() -> effects.Effect[int]:
        built.append(1)
        return effects.succeed(len(built))

    eff = effects.suspend(make)
    assert built == []
    assert effects.run_sync(eff) == 1
    assert effects.run_sync(eff) == 2


def test_gen_yields_values_services_and_fails() -> None:
    @gen
    def lookup(uid: str):
        if uid == "missing":
            yield from NotFound(id=uid)
        return uid.upper()

    @gen
    def program(uid: str):
        name = yield from lookup(uid)
        return f"hello {name}"

    assert effects.run_sync(program("bob")) == "hello BOB"
    with pytest.raises(NotFound):
        effects.run_sync(program("missing"))


def test_failure_is_raised_inside_the_generator_for_try_except_finally() -> None:
    log: list[str] = []

    @gen
    def program():
        try:
            yield from effects.fail(NotFound(id="1"))
        except NotFound as e:
            log.append(f"caught {e.id}")
        try:
            yield from effects.fail(Forbidden(reason="r"))
        finally:
            log.append("finally")
        return "unreachable"

    assert isinstance(effects.run_sync_exit(program()), Exit.Failure)
    assert log == ["caught 1", "finally"]


def test_raised_tagged_error_is_typed_failure_plain_exception_is_defect() -> None:
    @gen
    def typed():
        yield from effects.succeed(1)
        raise NotFound(id="r")

    @gen
    def defect():
        yield from effects.succeed(1)
        raise ValueError("oops")

    typed_exit = effects.run_sync_exit(typed())
    defect_exit = effects.run_sync_exit(defect())
    assert isinstance(typed_exit, Exit.Failure) and typed_exit.cause.failures() == [
        NotFound(id="r")
    ]
    assert isinstance(defect_exit, Exit.Failure) and [
        type(d) for d in defect_exit.cause.defects()
    ] == [ValueError]


def test_failure_report_shows_user_lines_not_runtime() -> None:
    @gen
    def inner():
        yield from effects.succeed(0)
        raise ValueError("deep")

    @gen
    def outer():
        return (yield from inner())

    exit_ = effects.run_sync_exit(outer())
    assert isinstance(exit_, Exit.Failure)
    report = exit_.cause.pretty()
    assert "raise ValueError" in report and "inner" in report
    assert "runtime.py" not in report
    with pytest.raises(ValueError) as info:
        effects.run_sync(outer())
    names = [entry.name for entry in traceback.extract_tb(info.value.__traceback__)]
    assert "_run" not in names  # the interpreter loop is hidden
    assert "inner" in names and "outer" in names


def test_user_code_run_by_a_primitive_shows_no_interpreter_frame_in_its_traceback() -> None:
    def build(restore: object) -> effects.Effect[None]:
        raise ValueError("while building")

    with pytest.raises(ValueError) as info:
        effects.run_sync(effects.uninterruptible_mask(build))
    entries = traceback.extract_tb(info.value.__traceback__)
    assert "build" in [entry.name for entry in entries]
    assert not [e for e in entries if "/effects/_internal/" in e.filename.replace("\\", "/")]


def test_yielding_a_non_effect_is_a_clear_defect() -> None:
    @gen
    def bad():
        yield 5  # type: ignore[misc]

    with pytest.raises(TypeError, match="yield from"):
        effects.run_sync(bad())


def test_flat_map_returning_a_non_effect_is_a_clear_defect() -> None:
    with pytest.raises(TypeError, match="not an effect"):
        effects.run_sync(effects.succeed(1).flat_map(lambda x: x))  # type: ignore[arg-type,return-value]


def test_match_ignore_zip_then_or_die() -> None:
    assert (
        effects.run_sync(effects.fail(NotFound(id="a")).match(lambda e: "err", lambda v: "ok"))
        == "err"
    )
    assert effects.run_sync(effects.fail(NotFound(id="a")).ignore()) is None
    assert effects.run_sync(effects.succeed(1).zip(effects.succeed("b"))) == (1, "b")
    assert effects.run_sync(effects.succeed(1).then(effects.succeed(2))) == 2
    with pytest.raises(NotFound):
        effects.run_sync(effects.fail(NotFound(id="d")).or_die())
    exit_ = effects.run_sync_exit(effects.fail(NotFound(id="d")).or_die())
    assert isinstance(exit_, Exit.Failure) and exit_.cause.defects() == [NotFound(id="d")]


def test_non_exception_failure_value_is_wrapped() -> None:
    with pytest.raises(effects.FailureValue) as info:
        effects.run_sync(effects.fail("plain string"))
    assert info.value.value == "plain string"


def test_stack_safety_chain_and_recursion() -> None:
    n = 1_000_000
    chain = effects.succeed(0)
    for _ in range(n):
        chain = chain.flat_map(lambda x: effects.succeed(x + 1))
    assert effects.run_sync(chain) == n

    @gen
    def down(k: int):
        if k == 0:
            return 0
        return (yield from down(k - 1)) + 1

    assert effects.run_sync(down(n)) == n


def test_long_gen_loop_does_not_grow_the_stack() -> None:
    @gen
    def loop():
        total = 0
        for i in range(200_000):
            total += yield from effects.succeed(i)
        return total

    assert effects.run_sync(loop()) == sum(range(200_000))


def test_forever_stops_at_the_first_failure() -> None:
    count = [0]

    def tick() -> int:
        count[0] += 1
        if count[0] == 5:
            raise NotFound(id="done")
        return count[0]

    with pytest.raises(NotFound):
        effects.run_sync(effects.sync(tick).forever())
    assert count[0] == 5
