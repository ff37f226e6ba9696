"""`FiberRef`: Effect's `FiberRef` semantics (mirrors packages/effect/test/FiberRef.test.ts)."""

from __future__ import annotations

import effects
from effects import FiberRef, gen


def test_get_returns_the_initial_value() -> None:
    """A FiberRef never set has its initial value ("get returns the current value")."""
    ref = FiberRef("initial")
    assert effects.run_sync(ref.get) == "initial"


def test_set_update_modify() -> None:
    """set, update, getAndSet, modify and reset change the current fiber's value ("get
    returns the correct value for a child", "getAndSet", "modify", "reset")."""

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


def test_children_inherit_a_copy_at_fork() -> None:
    """A child starts with its parent's value at fork; what either sets later the other
    does not see ("initial value is inherited on fork", "child does not see parent's
    later changes")."""
    ref = FiberRef("root")

    @gen
    def program():
        yield from ref.set("parent")
        started = yield from effects.fork(ref.get)
        changer = yield from effects.fork(ref.set("child").then(ref.get))
        yield from effects.yield_now()
        child_value = yield from changer.await_()
        yield from ref.set("parent later")
        return (yield from started.join()), child_value.value, (yield from ref.get)

    assert effects.run_sync(program()) == ("parent", "child", "parent later")


def test_fork_function_makes_the_childs_copy() -> None:
    """`fork` computes the child's value from the parent's ("fork function is applied on
    fork")."""

    @gen
    def program():
        ref = yield from FiberRef.make(0, fork=lambda n: n + 1)
        yield from ref.set(10)
        child = yield from effects.fork(ref.get)
        grandchild = yield from effects.fork(effects.fork(ref.get).flat_map(lambda f: f.join()))
        return (yield from child.join()), (yield from grandchild.join()), (yield from ref.get)

    assert effects.run_sync(program()) == (11, 12, 10)


def test_join_takes_in_the_childs_changes() -> None:
    """Joining a child that changed the value gives the parent `join(parent, child)`: the
    child's value by default ("its value is inherited after a simple race"/"join function
    is applied on join"); an unchanged child leaves the parent's value."""

    @gen
    def program():
        plain = yield from FiberRef.make("a")
        summed = yield from FiberRef.make(1, join=lambda parent, child: parent + child)
        quiet = yield from FiberRef.make("mine")
        yield from quiet.set("parent")
        child = yield from effects.fork(plain.set("b").then(summed.set(5)))
        untouched = yield from effects.fork(effects.succeed(None))
        yield from child.join()
        yield from quiet.set("parent again")
        yield from untouched.join()
        return (yield from plain.get), (yield from summed.get), (yield from quiet.get)

    assert effects.run_sync(program()) == ("b", 6, "parent again")


def test_a_failed_child_gives_nothing_back() -> None:
    """A child that fails is not inherited from: join fails and the parent keeps its value."""

    @gen
    def program():
        ref = yield from FiberRef.make(0)
        child = yield from effects.fork(ref.set(9).then(effects.die(ValueError("x"))))
        exit_ = yield from child.join().exit()
        return exit_.is_success(), (yield from ref.get)

    assert effects.run_sync(program()) == (False, 0)


def test_locally_sets_then_restores() -> None:
    """locally runs an effect with a value and puts the old one back, also after a failure
    ("locally restores the original value", "locally restores value in case of failure");
    locallyWith derives the value."""
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
    """A child forked inside `locally` inherits the local value."""
    ref = FiberRef("outer")

    @gen
    def forked():
        child = yield from effects.fork(ref.get)
        return (yield from child.join())

    assert effects.run_sync(ref.locally("inner")(forked())) == "inner"
    assert effects.run_sync(effects.all([ref.get, ref.locally("x", ref.get)])) == ["outer", "x"]
