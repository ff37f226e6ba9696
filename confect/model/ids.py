"""Document ids: Crockford base32 of varint(table number) + 16 random bytes + a checksum."""

from __future__ import annotations

import base64
import os
from typing import Generic, TypeVar

T = TypeVar("T")

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_DECODE = {char: index for index, char in enumerate(ALPHABET)}
_VERSION = 0
_RANDOM_BYTES = 16


class Id(str, Generic[T]):
    """A document id: a string, typed by the document it names (`Id[Note]`)."""

    __slots__ = ()


def new_id(table_number: int) -> Id[object]:
    """A fresh id for a document of the table numbered `table_number`."""
    body = _varint(table_number) + os.urandom(_RANDOM_BYTES)
    return Id(_base32(body + _footer(body)))


def table_number_of(id_: str) -> int | None:
    """The table number inside a well-formed id, or None if `id_` is not an id."""
    raw = _unbase32(id_)
    if raw is None or len(raw) < _RANDOM_BYTES + 3:
        return None
    body, footer = raw[:-2], raw[-2:]
    if footer != _footer(body):
        return None
    number, used = _read_varint(body)
    if number is None or used + _RANDOM_BYTES != len(body):
        return None
    return number


def _footer(body: bytes) -> bytes:
    sum1 = sum2 = 0
    for byte in body:
        sum1 = (sum1 + byte) % 255
        sum2 = (sum2 + sum1) % 255
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
    for index, byte in enumerate(data[:5]):
        n |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return n, index + 1
        shift += 7
    return None, 0


_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", ALPHABET.encode())


def _base32(data: bytes) -> str:
    # RFC 4648 base32 packs bits the same way (most significant first, the last group
    # padded with zero bits): only the alphabet differs.
    return base64.b32encode(data).rstrip(b"=").translate(_FROM_RFC4648).decode()


def _unbase32(text: str) -> bytes | None:
    n = 0
    for char in text:
        digit = _DECODE.get(char)
        if digit is None:
            return None
        n = (n << 5) | digit
    size = len(text) * 5 // 8
    pad = len(text) * 5 - size * 8
    if n & ((1 << pad) - 1):
        return None
    return (n >> pad).to_bytes(size, "big")
