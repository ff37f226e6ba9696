"""Property tests: monad laws, `all` keeps order, scopes release all they acquire."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import effects
from effects import Exit, TaggedError, gen


class Oops(TaggedError):
    n: int


def f(x: int) -> effects.Effect[int, Oops]:
    return effects.fail(Oops(n=x)) if x % 7 == 0 else effects.succeed(x * 2)


def g(x: int) -> effects.Effect[int, Oops]:
    return effects.succeed(x - 3)


def same(a: effects.Effect[int, Oops], b: effects.Effect[int, Oops]) -> bool:
    return effects.run_sync_exit(a) == effects.run_sync_exit(b)


@given(st.integers())
def test_left_identity(x: int) -> None:
    assert same(effects.succeed(x).flat_map(f), f(x))


@given(st.integers(), st.booleans())
def test_right_identity(x: int, failing: bool) -> None:
    m = effects.fail(Oops(n=x)) if failing else effects.succeed(x)
    assert same(m.flat_map(effects.succeed), m)


@given(st.integers())
def test_associativity(x: int) -> None:
    m = effects.succeed(x)
    assert same(m.flat_map(f).flat_map(g), m.flat_map(lambda y: f(y).flat_map(g)))


@given(
    st.lists(st.integers(min_value=0, max_value=5), max_size=20),
    st.sampled_from([None, 1, 3, "unbounded"]),
)
def test_all_preserves_order(delays: list[int], concurrency: object) -> None:
    @gen
    def item(i: int, d: int):
        for _ in range(d):
            yield from effects.yield_now()
        return i

    result = effects.run_sync(
        effects.all([item(i, d) for i, d in enumerate(delays)], concurrency=concurrency)
    )  # type: ignore[arg-type]
    assert result == list(range(len(delays)))


@given(st.lists(st.booleans(), max_size=15), st.integers(min_value=-1, max_value=15))
def test_scope_releases_everything_it_acquired(fail_release: list[bool], fail_at: int) -> None:
    acquired: list[int] = []
    released: list[int] = []

    def release(i: int) -> effects.Effect[None]:
        def go() -> None:
            released.append(i)
            if fail_release[i]:
                raise RuntimeError(f"release {i}")

        return effects.sync(go)

    @gen
    def program():
        for i in range(len(fail_release)):
            if i == fail_at:
                yield from Oops(n=i)
            yield from effects.acquire_release(
                effects.sync(lambda i=i: acquired.append(i) or i), release
            )
        return "done"

    exit_ = effects.run_sync_exit(effects.scoped(program()))
    assert released == list(reversed(acquired))
    if any(fail_release[i] for i in acquired) or 0 <= fail_at < len(fail_release):
        assert isinstance(exit_, Exit.Failure)
