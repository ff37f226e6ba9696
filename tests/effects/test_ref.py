"""`Ref`: written from Effect's `Ref` semantics (its operations as documented in
packages/effect/src/Ref.ts)."""

from __future__ import annotations

import effects
from effects import Ref, gen


def test_make_and_get() -> None:
    """Ref.get succeeds with the value the ref was made with."""
    assert effects.run_sync(Ref.make("x").flat_map(lambda r: r.get)) == "x"


def test_operations_are_lazy() -> None:
    """A Ref operation is an effect: nothing changes until it runs, and it runs each time."""
    ref = Ref(0)
    bump = ref.update(lambda n: n + 1)
    assert effects.run_sync(ref.get) == 0
    effects.run_sync(bump.then(bump))
    assert effects.run_sync(ref.get) == 2


def test_set_and_update_family() -> None:
    """set, update, getAndSet, getAndUpdate, updateAndGet and modify, each as Effect
    defines it."""

    @gen
    def program():
        ref = yield from Ref.make(1)
        yield from ref.set(2)
        yield from ref.update(lambda n: n * 10)
        old = yield from ref.get_and_set(5)
        before = yield from ref.get_and_update(lambda n: n + 1)
        after = yield from ref.update_and_get(lambda n: n + 1)
        summary = yield from ref.modify(lambda n: (f"was {n}", n * 2))
        return old, before, after, summary, (yield from ref.get)

    assert effects.run_sync(program()) == (20, 5, 7, "was 7", 14)


def test_concurrent_updates_lose_no_write() -> None:
    """Each update is atomic: many fibers updating at once all count."""

    @gen
    def program():
        ref = yield from Ref.make(0)
        bump = effects.yield_now().then(ref.update(lambda n: n + 1))
        yield from effects.all([bump] * 100, concurrency="unbounded")
        return (yield from ref.get)

    assert effects.run_sync(program()) == 100


def test_a_failing_function_leaves_the_value() -> None:
    """A defect in `update`'s function fails the effect and the value stays as it was."""
    ref = Ref(3)

    def boom(n: int) -> int:
        raise ValueError("no")

    exit_ = effects.run_sync_exit(ref.update(boom))
    assert not exit_.is_success()
    assert effects.run_sync(ref.get) == 3
