"""Checked by pyright (strict): the types of the primitives (Ref, Queue, Deferred, ...).

Each `assert_type` is verified statically; running the file also executes it.
"""

from __future__ import annotations

from typing import Never, assert_type

import effects
from effects import (
    Deferred,
    Effect,
    EffectGen,
    Exit,
    FiberRef,
    Latch,
    PubSub,
    Queue,
    Ref,
    Scope,
    Semaphore,
    SynchronizedRef,
    TaggedError,
    gen,
)


class Boom(TaggedError):
    pass


def test_ref_types() -> None:
    assert_type(Ref.make(0), Effect[Ref[int]])
    ref = Ref("x")
    assert_type(ref.get, Effect[str])
    assert_type(ref.modify(lambda s: (len(s), s + "!")), Effect[int])
    assert_type(ref.update_and_get(str.upper), Effect[str])
    sync_ref = SynchronizedRef(1)
    assert_type(
        sync_ref.modify_effect(lambda n: effects.fail(Boom()).as_((str(n), n))), Effect[str, Boom]
    )
    assert effects.run_sync(ref.get) == "x"


def test_queue_types() -> None:
    assert_type(Queue[int].bounded(2), Effect[Queue[int]])
    queue: Queue[int] = Queue(2)
    assert_type(queue.take, Effect[int])
    assert_type(queue.take_all, Effect[list[int]])
    assert_type(queue.poll, Effect[int | None])
    assert_type(queue.offer(1), Effect[bool])
    assert effects.run_sync(queue.offer(1).then(queue.take)) == 1


def test_deferred_types() -> None:
    assert_type(Deferred[int, Boom].make(), Effect[Deferred[int, Boom]])
    deferred: Deferred[int, Boom] = Deferred()
    assert_type(deferred.await_(), Effect[int, Boom])
    assert_type(deferred.poll(), Effect[Exit[int, Boom] | None])
    assert_type(deferred.succeed(1), Effect[bool])
    assert_type(Deferred[str]().await_(), Effect[str, Never])
    assert effects.run_sync(deferred.succeed(3).then(deferred.await_())) == 3


def test_other_primitives_types() -> None:
    semaphore = Semaphore(1)
    assert_type(semaphore.with_permits(1)(effects.fail(Boom())), Effect[Never, Boom])
    assert_type(semaphore.with_permits(1, effects.succeed("a")), Effect[str])
    assert_type(Latch().when_open(effects.succeed(1)), Effect[int])
    hub: PubSub[int] = PubSub()
    assert_type(hub.subscribe, Effect[Queue[int], Never, Scope])
    ref = FiberRef(0)
    assert_type(ref.get, Effect[int])
    assert_type(ref.locally(1)(effects.succeed("a")), Effect[str])


@gen
def _uses_them() -> EffectGen[int]:
    ref = yield from Ref.make(1)
    queue = yield from Queue[int].unbounded()
    yield from queue.offer((yield from ref.get))
    value = yield from queue.take
    assert_type(value, int)
    return value


def test_in_a_generator() -> None:
    assert effects.run_sync(_uses_them()) == 1
