"""Hypothesis strategies for what clients send: Convex values and their wire JSON
("convex_encoded_json"), valid and not, as JSON text (so that what `json.dumps` would never
write, `NaN` or a lone surrogate escape, can be sent too).

Convex's rules (convex-backend `crates/value/src/json/mod.rs`, `crates/value/src/size.rs`,
`crates/convex/sync_types/src/identifier.rs`): an `$integer` is the strict base64 of exactly
8 bytes; a `$float` likewise, and only for NaN, ±Infinity and ±0 (any other float must be a
JSON number); `$bytes` is strict base64; every other field name starting with `$` is
refused; JSON numbers are float64 and must fit one; strings are Unicode text; a value
nests at most 64 levels (a document 16); the messages are parsed by serde_json, which
refuses `NaN`, `Infinity`, lone surrogate escapes and nesting past 128 levels.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from confect.model.values import MAX_INT64, MIN_INT64, Value, to_wire

DEPTH = 4
"""How deep the generated valid values nest: well inside every limit (a document adds one
level), so that each of them must be accepted."""

field_names = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12).filter(
    lambda name: not name.startswith(("$", "_"))
)
"""Field names every engine must take: non-control ASCII, not system (`_`) nor reserved (`$`)."""

leaves: st.SearchStrategy[Value] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(MIN_INT64, MAX_INT64),  # an int64
    st.floats(),  # a float64: NaN, ±Infinity and -0 included
    st.text(st.characters(exclude_categories=("Cs",)), max_size=24),  # NUL included
    st.binary(max_size=24),
)


def values(depth: int = DEPTH) -> st.SearchStrategy[Value]:
    """Convex values nesting at most `depth` arrays or objects."""
    if depth == 0:
        return leaves
    inner = values(depth - 1)
    return st.one_of(
        leaves,
        st.lists(inner, max_size=3),
        st.dictionaries(field_names, inner, max_size=3),
    )


def wire_text(value: Value) -> str:
    """The convex_encoded_json text of a valid value (as the official clients write it)."""
    return json.dumps(to_wire(value), allow_nan=False)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _nan_spelling(bits: int) -> str:
    return json.dumps({"$float": _b64(struct.pack("<Q", bits))})


valid_wire: st.SearchStrategy[tuple[str, Value]] = st.one_of(
    values().map(lambda value: (wire_text(value), value)),
    st.sampled_from(
        [0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001, 0x7FFFFFFFFFFFFFFF]
    ).map(lambda bits: (_nan_spelling(bits), math.nan)),  # NaN spelled with any payload
    st.integers(-(10**30), 10**30).map(lambda n: (str(n), float(n))),  # a JSON number is a float
    st.sampled_from(
        [
            ("-0.0", -0.0),
            ("1E2", 100.0),
            ("2.5e-3", 0.0025),
            ('"\\u00e9\\u0000"', "é\x00"),
            ('"\\ud83d\\ude00"', "😀"),  # a surrogate pair is one character
        ]
    ),
)
"""(JSON text, the value it means): what the official clients send, and other spellings of
valid values; every decoder must take each and hand back that very value."""

_not_a_string = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.lists(st.none(), max_size=1)
)
_not_base64 = st.sampled_from(["!!!!", "A", "====", "AAAA AAAA AAA=", "ÀÀÀÀ", "AA\nAAAAAAAA="])


def _wrong_length(size: int) -> st.SearchStrategy[str]:
    return st.binary(max_size=12).filter(lambda data: len(data) != size).map(_b64)


# Convex's decoder takes a `$float` of NaN, ±Infinity or either zero (value/src/json/mod.rs),
# and refuses one of a normal or subnormal number
_ordinary_float = st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != 0)

bad_specials: st.SearchStrategy[Any] = st.one_of(
    st.builds(
        lambda payload: {"$integer": payload}, _not_a_string | _not_base64 | _wrong_length(8)
    ),
    st.builds(lambda payload: {"$float": payload}, _not_a_string | _not_base64 | _wrong_length(8)),
    st.builds(lambda f: {"$float": _b64(struct.pack("<d", f))}, _ordinary_float),
    st.builds(lambda payload: {"$bytes": payload}, _not_a_string | _not_base64),
    st.builds(
        lambda name, value: {"$" + name: value},
        st.sampled_from(["", "foo", "set", "map", "id", "Integer", "integer "]),
        st.none() | st.integers(0, 3) | st.just([]),
    ),
    st.builds(
        lambda key, name: {key: "AAAAAAAAAAA=", "$" + name: 1},
        st.sampled_from(["$integer", "$float", "$bytes", "plain"]),
        st.sampled_from(["integer", "other"]),
    ),
)
"""Valid JSON that is no Convex value: a special object with a wrong payload, a reserved
(`$`) field name."""

too_deep: st.SearchStrategy[str] = st.one_of(
    st.integers(100, 120).map(lambda n: "[" * n + "]" * n),
    st.integers(100, 120).map(lambda n: '{"a":' * n + "null" + "}" * n),
)
"""JSON nesting deeper than the 64 levels of any Convex value (shallower than the 128 that
serde_json parses)."""

refused_json: st.SearchStrategy[str] = bad_specials.map(json.dumps) | too_deep
"""The text of JSON (as serde_json reads it) that is no Convex value: every decoder must
refuse it with a clear error."""

not_json: st.SearchStrategy[str] = st.one_of(
    st.sampled_from(["NaN", "-NaN", "Infinity", "-Infinity"]),
    st.sampled_from(['"\\ud800"', '"a\\udfffb"', '"\\udc00\\ud800"', '{"\\ud83d": 1}']),
    st.sampled_from([10_000, 200_000]).map(lambda n: "[" * n + "]" * n),
)
"""Text that Python's `json` module reads (or overflows its stack on) but that is not JSON a
Convex server parses: NaN and Infinity tokens, lone surrogate escapes (no Unicode text),
nesting beyond any parser's limit. Refused with a clear error, at the parse or after."""

