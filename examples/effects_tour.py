"""A five-minute tour of `effects`: run with `make example`."""

from __future__ import annotations

import effects
from effects import (
    Deferred,
    EffectGen,
    Layer,
    Queue,
    Ref,
    Schedule,
    Tag,
    TaggedError,
    TestClock,
    gen,
)


# 1. Typed errors are frozen attrs classes with a `_tag`.
class UserNotFound(TaggedError):
    user_id: str


# 2. A service and its key.
class Users:
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names


class UsersTag(Tag["UsersTag", Users]): ...


# 3. Effects from generators: `yield from` an effect, a tag, or an error.
# (Pyright infers a generator's type; in strict mode, annotate it: `EffectGen[A, E, R]`.)
@gen
def find_name(user_id: str) -> EffectGen[str, UserNotFound, UsersTag]:
    users = yield from UsersTag
    if user_id not in users.names:
        return (yield from UserNotFound(user_id=user_id))
    return users.names[user_id]


@gen
def greeting(user_id: str) -> EffectGen[str, UserNotFound, UsersTag]:
    name = yield from find_name(user_id)
    return f"Hello, {name}!"


def main() -> None:
    users = Layer.succeed(UsersTag, Users({"u1": "Ada", "u2": "Grace"}))

    # Run it: services come from a layer.
    print(effects.run_sync(greeting("u1").provide(users)))

    # Handle a typed error by its class.
    fallback = greeting("nobody").catch_tag(
        UserNotFound, lambda e: effects.succeed(f"(no user {e.user_id})")
    )
    print(effects.run_sync(fallback.provide(users)))

    # Or look at the whole outcome.
    print(effects.run_sync_exit(greeting("nobody").provide(users)))

    # Concurrency: run many at once, results in order.
    everyone = effects.all([greeting("u1"), greeting("u2")], concurrency="unbounded")
    print(effects.run_sync(everyone.provide(users)))

    # Retries on a schedule, with a test clock: no real waiting.
    attempts: list[float] = []

    @gen
    def flaky() -> EffectGen[str, UserNotFound]:
        attempts.append((yield from effects.clock.now()))
        if len(attempts) < 3:
            yield from UserNotFound(user_id="not yet")
        return "third time lucky"

    @gen
    def with_clock() -> EffectGen[str, UserNotFound]:
        fiber = yield from effects.fork(
            flaky().retry(Schedule.exponential(1.0).compose(Schedule.recurs(5)))
        )
        yield from TestClock.adjust(60)
        return (yield from fiber.join())

    print(effects.run_sync(with_clock().provide(TestClock.layer())), "at times", attempts)

    # Primitives: a queue of jobs, a shared total, a deferred the worker completes.
    @gen
    def worker(jobs: Queue[int], total: Ref[int], done: Deferred[int]) -> EffectGen[None]:
        while (job := (yield from jobs.take)) >= 0:
            yield from total.update(lambda t: t + job)
        yield from done.succeed((yield from total.get))

    @gen
    def pipeline() -> EffectGen[int]:
        jobs = yield from Queue[int].bounded(2)
        total = yield from Ref.make(0)
        done = yield from Deferred[int].make()
        yield from effects.fork(worker(jobs, total, done))
        yield from jobs.offer_all([1, 2, 3, -1])
        return (yield from done.await_())

    print("total of the jobs:", effects.run_sync(pipeline()))


if __name__ == "__main__":
    main()
