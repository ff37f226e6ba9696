# pyright: reportUnnecessaryTypeIgnoreComment=error
"""Checked by pyright: what pyright knows after a `@gen` function fails.

pyright marks code unreachable only after a statement that ends the block (`return`,
`raise`) or a call whose return type is `Never`; a `yield from` of a
`Generator[..., Any, Never]` is neither (microsoft/pyright#10833), so
`yield from NotFound(...)` alone does not narrow. `return (yield from NotFound(...))`
does, and adds nothing to `A` (its value is `Never`). Each
`# pyright: ignore[...]` here must stay needed: this file reports unnecessary ones.
"""

from __future__ import annotations

from typing import Never, assert_type

import pytest

import effects
from effects import Effect, TaggedError, gen


class NotFound(TaggedError):
    id: str


@gen
def return_yield_from_error(x: int | None):
    if x is None:
        return (yield from NotFound(id="x"))
    assert_type(x, int)
    return x + 1


@gen
def return_yield_from_fail(x: int | None):
    if x is None:
        return (yield from effects.fail(NotFound(id="x")))
    assert_type(x, int)
    return x + 1


@gen
def return_yield_from_die(x: int | None):
    if x is None:
        return (yield from effects.die(ValueError("x")))
    assert_type(x, int)
    return x + 1


@gen
def bare_yield_from_error(x: int | None):
    if x is None:
        yield from NotFound(id="x")
    # Still `int | None` (pyright#10833); when pyright narrows here, this ignore
    # becomes unnecessary and the check fails: then update README "Typing".
    return x + 1  # pyright: ignore[reportOptionalOperand]


def test_return_yield_from_an_error_narrows_and_keeps_the_inferred_types() -> None:
    assert_type(return_yield_from_error(1), Effect[int, NotFound, Never])
    assert effects.run_sync(return_yield_from_error(1)) == 2
    with pytest.raises(NotFound):
        effects.run_sync(return_yield_from_error(None))


def test_return_yield_from_fail_narrows_and_keeps_the_inferred_types() -> None:
    assert_type(return_yield_from_fail(1), Effect[int, NotFound, Never])
    with pytest.raises(NotFound):
        effects.run_sync(return_yield_from_fail(None))


def test_return_yield_from_die_narrows_and_adds_no_error() -> None:
    assert_type(return_yield_from_die(1), Effect[int, Never, Never])
    with pytest.raises(ValueError):
        effects.run_sync(return_yield_from_die(None))


def test_yield_from_an_error_fails_even_without_return() -> None:
    with pytest.raises(NotFound):
        effects.run_sync(bare_yield_from_error(None))
