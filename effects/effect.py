"""`Effect[A, E, R]`: an immutable description of work, and the constructors that make one.

An effect needs services `R`, may fail with a typed error `E`, and succeeds with `A`.
Nothing happens until a runtime (`effects.run_sync`, `await effects.run(...)`) runs it,
and running the same effect twice runs it twice. Compose effects with `Effect`'s methods,
`@gen` generator functions or `pipe`.

The nodes these build and the interpreter that runs them live in `effects._internal`.
"""

from effects._internal.constructors import (
    attempt,
    catch_tag,
    gen,
    promise,
    provide_service,
    suspend,
    sync,
    try_promise,
)
from effects._internal.core import Effect, die, fail, fail_cause, succeed
from effects._internal.primitives import (
    Canceler,
    Resume,
    async_,
    interrupt,
    interruptible,
    never,
    uninterruptible,
    uninterruptible_mask,
    with_fiber,
    yield_now,
)

__all__ = [
    "Canceler",
    "Effect",
    "Resume",
    "async_",
    "attempt",
    "catch_tag",
    "die",
    "fail",
    "fail_cause",
    "gen",
    "interrupt",
    "interruptible",
    "never",
    "promise",
    "provide_service",
    "succeed",
    "suspend",
    "sync",
    "try_promise",
    "uninterruptible",
    "uninterruptible_mask",
    "with_fiber",
    "yield_now",
]
