"""Writes tests/confect/model/data/legacy_ids: run once, from a checkout of commit e520b7a
(the last release whose ids had the old footer), as
`PYTHONPATH=<that checkout> python tests/confect/model/make_legacy_ids_data.py <out>`."""

import asyncio
import json
import sys
from pathlib import Path

from confect.engine.sqlite import SqliteEngine

import effects
from confect import Backend, load_app


async def main(out: Path) -> None:
    backend = Backend(load_app("tests.confect.model.legacy_ids_app"), SqliteEngine(out))
    ada = (await effects.run(backend.mutation("fns:add_author", {"name": "Ada"}))).value
    first = (
        await effects.run(backend.mutation("fns:add_post", {"author": ada, "title": "first"}))
    ).value
    second = await effects.run(
        backend.action(
            "fns:add_post_with_cover", {"author": ada, "title": "second", "cover": b"png"}
        )
    )
    backend.close()
    (out / "ids.json").write_text(json.dumps({"ada": ada, "first": first, "second": second}))


asyncio.run(main(Path(sys.argv[1])))
