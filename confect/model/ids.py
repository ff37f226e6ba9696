"""Document ids, encoded exactly as Convex encodes them (`crates/value/src/id_v6.rs`).

An id is lowercase Crockford base32 of: varint(table number) ‖ 16 random bytes ‖ a
two-byte footer, the Fletcher-16 checksum (each running sum wrapping at 256) of the bytes
before it, XOR the id version 0, little-endian.

Ids written by confect-py 0.1.0 (up to commit e520b7a) carry a footer whose sums wrapped at
255. They stay valid here, so data directories made by those versions keep working
unchanged (documents, indexes, references and scheduled arguments all hold the id
strings), but they are never written again: every new id has Convex's footer.
"""

from __future__ import annotations

import base64
import operator
import os
from typing import Generic, TypeVar

T = TypeVar("T")

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_VERSION = 0
_RANDOM_BYTES = 16
_MAX_VARINT_BYTES = 5
_MAX_TABLE_NUMBER = 2**32 - 1
# base32 lengths of the shortest (1-byte varint) and longest (5-byte varint) ids
_MIN_LENGTH = -(-(1 + _RANDOM_BYTES + 2) * 8 // 5)
_MAX_LENGTH = -(-(_MAX_VARINT_BYTES + _RANDOM_BYTES + 2) * 8 // 5)


class Id(str, Generic[T]):
    """A document id: a string, typed by the document it names (`Id[Note]`)."""

    __slots__ = ()


def new_id(table_number: int) -> Id[object]:
    """A fresh id for a document of the table numbered `table_number` (1 to 2**32 - 1)."""
    return encode_id(table_number, os.urandom(_RANDOM_BYTES))


def encode_id(table_number: int, internal: bytes) -> Id[object]:
    """The id of table `table_number` whose 16 internal bytes are `internal`."""
    if not 0 < table_number <= _MAX_TABLE_NUMBER:
        raise ValueError(f"a table number is between 1 and {_MAX_TABLE_NUMBER}, not {table_number}")
    if len(internal) != _RANDOM_BYTES:
        raise ValueError(f"an id's internal part is {_RANDOM_BYTES} bytes, not {len(internal)}")
    body = _varint(table_number) + internal
    return Id(_base32(body + _footer(body)))


def decode_id(id_: str) -> tuple[int, bytes] | None:
    """The table number and the 16 internal bytes of a well-formed id, or None."""
    parsed = _parse(id_)
    return None if parsed is None else (parsed[0], parsed[1][-2 - _RANDOM_BYTES : -2])


def table_number_of(id_: str) -> int | None:
    """The table number inside a well-formed id, or None if `id_` is not an id.

    Well-formed as Convex's decoder checks it: a length an id can have, base32 in its one
    canonical spelling, a minimal varint of a nonzero 32-bit table number, 16 bytes, and
    the footer (Convex's, or the one earlier confect-py versions wrote)."""
    parsed = _parse(id_)
    return None if parsed is None else parsed[0]


def is_legacy_id(id_: str) -> bool:
    """Whether `id_` is a well-formed id with the footer earlier confect-py versions wrote
    (which Convex's decoder refuses)."""
    parsed = _parse(id_)
    return parsed is not None and parsed[1][-2:] != _footer(parsed[1][:-2])


def _parse(id_: str) -> tuple[int, bytes] | None:
    """The table number and the decoded bytes of a well-formed id (see `table_number_of`)."""
    if not _MIN_LENGTH <= len(id_) <= _MAX_LENGTH:
        return None
    raw = _unbase32(id_)
    if raw is None:
        return None
    body, footer = raw[:-2], raw[-2:]
    number, used = _read_varint(body)
    if not number or used + _RANDOM_BYTES != len(body) or used != len(_varint(number)):
        return None  # no table, the wrong length, or the number spelled in too many bytes
    if footer != _footer(body) and footer != _legacy_footer(body):
        return None
    return number, raw


def _footer(body: bytes) -> bytes:
    return _fletcher16(body, 256)


def _legacy_footer(body: bytes) -> bytes:
    return _fletcher16(body, 255)


def _fletcher16(body: bytes, modulus: int) -> bytes:
    # the running sums in closed form: c0 = sum of the bytes, c1 = sum of each byte times
    # the number of sums it enters (len(body) for the first, 1 for the last)
    sum1 = sum(body) % modulus
    sum2 = sum(map(operator.mul, body, range(len(body), 0, -1))) % modulus
    return (((sum2 << 8) | sum1) ^ _VERSION).to_bytes(2, "little")


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes) -> tuple[int | None, int]:
    n = shift = 0
    for index, byte in enumerate(data[:_MAX_VARINT_BYTES]):
        n |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return (n if n <= _MAX_TABLE_NUMBER else None), index + 1
        shift += 7
    return None, 0


_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET.encode())
# int(text, 32) reads the digits 0-9a-v: the same 32 values in another alphabet
_TO_INT_DIGITS = str.maketrans(ALPHABET, "0123456789abcdefghijklmnopqrstuv")
_WITHOUT_ALPHABET = str.maketrans("", "", ALPHABET)


def _base32(data: bytes) -> str:
    # RFC 4648 base32 packs bits the same way (most significant first, the last group
    # padded with zero bits): only the alphabet differs.
    return base64.b32encode(data).rstrip(b"=").translate(_FROM_RFC4648).decode()


def _unbase32(text: str) -> bytes | None:
    if not text or text.translate(_WITHOUT_ALPHABET):
        return None  # empty, or a character outside the alphabet
    size = len(text) * 5 // 8
    pad = len(text) * 5 - size * 8
    n = int(text.translate(_TO_INT_DIGITS), 32)
    if pad >= 5 or n & ((1 << pad) - 1):
        return None  # a character too many, or padding bits set: not the one spelling
    return (n >> pad).to_bytes(size, "big")
