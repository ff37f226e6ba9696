"""Checked by pyright (strict): the types of the combinators, schedules' outputs and
`all`'s modes."""

# pyright: strict

from __future__ import annotations

from typing import Never, assert_type

from returns.result import Result

import effects
from effects import Effect, NoSuchElementError, Schedule, Scope, TaggedError
from effects.runtime import FiberRuntime


class Boom(TaggedError):
    pass


def number() -> Effect[int, Boom]:
    return effects.succeed(1)


def text() -> Effect[str]:
    return effects.succeed("a")


def test_all_modes() -> None:
    assert_type(effects.all([number(), number()]), Effect[list[int], Boom, Never])
    assert_type(
        effects.all([number()], mode="either"), Effect[list[Result[int, Boom]], Never, Never]
    )
    assert_type(
        effects.all([number()], mode="validate"), Effect[list[int], list[Boom | None], Never]
    )
    assert_type(
        effects.all({"a": number()}, mode="validate"),
        Effect[dict[str, int], dict[str, Boom | None], Never],
    )


def test_many_effects() -> None:
    assert_type(effects.partition([1], lambda n: number()), Effect[tuple[list[Boom], list[int]]])
    assert_type(effects.validate_all([1], lambda n: number()), Effect[list[int], list[Boom], Never])
    assert_type(effects.for_each([1], lambda n: number(), discard=True), Effect[None, Boom, Never])
    assert_type(effects.for_each([1], lambda n: number()), Effect[list[int], Boom, Never])
    assert_type(effects.race_all([number(), number()]), Effect[int, Boom, Never])


def test_methods() -> None:
    assert_type(number().zip(text(), concurrent=True), Effect[tuple[int, str], Boom, Never])
    assert_type(number().zip_with(text(), lambda n, s: s * n), Effect[str, Boom, Never])
    assert_type(number().when(lambda: True), Effect[int | None, Boom, Never])
    assert_type(
        number().filter_or_fail(lambda n: n > 0), Effect[int, Boom | NoSuchElementError, Never]
    )
    assert_type(number().cached(), Effect[Effect[int, Boom, Never]])
    assert_type(
        number().timeout_fail(1, lambda: ValueError()), Effect[int, Boom | ValueError, Never]
    )
    assert_type(number().timeout_to(1, lambda: "late", str), Effect[str, Boom, Never])
    assert_type(effects.fork_scoped(number()), Effect[FiberRuntime[int, Boom], Never, Scope])


def test_repeat_gives_the_schedule_output() -> None:
    assert_type(text().repeat(Schedule.recurs(3)), Effect[int, Never, Never])
    assert_type(text().repeat(Schedule.exponential(1.0)), Effect[float, Never, Never])
    assert_type(Schedule.recurs(1).intersect(Schedule.spaced(1)), Schedule[tuple[int, int]])
    assert_type(Schedule.recurs(1).and_then(Schedule.linear(1)), Schedule[int | float])
    assert_type(Schedule.recurs(1).compose(Schedule.fixed(1)), Schedule[int])
    assert_type(
        number().retry_or_else(Schedule.recurs(2), lambda e, n: effects.succeed(str(n))),
        Effect[int | str, Never, Never],
    )
    assert effects.run_sync(text().repeat(Schedule.recurs(3))) == 3
