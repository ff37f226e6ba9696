"""What keeps a query a function of its arguments, its caller and the documents it read, so
that its result may be cached and shared: the time it sees is frozen, unless it asks for
real time, and its randomness is seeded for the call.

As Convex's queries (`crates/isolate/src/environment/udf/phase.rs`): each execution has a
timestamp of its own and a generator seeded for it, and records whether it observed the
time (`observed_time`); the query cache then serves a time-dependent result only while it is
young (`crates/application/src/cache/mod.rs`, MAX_CACHE_AGE). As Confect's (TypeScript)
queries, what the runtime reads the clock for (log and span times, schedules: the service's
`now()`) gets the frozen time and observes nothing; only the effect `effects.clock.now()`
(the service's `current_time()`) reads real time, and marks the result time-dependent.

A query call is one run, however many attempts it takes (run again because a commit raced
its reads, or moved off the event loop): every attempt sees the same frozen time and draws
the same numbers, so running again changes nothing but what it read. A nested query (a
`QueryRunner` call) is part of its caller's run: it sees its caller's clock and generator.
"""

from __future__ import annotations

import random

from confect.runtime.layers import ServiceMap
from effects import Effect
from effects.clock import Clock, ClockService
from effects.effect import sync
from effects.random import Random, RandomService

_SEEDS = random.Random()  # seeded from the operating system; draws cost next to nothing


class QueryRun:
    """One query call: its frozen time (when its first attempt began, by the clock in
    force), its generator's seed, and the clock and generator of its current attempt."""

    __slots__ = ("clock", "frozen_at", "random", "seed")

    def __init__(self) -> None:
        self.seed = _SEEDS.getrandbits(64)
        self.frozen_at: float | None = None
        self.clock: QueryClock | None = None
        self.random: RandomService | None = None

    def next_attempt(self) -> None:
        """An attempt begins: it gets a clock and a generator of its own (seeded alike)."""
        self.clock = self.random = None

    def lay(self, services: ServiceMap) -> None:
        """Put the current attempt's clock and generator into a call's `services` (made,
        on the attempt's first call, from the clock in `services` and, unless `services`
        has a generator (a test's), the run's seed)."""
        clock, generator = self.clock, self.random
        if clock is None or generator is None:
            base: ClockService = services.get(Clock, Clock.default)
            if self.frozen_at is None:
                self.frozen_at = base.now()
            clock = self.clock = QueryClock(base, self.frozen_at)
            generator = self.random = services.get(Random) or RandomService(self.seed)
        services[Clock] = clock
        services[Random] = generator

    @property
    def observed_time(self) -> bool:
        """Whether the current attempt read real time (`effects.clock.now()`)."""
        return self.clock is not None and self.clock.observed_time


class QueryClock:
    """The `Clock` of a query attempt: `now()` is the time its call began; `current_time()`
    (`effects.clock.now()`) is the time of `clock`, and marks the attempt as having
    `observed_time`. Sleeping sleeps on `clock`."""

    __slots__ = ("_clock", "_frozen_at", "observed_time")

    def __init__(self, clock: ClockService, frozen_at: float) -> None:
        self._clock = clock
        self._frozen_at = frozen_at
        self.observed_time = False

    def now(self) -> float:
        return self._frozen_at

    def current_time(self) -> Effect[float]:
        return sync(self._observe).then(self._clock.current_time())

    def _observe(self) -> None:
        self.observed_time = True

    def sleep(self, seconds: float) -> Effect[None]:
        return self._clock.sleep(seconds)
