"""The PostgreSQL engine's record of commits for the other processes: the `commits` table
(each commit's writes, the last KEEP_COMMITS of them), and the advisory locks that
serialize commits and tell which processes are running."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import Any

import psycopg

from confect.engine.records import Commit, Write
from confect.engine.sql import _core
from confect.engine.sql._postgres_statements import SQL, Database
from confect.model.values import from_stored_json, to_stored_json

KEEP_COMMITS = 10_000  # commits kept in the `commits` table for the other processes
PRUNE_EVERY = 1_000
COMMIT_LOCKS = 0x636F6E66  # advisory lock class: a deployment's commits and schema ("conf")
PROCESS_LOCKS = 0x70726F63  # advisory lock class: each live process holds one ("proc")

SETUP = "CREATE TABLE IF NOT EXISTS commits (ts BIGINT PRIMARY KEY, writes TEXT NOT NULL);\n"


def advisory_lock(kind: int, name: str) -> tuple[int, int]:
    """An advisory lock's two int4 keys: its class, and a hash of what it is for."""
    return kind, zlib.crc32(name.encode()) - 2**31


def add(db: psycopg.Connection[Any], commits: Sequence[Commit]) -> None:
    """Record `commits` (in the caller's transaction)."""
    with db.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO commits (ts, writes) VALUES (%s, %s)",
            [(commit.ts, _encode_writes(commit.writes)) for commit in commits],
        )


def after(db: psycopg.Connection[Any], ts: int) -> list[Commit]:
    """The recorded commits after `ts`, oldest first."""
    rows = db.execute("SELECT ts, writes FROM commits WHERE ts > %s ORDER BY ts", (ts,))
    return [Commit(int(ts), _decode_writes(writes)) for ts, writes in rows.fetchall()]


def prune(db: psycopg.Connection[Any]) -> None:
    """Forget all but the last KEEP_COMMITS commits; a process that had not read them yet
    learns that it missed some (`forgotten_ts`)."""
    row = db.execute(
        "SELECT ts FROM commits ORDER BY ts DESC OFFSET %s LIMIT 1", (KEEP_COMMITS,)
    ).fetchone()
    if row is not None:
        db.execute("DELETE FROM commits WHERE ts <= %s", (row[0],))
        _core.set_meta(Database(db), SQL, "forgotten_ts", str(row[0]))


def forgotten_ts(db: psycopg.Connection[Any]) -> int:
    """The ts of the last commit forgotten (0 if none was)."""
    return int(_core.meta(Database(db), SQL, "forgotten_ts", "0"))


def _encode_writes(writes: Sequence[Write]) -> str:
    return json.dumps(
        [
            [w.table, w.id, to_stored_json(w.old), to_stored_json(w.new)]  # pyright: ignore[reportArgumentType]
            for w in writes
        ],
        separators=(",", ":"),
    )


def _decode_writes(text: str) -> tuple[Write, ...]:
    rows: Any = from_stored_json(text)
    return tuple(Write(str(table), str(id_), old, new) for table, id_, old, new in rows)
