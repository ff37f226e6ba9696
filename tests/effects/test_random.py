"""The Random service, after Effect 3's `Random`: numbers from the generator the context
provides, the same for the same seed."""

import pytest

import effects
from effects import Random, RandomService
from effects.errors import NoSuchElementError


@effects.gen
def draws():
    return [
        (yield from effects.random.next()),
        (yield from effects.random.next_int()),
        (yield from effects.random.next_boolean()),
        (yield from effects.random.next_range(10.0, 20.0)),
        (yield from effects.random.next_int_between(1, 7)),
        (yield from effects.random.shuffle(range(10))),
        (yield from effects.random.choice("abc")),
    ]


def test_a_seeded_generator_draws_the_same_numbers_and_each_draw_is_in_its_range():
    first = effects.run_sync(draws().provide(Random.layer(7)))
    second = effects.run_sync(draws().provide_service(Random, RandomService(7)))
    assert first == second
    n, big, _, ranged, die, shuffled, letter = first
    assert 0 <= n < 1 and 0 <= big < effects.random.MAX_INT
    assert 10 <= ranged < 20 and 1 <= die < 7 and letter in "abc"
    assert sorted(shuffled) == list(range(10))


def test_without_a_provided_generator_draws_differ_from_run_to_run():
    assert effects.run_sync(draws()) != effects.run_sync(draws())


def test_an_empty_range_gives_its_low_end_and_an_empty_choice_fails():
    assert effects.run_sync(effects.random.next_int_between(3, 3)) == 3
    with pytest.raises(NoSuchElementError):
        effects.run_sync(effects.random.choice([]))
