"""Baseline: FastAPI + SQLAlchemy (ORM, sessions) doing the benchmark's read and insert."""

import sys
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import String, create_engine, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

engine = create_engine(f"sqlite:///{sys.argv[1] if len(sys.argv) > 1 else 'fastapi.sqlite3'}")


@event.listens_for(engine, "connect")
def _pragmas(connection: Any, _: Any) -> None:
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String, index=True)
    n: Mapped[float]


Base.metadata.create_all(engine)
app = FastAPI()


class Call(BaseModel):
    path: str
    args: dict[str, Any]


@app.post("/api/query")
def by_key(call: Call) -> dict[str, Any]:
    with Session(engine) as session:
        item = session.scalars(select(Item).where(Item.key == call.args["key"]).limit(1)).first()
        return {
            "status": "success",
            "value": None if item is None else {"key": item.key, "n": item.n},
        }


@app.post("/api/mutation")
def insert(call: Call) -> dict[str, Any]:
    with Session(engine) as session:
        session.add(Item(key=call.args["key"], n=call.args["n"]))
        session.commit()
    return {"status": "success", "value": None}
