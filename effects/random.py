"""The `Random` service: pseudo-random numbers from a generator the context provides
(Effect's `Random`), so that a program's randomness can be seeded where it runs.

    n = yield from effects.random.next()  # a float in [0, 1)
    die = yield from effects.random.next_int_between(1, 7)

Where no other is provided, fibers share one generator seeded from the operating system.
`Random.layer(seed)` (or `.provide_service(Random, RandomService(seed))`) gives a region
a generator of its own, whose numbers the seed decides.
"""

from __future__ import annotations

import random as _random
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from effects.context import Reference
from effects.effect import Effect, fail, sync
from effects.errors import NoSuchElementError

A = TypeVar("A")

MAX_INT = 2**53 - 1
"""`next_int()`'s bound (exclusive): JavaScript's `Number.MAX_SAFE_INTEGER`, as Effect's."""


class RandomService:
    """A pseudo-random generator (Python's Mersenne Twister), seeded with `seed` (from the
    operating system if None) when it first draws: making one costs next to nothing. Each
    method is an effect that draws when it runs."""

    __slots__ = ("_made", "seed")

    def __init__(self, seed: int | None = None) -> None:
        self.seed = seed
        self._made: _random.Random | None = None

    @property
    def _generator(self) -> _random.Random:
        made = self._made
        if made is None:
            made = self._made = _random.Random(self.seed)
        return made

    def next(self) -> Effect[float]:
        """A float in [0, 1)."""
        return sync(lambda: self._generator.random())

    def next_boolean(self) -> Effect[bool]:
        """True or False, as likely."""
        return self.next().map(lambda n: n > 0.5)

    def next_int(self) -> Effect[int]:
        """An integer in [0, MAX_INT)."""
        return self.next_int_between(0, MAX_INT)

    def next_range(self, low: float, high: float) -> Effect[float]:
        """A float in [low, high)."""
        return self.next().map(lambda n: (high - low) * n + low)

    def next_int_between(self, low: int, high: int) -> Effect[int]:
        """An integer in [low, high) (`low` if the range is empty, as Effect's)."""
        return sync(lambda: low + self._generator.randrange(high - low) if high > low else low)

    def shuffle(self, elements: Iterable[A]) -> Effect[list[A]]:
        """The elements in a random order (a new list)."""

        def shuffled() -> list[A]:
            items = list(elements)
            self._generator.shuffle(items)
            return items

        return sync(shuffled)

    def choice(self, elements: Sequence[A]) -> Effect[A, NoSuchElementError]:
        """One of the elements; fails `NoSuchElementError` if there are none."""
        if not elements:
            return fail(NoSuchElementError("choice from no elements"))
        return self.next_int_between(0, len(elements)).map(lambda i: elements[i])


class Random(Reference["Random", RandomService], default=RandomService()):
    """The random service key. Where no other generator is provided, fibers share one."""

    @staticmethod
    def layer(seed: int | None = None) -> Any:
        """A layer providing a fresh generator seeded with `seed` as the `Random`."""
        from effects.layer import Layer

        return Layer.effect(Random, sync(lambda: RandomService(seed)))


def next() -> Effect[float, Any, Any]:  # Effect's name, shadowing the builtin here only
    """A float in [0, 1) from the `Random` in force."""
    return Random.flat_map(lambda r: r.next())


def next_boolean() -> Effect[bool, Any, Any]:
    """True or False from the `Random` in force."""
    return Random.flat_map(lambda r: r.next_boolean())


def next_int() -> Effect[int, Any, Any]:
    """An integer in [0, MAX_INT) from the `Random` in force."""
    return Random.flat_map(lambda r: r.next_int())


def next_range(low: float, high: float) -> Effect[float, Any, Any]:
    """A float in [low, high) from the `Random` in force."""
    return Random.flat_map(lambda r: r.next_range(low, high))


def next_int_between(low: int, high: int) -> Effect[int, Any, Any]:
    """An integer in [low, high) from the `Random` in force."""
    return Random.flat_map(lambda r: r.next_int_between(low, high))


def shuffle(elements: Iterable[A]) -> Effect[list[A], Any, Any]:
    """The elements in a random order, from the `Random` in force."""
    return Random.flat_map(lambda r: r.shuffle(elements))


def choice(elements: Sequence[A]) -> Effect[A, NoSuchElementError, Any]:
    """One of the elements, from the `Random` in force; fails `NoSuchElementError` if
    there are none."""
    return Random.flat_map(lambda r: r.choice(elements))
