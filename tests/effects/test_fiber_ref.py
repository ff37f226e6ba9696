"""`FiberRef`: Effect's `FiberRef` semantics (mirrors packages/effect/test/FiberRef.test.ts;
the names in quotes are its tests)."""

from __future__ import annotations

import effects
from effects import FiberRef, TaggedError, gen


class Oops(TaggedError):
    pass


def test_get_returns_the_initial_value() -> None:
    """A FiberRef never set has its initial value ("get returns the current value")."""
    ref = FiberRef("initial")
    assert effects.run_sync(ref.get) == "initial"


def test_set_update_modify() -> None:
    """set, update, getAndSet, modify and reset change the current fiber's value ("set
    updates the current value", "modify - changing the value", "restores the original
    value")."""

    @gen
    def program():
        ref = yield from FiberRef.make(1)
        yield from ref.set(2)
        yield from ref.update(lambda n: n * 10)
        old = yield from ref.get_and_set(5)
        label = yield from ref.modify(lambda n: (f"was {n}", n + 1))
        now = yield from ref.get
        yield from ref.reset()
        return old, label, now, (yield from ref.get)

    assert effects.run_sync(program()) == (20, "was 5", 6, 1)


def test_children_get_a_copy_at_fork() -> None:
    """A child starts with its parent's value at fork; what it sets the parent does not see
    until it is joined ("get returns the correct value for a child", "set by a child
    doesn't update parent's value")."""
    ref = FiberRef("root")

    @gen
    def program():
        yield from ref.set("parent")
        started = yield from effects.fork(ref.get)
        changer = yield from effects.fork(ref.set("child").then(ref.get))
        yield from effects.yield_now()
        child_exit = yield from changer.await_()  # await_, unlike join, takes nothing in
        return (yield from started.join()), child_exit.value, (yield from ref.get)

    assert effects.run_sync(program()) == ("parent", "child", "parent")


def test_fork_function_is_applied_on_fork() -> None:
    """`fork` computes the child's value; the copy counts as the child's, so joining it
    gives it to the parent ("fork function is applied on fork - 1", "... - 2")."""

    @gen
    def program():
        ref = yield from FiberRef.make(0, fork=lambda n: n + 1)
        child = yield from effects.fork(effects.succeed(None))
        yield from child.join()
        once = yield from ref.get
        yield from ref.set(0)
        nested = yield from effects.fork(effects.fork(ref.get).flat_map(lambda f: f.join()))
        seen = yield from nested.join()
        return once, seen, (yield from ref.get)

    assert effects.run_sync(program()) == (1, 2, 2)


def test_join_function_is_applied_on_join() -> None:
    """Joining a child that changed the value gives the parent `join(parent, child)`: the
    child's value by default ("initial value is inherited on join", "join function is
    applied on join - 1", "... - 2"); a child that changed nothing leaves the parent's."""

    @gen
    def program():
        plain = yield from FiberRef.make("initial")
        biggest = yield from FiberRef.make(0, join=max)
        quiet = yield from FiberRef.make("mine")
        child = yield from effects.fork(plain.set("update").then(biggest.update(lambda n: n + 1)))
        untouched = yield from effects.fork(effects.succeed(None))
        yield from biggest.update(lambda n: n + 2)
        yield from child.join()
        yield from quiet.set("parent later")
        yield from untouched.join()
        return (yield from plain.get), (yield from biggest.get), (yield from quiet.get)

    assert effects.run_sync(program()) == ("update", 2, "parent later")


def test_a_failed_child_gives_nothing_back() -> None:
    """A child that fails is not inherited from: join fails and the parent keeps its value."""

    @gen
    def program():
        ref = yield from FiberRef.make(0)
        child = yield from effects.fork(ref.set(9).then(effects.die(ValueError("x"))))
        exit_ = yield from child.join().exit()
        return exit_.is_success(), (yield from ref.get)

    assert effects.run_sync(program()) == (False, 0)


def test_all_inherits_from_every_child_only_when_all_succeed() -> None:
    """Concurrent `all` takes in each child's changes when all succeed ("the value of all
    fibers in inherited when running many effects with collectAllPar"), none when one
    fails ("nothing gets inherited with a failure in zipPar")."""

    @gen
    def program():
        count = yield from FiberRef.make(0, fork=lambda _: 0, join=lambda a, b: a + b)
        bump = count.update(lambda n: n + 1)
        yield from effects.all([bump] * 50, concurrency="unbounded")
        after_success = yield from count.get
        failing = [bump, bump.then(effects.fail(Oops()))]
        yield from effects.all(failing, concurrency="unbounded").ignore()
        return after_success, (yield from count.get)

    assert effects.run_sync(program()) == (50, 50)


def test_race_inherits_from_the_winner() -> None:
    """race takes in the winner's changes ("its value is inherited after simple race") and
    none when both lose ("its value is not inherited after a race of losers")."""

    @gen
    def program():
        ref = yield from FiberRef.make("initial")
        yield from effects.race(ref.set("update1"), ref.set("update2").then(effects.never()))
        won = yield from ref.get
        yield from ref.set("initial")
        loser1 = ref.set("update1").then(effects.fail(Oops()))
        loser2 = ref.set("update2").then(effects.fail(Oops()))
        yield from effects.race(loser1, loser2).exit()
        return won, (yield from ref.get)

    assert effects.run_sync(program()) == ("update1", "initial")


def test_locally_sets_then_restores() -> None:
    """locally runs an effect with a value and puts the old one back, also after a failure
    ("locally - restores original value"); locallyWith derives the value."""
    ref = FiberRef(1)

    @gen
    def program():
        inside = yield from ref.locally(2)(ref.get)
        derived = yield from ref.locally_with(lambda n: n + 10, ref.get)
        failed = yield from ref.locally(3, effects.die(ValueError("x"))).exit()
        yield from ref.set(4)
        nested = yield from ref.locally(5)(ref.locally(6)(ref.get).zip(ref.get))
        return inside, derived, failed.is_success(), nested, (yield from ref.get)

    assert effects.run_sync(program()) == (2, 11, False, (6, 5), 4)
    assert effects.run_sync(ref.get) == 1  # each run starts from the initial value


def test_locally_is_seen_by_children_forked_inside() -> None:
    """A child forked inside `locally` gets the local value, and the parent's value is put
    back after ("locally - restores parent's value")."""
    ref = FiberRef("initial")

    @gen
    def program():
        child = yield from ref.locally("update")(effects.fork(ref.get))
        local = yield from child.join()
        return local, (yield from ref.get)

    assert effects.run_sync(program()) == ("update", "initial")
