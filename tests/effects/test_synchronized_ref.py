"""`SynchronizedRef`: Effect's `SynchronizedRef` semantics (packages/effect/test/
SynchronizedRef.test.ts; the names in quotes are its tests)."""

from __future__ import annotations

import effects
from effects import Ref, SynchronizedRef, TaggedError, TestClock, gen


class Boom(TaggedError):
    pass


def test_update_effect_and_modify_effect() -> None:
    """updateEffect / modifyEffect set the value the effect computes ("getAndUpdateEffect -
    happy path")."""

    @gen
    def program():
        ref = yield from SynchronizedRef.make(1)
        yield from ref.update_effect(lambda n: effects.succeed(n + 1))
        label = yield from ref.modify_effect(lambda n: effects.succeed((f"was {n}", n * 10)))
        old = yield from ref.get_and_update_effect(lambda n: effects.succeed(n + 1))
        new = yield from ref.update_and_get_effect(lambda n: effects.succeed(n + 1))
        return label, old, new, (yield from ref.get)

    assert effects.run_sync(program()) == ("was 2", 20, 22, 22)


def test_a_failing_effect_leaves_the_value() -> None:
    """When the update effect fails, the ref keeps its value and the failure propagates
    ("getAndUpdateEffect - with failure")."""

    @gen
    def program():
        ref = yield from SynchronizedRef.make("old")
        exit_ = yield from ref.update_effect(lambda _: effects.fail(Boom())).exit()
        return exit_.is_success(), (yield from ref.get)

    assert effects.run_sync(program()) == (False, "old")


def test_effectful_updates_are_serialized() -> None:
    """Concurrent updateEffects run one at a time: each sees the value the previous one
    set, though each suspends mid-update (a plain Ref would lose writes here)."""

    def bump(n: int) -> effects.Effect[int]:
        return effects.sleep(1).as_(n + 1)

    @gen
    def program():
        sync_ref = yield from SynchronizedRef.make(0)
        plain = yield from Ref.make(0)

        def racy() -> effects.Effect[None]:
            return plain.get.flat_map(bump).flat_map(plain.set)

        fibers = yield from effects.all(
            [effects.fork(sync_ref.update_effect(bump)) for _ in range(3)]
            + [effects.fork(racy()) for _ in range(3)]
        )
        yield from TestClock.adjust(3)
        yield from effects.all([f.join() for f in fibers])
        return (yield from sync_ref.get), (yield from plain.get)

    assert effects.run_sync(program().provide(TestClock.layer())) == (3, 1)


def test_set_waits_for_a_running_update() -> None:
    """A plain set on a SynchronizedRef waits its turn behind an effectful update."""

    @gen
    def program():
        ref = yield from SynchronizedRef.make(0)
        slow = yield from effects.fork(ref.update_effect(lambda n: effects.sleep(1).as_(n + 5)))
        yield from effects.yield_now()
        setter = yield from effects.fork(ref.set(100))
        yield from TestClock.adjust(1)
        yield from slow.join()
        yield from setter.join()
        return (yield from ref.get)

    assert effects.run_sync(program().provide(TestClock.layer())) == 100
