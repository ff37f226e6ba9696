"""An action that summarizes an author's notes (where a real app would call an AI service)."""

from confect import ActionRunner, Auth, MutationRunner, QueryRunner, action, internal_action, v
from effects import EffectGen, Tag

from ._generated.refs import api, internal


class Summarizer(Tag["Summarizer", "SummarizerService"]):
    """Turns notes into a summary. Tests swap it for a fake."""


class SummarizerService:
    def summarize(self, texts: list[str]) -> str:
        words = sum(len(text.split()) for text in texts)
        return f"{len(texts)} notes, {words} words"


@internal_action(args={"author": v.string()})
def make_digest(author: str) -> EffectGen[str]:
    """Read the author's notes, summarize them, and save the digest."""
    queries = yield from QueryRunner
    notes = yield from queries.run_query(api.notes.list_by_author, author=author)
    summarizer = yield from Summarizer
    summary = summarizer.summarize([note.text for note in notes])
    mutations = yield from MutationRunner
    yield from mutations.run_mutation(
        internal.notes.save_digest, author=author, summary=summary, count=len(notes)
    )
    return summary


@action()
def my_digest() -> EffectGen[str]:
    """Summarize the signed-in user's notes now."""
    auth = yield from Auth
    me = yield from auth.get_user_identity()
    actions = yield from ActionRunner
    return (yield from actions.run_action(internal.digest.make_digest, author=me.subject))