huge_numbers: st.SearchStrategy[tuple[str, float]] = st.sampled_from(
    [("1e400", math.inf), ("-1e999", -math.inf), ("1" + "0" * 400, math.inf)]
)
"""(JSON text, the float64 it overflows to): numbers no float64 holds. Convex refuses them;
a server may instead take the infinity they round to, but must not fail on them."""


def embedded(fragment: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`fragment` alone, or somewhere inside valid arrays and objects (one or two deep)."""

    def wrap(inner: str, around: list[Value], where: int, key: str, as_array: bool) -> str:
        parts = [wire_text(value) for value in around]
        if as_array:
            parts.insert(where % (len(parts) + 1), inner)
            return "[" + ",".join(parts) + "]"
        fields = [f'"f{i}":{part}' for i, part in enumerate(parts)]
        fields.append(f"{json.dumps(key)}:{inner}")
        return "{" + ",".join(fields) + "}"

    def wrapped(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.builds(
            wrap, inner, st.lists(values(1), max_size=2), st.integers(0, 2), field_names,
            st.booleans(),
        )  # fmt: skip

    return st.one_of(fragment, wrapped(fragment), wrapped(wrapped(fragment)))


def examples(count: int, *, shrink: bool = True) -> settings:
    """Hypothesis settings for a test of `count` examples, each a round trip or two to a
    server: no deadline (the machine is shared), no complaint about slow or large data or
    about function-scoped fixtures (the tests' are factories, made to share). Without `shrink`, a failure is reported as found: where a failure can be a server that
    stopped answering, each attempt to shrink it would wait out a timeout."""
    phases = tuple(Phase) if shrink else (Phase.explicit, Phase.reuse, Phase.generate)
    return settings(
        max_examples=count,
        deadline=None,
        phases=phases,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )


# any JSON (not only Convex values): the fields of malformed requests and messages
json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
