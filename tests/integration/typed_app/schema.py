"""The tasks table: documents are `Task`s."""

import attrs

from confect import Document, define_schema, define_table


@attrs.frozen
class Task(Document):
    owner: str
    title: str
    done: bool = False


tasks = define_table(Task).index("by_owner", ["owner"])
schema = define_schema(tasks=tasks)
