# The loop handles nodes and frames of many kinds through one untyped path on purpose
# (speed); pyright's loop inference turns that Any into Unknown, so only the
# Unknown-reporting rules are relaxed here. Everything else stays strict.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false, reportUnknownArgumentType=false
"""The interpreter: the loop that runs a fiber's effect on an explicit stack.

`run_fiber` is one long function on purpose, the only one in effects: it is what every
effect costs. Each step a program takes many times (succeed, flat_map, map, fold, catch,
gen, fail, service access, sync, suspend) is a branch of its loop, the commonest first,
and generators are driven by a nested loop that answers `succeed` and service access
without touching the stack. A function call per step would add about a fifth to a step
(a generator step costs about 0.3 µs, a call 0.05 to 0.1; benchmarks/effects_bench.py
measures the steps). Everything rarer is a `Primitive` that `evaluate`s itself, and what
primitives push on the stack are `Frame`s that put back what they changed; the loop calls
each kind in one branch, so a new primitive needs no change here
(effects/_internal/primitives.py).

The loop has three parts. EVAL reduces `cur` to a value, a cause, or frames pushed on the
stack; RETURN feeds `value` to the frames it pops; FAILURE unwinds them with `cause` until
one handles it. The stack holds effect nodes waiting for a result (`FlatMap`, `Map`,
`Fold`, `Catch`), generator objects and `Frame`s, so deep chains and deep recursion never
touch Python's recursion limit. `ctx` is `fiber.context`, read again after any primitive
or frame (only they change it). `budget` counts down the operations left before the fiber
lets others run (`MaxOpsBeforeYield`).
"""

from __future__ import annotations

import types
from typing import TYPE_CHECKING, Any

from effects._internal.core import (
    OP_CATCH,
    OP_FAIL,
    OP_FLAT_MAP,
    OP_FOLD,
    OP_FRAME,
    OP_GEN,
    OP_MAP,
    OP_PRIMITIVE,
    OP_SERVICE,
    OP_SUCCEED,
    OP_SUSPEND,
    OP_SYNC,
    Effect,
    Fold,
    Succeed,
    fail_cause,
    recoverable,
    succeed,
)
from effects._internal.primitives import uninterruptible
from effects._internal.scheduler import MaxOpsBeforeYield
from effects.cause import Cause, Die, Fail, Sequential
from effects.context import Unavailable, service_default
from effects.errors import FailureValue, MissingServiceError, TaggedError
from effects.exit import Failure, Success

if TYPE_CHECKING:
    from effects._internal.fiber import FiberRuntime

_GeneratorType = types.GeneratorType
_new = object.__new__
_MISSING: Any = object()


