"""Baseline: a bare Starlette app doing the benchmark's read and insert with sqlite3."""

import json
import sqlite3
import sys

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

db = sqlite3.connect(
    sys.argv[1] if len(sys.argv) > 1 else "baseline.sqlite3",
    isolation_level=None,
    check_same_thread=False,
)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, key TEXT, body TEXT)")
db.execute("CREATE INDEX IF NOT EXISTS items_by_key ON items (key)")


async def by_key(request: Request) -> JSONResponse:
    args = (await request.json())["args"]
    row = db.execute("SELECT body FROM items WHERE key = ?", (args["key"],)).fetchone()
    return JSONResponse({"status": "success", "value": None if row is None else json.loads(row[0])})


async def insert(request: Request) -> JSONResponse:
    args = (await request.json())["args"]
    db.execute("INSERT INTO items (key, body) VALUES (?, ?)", (args["key"], json.dumps(args)))
    return JSONResponse({"status": "success", "value": None})


app = Starlette(
    routes=[
        Route("/api/query", by_key, methods=["POST"]),
        Route("/api/mutation", insert, methods=["POST"]),
    ]
)
