"""`Effect[A, E, R]`: an immutable description of work, and the constructors that make one.

An effect needs services `R`, may fail with a typed error `E`, and succeeds with `A`.
Nothing happens until a runtime (`effects.run_sync`, `await effects.run(...)`) runs it,
and running the same effect twice runs it twice. Compose effects with `Effect`'s methods,
`@gen` generator functions or `pipe`.

The nodes these build and the interpreter that runs them live in `effects._internal`.
"""

from collections.abc import Generator
from typing import Any

from typing_extensions import TypeAliasType, TypeVar

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
    check_interruptible,
    interrupt,
    interruptible,
    never,
    uninterruptible,
    uninterruptible_mask,
    with_fiber,
    yield_now,
)

A = TypeVar("A")
E = TypeVar("E", default=Any)
R = TypeVar("R", default=Any)

EffectGen = TypeAliasType("EffectGen", Generator[Effect[Any, E, R], Any, A], type_params=(A, E, R))
"""The type of a `@gen` generator that returns `A`, failing with `E` and needing `R`
(`Any` where not given): `def find(id: str) -> EffectGen[User]`, or with its errors and
services checked, `EffectGen[User, NotFound, Users]`.

Pyright infers the type of a generator that has no annotation, but in strict mode it
reports one that uses `yield from` as partially unknown (it does not infer the type sent
into a generator: microsoft/pyright#5181), so strictly checked code annotates its `@gen`
functions, at least with their result type."""

__all__ = [
    "Canceler",
    "Effect",
    "EffectGen",
    "Resume",
    "async_",
    "attempt",
    "catch_tag",
    "check_interruptible",
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