def run_fiber(fiber: FiberRuntime[Any, Any], cur: Any) -> None:
    """Run `fiber` from `cur` until it ends or suspends (the module docstring says how)."""
    stack: list[Any] = fiber.stack
    ctx: dict[Any, Any] = fiber.context
    budget: int = ctx.get(MaxOpsBeforeYield, MaxOpsBeforeYield.default)
    value: Any = None
    cause: Any = None
    frame: Any
    failed: Any
    instr: Any
    g: Any
    while True:
        # EVAL
        if cur is not None:
            budget -= 1
            if budget <= 0:
                fiber.scheduler.schedule(fiber, cur)
                return
            try:
                op = cur._op
            except AttributeError:
                op = -1
            if op == OP_SUCCEED:
                value = cur.value
            elif 0 < op <= OP_CATCH:  # FLAT_MAP, MAP, FOLD, CATCH: push, run `first`
                stack.append(cur)
                cur = cur.first
                continue
            elif op == OP_GEN:
                try:
                    g = cur.fn(*cur.args, **cur.kwargs)
                except Exception as exc:
                    cause = cause_of(exc)
                else:
                    if type(g) is _GeneratorType:
                        stack.append(g)
                        value = None
                    elif isinstance(g, Effect):
                        cur = g
                        continue
                    else:
                        cause = Die(
                            TypeError(
                                f"@gen expects a generator function, got {cur!r} returning {g!r}"
                            )
                        )
            elif op == OP_FAIL:
                cause = cur.cause
            elif op == OP_SERVICE:
                value = ctx.get(cur, _MISSING)
                if value is _MISSING:
                    try:
                        value = service_default(cur)
                    except MissingServiceError as exc:
                        cause = Die(exc)
                elif value.__class__ is Unavailable:
                    cause = Die(value.make_error())
            elif op == OP_SYNC:
                try:
                    value = cur.thunk()
                except Exception as exc:
                    cause = cause_of(exc)
            elif op == OP_SUSPEND:
                try:
                    cur = cur.thunk()
                except Exception as exc:
                    cause = cause_of(exc)
                else:
                    continue
            elif op == OP_PRIMITIVE:
                try:
                    cur = cur.evaluate(fiber)
                except Exception as exc:
                    cause = cause_of(exc)
                else:
                    if cur is None:
                        return  # suspended: its scheduler runs it on
                    ctx = fiber.context
                    continue
            else:
                cause = Die(TypeError(f"not an effect: {cur!r}"))
            cur = None

        if cause is None:
            # RETURN
            while stack:
                frame = stack.pop()
                if type(frame) is _GeneratorType:
                    send = frame.send
                    while True:
                        try:
                            instr = send(value)
                        except StopIteration as stop:
                            value = stop.value
                            break
                        except Exception as exc:
                            cause = cause_of(exc)
                            break
                        try:
                            op = instr._op
                        except AttributeError:
                            stack.append(frame)
                            cur = fail_cause(
                                Die(
                                    TypeError(
                                        f"a @gen function yielded {instr!r}; use `yield from` with an effect"
                                    )
                                )
                            )
                            break
                        if op == OP_SUCCEED:
                            value = instr.value
                        elif op == OP_SERVICE:
                            try:
                                value = ctx[instr]
                            except KeyError:
                                stack.append(frame)
                                cur = instr
                                break
                            if value.__class__ is Unavailable:  # EVAL makes it the defect
                                stack.append(frame)
                                cur = instr
                                break
                        elif 0 < op <= OP_CATCH:  # push it here: one trip less through EVAL
                            stack.append(frame)
                            stack.append(instr)
                            cur = instr.first
                            break
                        else:
                            stack.append(frame)
                            cur = instr
                            break
                        budget -= 1
                        if budget <= 0:
                            stack.append(frame)
                            cur = succeed(value)
                            break
                    if cur is not None or cause is not None:
                        break
                    continue
                fop = frame._op
                if fop == OP_FLAT_MAP:
                    try:
                        cur = frame.f(value)
                    except Exception as exc:
                        cause = cause_of(exc)
                        break
                    if type(cur) is Succeed:  # answer inline, skip a trip through EVAL
                        value = cur.value
                        cur = None
                        continue
                    break
                if fop == OP_MAP:
                    try:
                        value = frame.f(value)
                    except Exception as exc:
                        cause = cause_of(exc)
                        break
                elif fop == OP_FOLD:
                    try:
                        cur = frame.on_success(value)
                    except Exception as exc:
                        cause = cause_of(exc)
                    break
                elif fop == OP_FRAME:
                    cur = frame.on_success(fiber)
                    ctx = fiber.context
                    if cur is not None:
                        break
            else:
                done = _new(Success)
                done.value = value
                fiber.end(done)
                return
            continue

        # FAILURE
        while stack:
            frame = stack.pop()
            if type(frame) is _GeneratorType:
                if cause.is_interrupted_only() or (
                    fiber.interrupt_delivered and fiber.interruptible
                ):
                    cause, cur = interrupt_generator(frame, cause)
                    if cur is None:
                        continue
                    cause = None
                    break
                thrown = exception_for(cause)
                try:
                    instr = frame.throw(thrown)
                except StopIteration as stop:
                    value = stop.value
                    cause = None
                    break
                except Exception as exc:
                    if exc is not thrown:
                        cause = cause_of(exc)
                    continue
                cause = None
                stack.append(frame)
                cur = (
                    instr
                    if isinstance(instr, (Effect, type))
                    else fail_cause(Die(TypeError(f"a @gen function yielded {instr!r}")))
                )
                break
            fop = frame._op
            if OP_FOLD <= fop <= OP_CATCH and fiber.interrupt_delivered and fiber.interruptible:
                # an interrupted fiber runs no handler outside an uninterruptible region
                cause = cause.strip_failures()
                continue
            if fop == OP_CATCH:
                if type(cause) is Fail:
                    failed = cause
                else:  # a failure among others, or none (core.recoverable)
                    failed, cause = recoverable(cause, frame.tags is None)
                if failed is not None and (
                    frame.tags is None or isinstance(failed.error, frame.tags)
                ):
                    try:
                        cur = frame.handler(failed.error)
                    except Exception as exc:
                        cause = cause_of(exc)
                        continue
                    cause = None
                    if type(cur) is Succeed:  # recovered with a value: return it at once
                        value = cur.value
                        cur = None
                    break
            elif fop == OP_FOLD:
                try:
                    cur = frame.on_failure(cause)
                except Exception as exc:
                    cause = cause_of(exc)
                    continue
                cause = None
                break
            elif fop == OP_FRAME:
                cause = frame.on_failure(fiber, cause)
                ctx = fiber.context
        else:
            fiber.end(Failure(cause))
            return


