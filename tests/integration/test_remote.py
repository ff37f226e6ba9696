"""Remote runners: an effect here calls functions of the live server through the official
Python client."""

import pytest

import effects
from confect import ConvexError, MutationRunner, QueryRunner, load_app
from confect.services.remote import RemoteCallError, remote_runners

from .conftest import Live


def run(effect, layer):
    return effects.run(effect.provide(layer))


async def test_remote_runners_call_queries_and_mutations(live: Live):
    layer = remote_runners(live.url, admin_key=live.admin_key())
    saved = MutationRunner.flat_map(
        lambda runner: runner.run_mutation(
            "notes:save_digest", {"author": "remote", "summary": "far", "count": 1}
        )
    )
    assert await run(saved, layer) is None
    listed = QueryRunner.flat_map(
        lambda runner: runner.run_query("notes:digests", {"author": "remote"})
    )
    assert await run(listed, layer) == ["far"]


async def test_remote_errors_come_back_typed(live: Live):
    notes = load_app(
        "examples.notes"
    )  # the same app the server runs: its functions know their errors
    edit = notes.function("notes:edit")
    owner = remote_runners(live.url, auth_token=live.token("remote-owner"))
    note_id = await run(
        MutationRunner.flat_map(lambda r: r.run_mutation("notes:add", {"text": "mine"})), owner
    )
    stranger = remote_runners(live.url, auth_token=live.token("remote-stranger"))
    attempt = MutationRunner.flat_map(
        lambda r: r.run_mutation(edit, {"note_id": note_id, "text": "x"})
    )
    from examples.notes.notes import NotAllowed

    with pytest.raises(NotAllowed):
        await run(attempt, stranger)
    by_path = MutationRunner.flat_map(
        lambda r: r.run_mutation("notes:edit", {"note_id": note_id, "text": "x"})
    )
    with pytest.raises(ConvexError) as raised:
        await run(by_path, stranger)
    assert raised.value.data["_tag"] == "NotAllowed"
    anonymous = remote_runners(live.url)
    with pytest.raises(RemoteCallError, match="NoUserIdentityFoundError"):
        await run(
            MutationRunner.flat_map(lambda r: r.run_mutation("notes:add", {"text": "x"})), anonymous
        )
