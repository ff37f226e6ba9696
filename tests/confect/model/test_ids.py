"""Ids as Convex encodes them (crates/value/src/id_v6.rs, PROTOCOL.md "Ids"), and data
written by the confect-py release whose ids had another footer."""

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import effects
from confect import Backend, load_app
from confect.engine.sql.sqlite import SqliteEngine
from confect.model.ids import decode_id, encode_id, is_legacy_id, new_id, table_number_of

LEGACY_DATA = Path(__file__).parent / "data" / "legacy_ids"
BASE32 = "0123456789abcdefghjkmnpqrstvwxyz"


def convex_footer(body: bytes) -> int:
    """Fletcher-16 as id_v6.rs computes it: two u8 sums that wrap at 256."""
    c0 = c1 = 0
    for byte in body:
        c0 = (c0 + byte) % 256
        c1 = (c1 + c0) % 256
    return (c1 << 8) | c0


def unbase32(text: str) -> bytes:
    bits = "".join(format(BASE32.index(char), "05b") for char in text)
    return int(bits[: len(bits) // 8 * 8], 2).to_bytes(len(bits) // 8, "big")


def stability_bytes() -> bytes:
    out = [251]
    for _ in range(15):
        out.append(out[-1] * 251 % 256)
    return bytes(out)


def test_the_stability_vector_of_convex_encodes_and_decodes():
    convex_id = "z43zp6c3e75gkmz1kfwj6mbbx5sw281h"
    assert encode_id(1017, stability_bytes()) == convex_id
    assert decode_id(convex_id) == (1017, stability_bytes())
    assert table_number_of(convex_id) == 1017
    assert not is_legacy_id(convex_id)


@given(st.integers(min_value=1, max_value=2**32 - 1))
def test_new_ids_carry_convex_footer(number):
    id_ = new_id(number)
    raw = unbase32(id_)
    assert int.from_bytes(raw[-2:], "little") == convex_footer(raw[:-2])
    assert table_number_of(id_) == number
    assert not is_legacy_id(id_)
    assert 31 <= len(id_) <= 37


@pytest.mark.parametrize("number", [0, 2**32, -1])
def test_a_table_number_outside_u32_or_zero_makes_no_id(number):
    with pytest.raises(ValueError, match="table number"):
        new_id(number)


def test_what_convex_decoder_refuses_is_not_an_id():
    good = encode_id(10001, bytes(range(16)))
    raw = unbase32(good)
    zero_table = b"\x00" + raw[1:-2]
    long_varint = b"\x91\x80\x80\x80\x80\x00" + raw[2:-2]  # six varint bytes
    non_minimal = b"\x91\xce\x80\x00" + raw[2:-2]  # 10001 spelled in one byte too many
    for body in (zero_table, long_varint, non_minimal):
        spelled = _spell(body + convex_footer(body).to_bytes(2, "little"))
        assert table_number_of(spelled) is None, body
    assert table_number_of(good[:-1] + ("1" if good[-1] == "0" else "0")) is None
    assert table_number_of(good.upper()) is None
    assert table_number_of(good + "0") is None
    assert table_number_of("é" * 32) is None
    assert table_number_of("") is None


def _spell(data: bytes) -> str:
    bits = "".join(format(byte, "08b") for byte in data)
    bits += "0" * (-len(bits) % 5)
    return "".join(BASE32[int(bits[i : i + 5], 2)] for i in range(0, len(bits), 5))


async def test_a_data_dir_written_with_the_old_footer_keeps_working(tmp_path):
    """tests/confect/model/data/legacy_ids was written by commit e520b7a: its ids (documents,
    an index over a reference, scheduled arguments, a file) all have the old footer."""
    shutil.copytree(LEGACY_DATA, tmp_path / "data")
    ids = json.loads((tmp_path / "data" / "ids.json").read_text())
    assert all(is_legacy_id(id_) for id_ in ids.values())
    backend = Backend(
        load_app("tests.confect.model.legacy_ids_app"), SqliteEngine(tmp_path / "data")
    )
    try:

        async def call(kind: str, path: str, args: dict) -> object:
            result = await effects.run(getattr(backend, kind)(path, args))
            return result if kind == "action" else result.value

        posts = await call("query", "fns:posts_by", {"author": ids["ada"]})
        assert [(p["title"], p["author"]) for p in posts] == [
            ("first", ids["ada"]),
            ("second", ids["ada"]),
        ]
        first = await call("query", "fns:post", {"id": ids["first"]})
        assert first["_id"] == ids["first"]
        assert await call("query", "fns:file_size", {"id": posts[1]["cover"]}) == 3

        for job in backend.pending_jobs():
            await call("mutation", "fns:notify", dict(job["args"][0]))

        third = await call("mutation", "fns:add_post", {"author": ids["ada"], "title": "third"})
        assert not is_legacy_id(third)
        posts = await call("query", "fns:posts_by", {"author": ids["ada"]})
        assert [p["title"] for p in posts] == ["first", "second", "third"]
    finally:
        backend.close()