def interrupt_generator(
    g: Any, cause: Cause[Any]
) -> tuple[Cause[Any], Effect[Any, Any, Any] | None]:
    """Raise `GeneratorExit` in the interrupted generator `g` where it waits, as `close()`
    would, but let its `finally` blocks yield effects: return the cause to unwind on with
    and, if `g` yielded, the effect that runs the rest of `g` uninterruptibly and then
    fails with that cause. An exception escaping the generator is a defect after `cause`."""
    try:
        instr = g.throw(GeneratorExit())
    except (GeneratorExit, StopIteration):
        return cause, None
    except Exception as exc:
        return Sequential(cause, Die(exc)), None
    return cause, uninterruptible(_finish_generator(g, instr, cause))


def _finish_generator(g: Any, instr: Any, cause: Cause[Any]) -> Effect[Any, Any, Any]:
    """Run what `g` yielded while it finishes after an interruption, then fail with `cause`."""

    def resume(send: Any, thrown: BaseException | None) -> Effect[Any, Any, Any]:
        try:
            nxt = g.send(send) if thrown is None else g.throw(thrown)
        except (GeneratorExit, StopIteration):
            return fail_cause(cause)
        except Exception as exc:
            return fail_cause(Sequential(cause, Die(exc)))
        return _finish_generator(g, nxt, cause)

    def on_failure(failed: Cause[Any]) -> Effect[Any, Any, Any]:
        return resume(None, exception_for(failed))

    def on_success(value: Any) -> Effect[Any, Any, Any]:
        return resume(value, None)

    node: Any = _new(Fold)  # a tag (a service access) is no Effect instance: build the node
    node.first = (
        instr
        if isinstance(instr, (Effect, type))
        else fail_cause(Die(TypeError(f"a @gen function yielded {instr!r}")))
    )
    node.on_failure = on_failure
    node.on_success = on_success
    return node


def cause_of(exc: BaseException) -> Cause[Any]:
    """The cause for an exception raised by user code: a typed failure for a
    `TaggedError`, else a defect."""
    return Fail(exc) if isinstance(exc, TaggedError) else Die(exc)


def exception_for(cause: Cause[Any]) -> BaseException:
    """The exception that stands for `cause` where Python code meets it (a generator, a
    `run_sync` caller): the typed error, the defect, or the cause squashed to one."""
    if type(cause) is Fail:
        error = cause.error
        return error if isinstance(error, BaseException) else FailureValue(error)
    if type(cause) is Die:
        return cause.defect
    return cause.squash()
