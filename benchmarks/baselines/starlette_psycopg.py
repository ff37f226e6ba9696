"""Baseline: a bare Starlette app doing the benchmark's read and insert with psycopg
(one connection, autocommit: every insert is its own durable commit).

    argv: the PostgreSQL URL, the schema to use (created if missing)
"""

import json
import sys

import psycopg
from psycopg import sql
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

db = psycopg.connect(sys.argv[1], autocommit=True)
db.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(sys.argv[2])))
db.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(sys.argv[2])))
db.execute("CREATE TABLE IF NOT EXISTS items (id BIGSERIAL PRIMARY KEY, key TEXT, body TEXT)")
db.execute("CREATE INDEX IF NOT EXISTS items_by_key ON items (key)")


async def by_key(request: Request) -> JSONResponse:
    args = (await request.json())["args"]
    row = db.execute("SELECT body FROM items WHERE key = %s", (args["key"],)).fetchone()
    return JSONResponse({"status": "success", "value": None if row is None else json.loads(row[0])})


async def insert(request: Request) -> JSONResponse:
    args = (await request.json())["args"]
    db.execute("INSERT INTO items (key, body) VALUES (%s, %s)", (args["key"], json.dumps(args)))
    return JSONResponse({"status": "success", "value": None})


app = Starlette(
    routes=[
        Route("/api/query", by_key, methods=["POST"]),
        Route("/api/mutation", insert, methods=["POST"]),
    ]
)
