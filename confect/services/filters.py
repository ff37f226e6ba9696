"""Filters: `q` in `.filter(lambda q: ...)`, Convex's filter expressions over documents."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, cast

import attrs

from confect.engine.interface import field_value
from confect.model.errors import ValidationError
from confect.model.validators import FieldEncoder, encode_any
from confect.model.values import MISSING, Value, encode_value, type_name

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@attrs.frozen
class Field:
    """A reference to a document field (dotted path) inside a filter."""

    path: str


Expression = Callable[[Mapping[str, Value]], Any]
Operand = Callable[[Mapping[str, Value]], Any]


@attrs.frozen
class Arithmetic:
    """`q.add(a, b)` and its kin: evaluated on each document with Convex's rules (int64
    with int64, float64 with float64, nothing else). `path` is the field the result
    derives from, so literals beside it are encoded as that field stores its values."""

    name: str
    apply: Callable[..., Any]
    operands: tuple[Operand, ...]
    path: str | None

    def __call__(self, document: Mapping[str, Value]) -> Any:
        return self.apply(*(operand(document) for operand in self.operands))


class FilterBuilder:
    """`q` in `.filter(lambda q: q.and_(q.eq(q.field("a"), 1), q.gt(q.field("b"), 2)))`.

    As Convex's filters: comparisons order values as indexes do (a missing field is
    `undefined`, below everything: `q.eq(q.field("f"), MISSING)` matches the documents
    without `f`, and so does `None` where `f` is optional and cannot hold `null`); `add`, `sub`, `mul`, `div`, `mod` take two int64s
    (checked: overflow and division by zero fail) or two float64s (IEEE; `div` and `mod`
    truncate toward zero), and `neg` one; `and_`, `or_`, `not_` take booleans. Anything
    else fails the query with a `ValidationError` at path `filter`."""

    def __init__(self, encode: FieldEncoder) -> None:
        self._encode = encode

    @staticmethod
    def field(path: str) -> Field:
        return Field(path)

    def eq(self, a: Any, b: Any) -> Expression:
        return self._compare(a, b, lambda c: c == 0)

    def neq(self, a: Any, b: Any) -> Expression:
        return self._compare(a, b, lambda c: c != 0)

    def lt(self, a: Any, b: Any) -> Expression:
        return self._compare(a, b, lambda c: c < 0)

    def lte(self, a: Any, b: Any) -> Expression:
        return self._compare(a, b, lambda c: c <= 0)

    def gt(self, a: Any, b: Any) -> Expression:
        return self._compare(a, b, lambda c: c > 0)

    def gte(self, a: Any, b: Any) -> Expression:
        return self._compare(a, b, lambda c: c >= 0)

    def add(self, a: Any, b: Any) -> Arithmetic:
        return self._arithmetic("add", a, b, _checked(lambda x, y: x + y), lambda x, y: x + y)

    def sub(self, a: Any, b: Any) -> Arithmetic:
        return self._arithmetic("subtract", a, b, _checked(lambda x, y: x - y), lambda x, y: x - y)

    def mul(self, a: Any, b: Any) -> Arithmetic:
        return self._arithmetic("multiply", a, b, _checked(lambda x, y: x * y), lambda x, y: x * y)

    def div(self, a: Any, b: Any) -> Arithmetic:
        return self._arithmetic("divide", a, b, _checked(_int_div), _float_div)

    def mod(self, a: Any, b: Any) -> Arithmetic:
        return self._arithmetic("mod", a, b, _checked(_int_mod), _float_mod)

    def neg(self, a: Any) -> Arithmetic:
        operand = self._operand(a, None)
        return Arithmetic("negate", _negate, (operand,), _path_of(a))

    def and_(self, *parts: Any) -> Expression:
        tests = [self._boolean(part) for part in parts]
        return lambda document: all(test(document) for test in tests)

    def or_(self, *parts: Any) -> Expression:
        tests = [self._boolean(part) for part in parts]
        return lambda document: any(test(document) for test in tests)

    def not_(self, part: Any) -> Expression:
        test = self._boolean(part)
        return lambda document: not test(document)

    def _compare(self, a: Any, b: Any, test: Callable[[int], bool]) -> Expression:
        left, right = self._operand(a, b), self._operand(b, a)

        def evaluate(document: Mapping[str, Value]) -> bool:
            ka, kb = encode_value(left(document)), encode_value(right(document))
            return test((ka > kb) - (ka < kb))

        return evaluate

    def _arithmetic(
        self,
        name: str,
        a: Any,
        b: Any,
        ints: Callable[[int, int], int | None],
        floats: Callable[[float, float], float],
    ) -> Arithmetic:
        def apply(x: Any, y: Any) -> Any:
            if type(x) is int and type(y) is int:
                result = ints(x, y)
                if result is None:
                    if y == 0:
                        raise _eval_error(f"Cannot {name} {x} by zero")
                    raise _eval_error(
                        f"Cannot {name} {x} and {y}: the result is out of range for Int64"
                    )
                return result
            if type(x) is float and type(y) is float:
                return floats(x, y)
            raise _eval_error(
                f"Cannot {name} {_show(x)} (type {_type(x)}) and {_show(y)} (type {_type(y)})"
            )

        operands = (self._operand(a, b), self._operand(b, a))
        return Arithmetic(name, apply, operands, _path_of(a) or _path_of(b))

    def _boolean(self, part: Any) -> Expression:
        operand = self._operand(part, None)

        def test(document: Mapping[str, Value]) -> bool:
            value = operand(document)
            if type(value) is not bool:
                raise _eval_error(
                    f"Cannot use value {_show(value)} (type {_type(value)}) as a Boolean"
                )
            return value

        return test

    def _operand(self, x: Any, other: Any) -> Operand:
        if isinstance(x, Field):
            path = x.path
            return lambda document: field_value(document, path)
        if callable(x):  # an expression, arithmetic included
            return cast(Operand, x)
        beside = _path_of(other)
        if beside is not None:
            value = self._encode(beside, x)
        else:
            value = MISSING if x is MISSING else encode_any(x)
        return lambda document: value


def _path_of(x: Any) -> str | None:
    return x.path if isinstance(x, (Field, Arithmetic)) else None


def _checked(op: Callable[[int, int], int | None]) -> Callable[[int, int], int | None]:
    def checked(x: int, y: int) -> int | None:
        result = op(x, y)
        return result if result is not None and _INT64_MIN <= result <= _INT64_MAX else None

    return checked


def _int_div(x: int, y: int) -> int | None:
    if y == 0:
        return None
    quotient = abs(x) // abs(y)  # truncating toward zero, as Rust's i64 division
    return quotient if (x < 0) == (y < 0) else -quotient


def _int_mod(x: int, y: int) -> int | None:
    if y == 0:
        return None
    remainder = abs(x) % abs(y)  # the sign of the dividend, as Rust's i64 remainder
    return remainder if x >= 0 else -remainder


def _float_div(x: float, y: float) -> float:
    if y == 0.0:
        if x == 0.0 or math.isnan(x):
            return math.nan
        return math.copysign(math.inf, x) * math.copysign(1.0, y)
    return x / y


def _float_mod(x: float, y: float) -> float:
    if y == 0.0 or math.isinf(x):
        return math.nan
    return math.fmod(x, y)


def _negate(x: Any) -> Any:
    if type(x) is int:
        if x == _INT64_MIN:
            raise _eval_error(f"Cannot negate {x}: the result is out of range for Int64")
        return -x
    if type(x) is float:
        return -x
    raise _eval_error(f"Cannot negate {_show(x)} (type {_type(x)})")


def _type(value: Any) -> str:
    return "undefined" if value is MISSING else type_name(value)


def _show(value: Any) -> str:
    return "undefined" if value is MISSING else repr(value)


def _eval_error(message: str) -> ValidationError:
    return ValidationError(path="filter", message=message)
