"""A subscribed query run again because a commit changed what it read is a span of its own
(named as calls are, with the attribute "confect.rerun"), linked to the span of the
mutation that made the commit: seen through a live server with the official PyPI client
subscribed, under the recording tracer and under OpenTelemetry's SDK."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from confect import (
    App,
    Backend,
    DatabaseReader,
    DatabaseWriter,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.server.asgi import Server
from effects import Tracer
from effects.tracing import RecordingTracer, SpanLink, TracerService
from tests.servers import ROOT, served

SCHEMA = define_schema(notes=define_table({"text": v.string()}))


@query()
def list_notes():
    db = yield from DatabaseReader
    notes = yield from db.table("notes").collect()
    return [note["text"] for note in notes]


@mutation(args={"text": v.string()})
def add(text: str):
    db = yield from DatabaseWriter
    yield from db.table("notes").insert({"text": text})


APP = App({"notes:list": list_notes, "notes:add": add}, SCHEMA)


async def subscribe_and_add(tracer: TracerService) -> None:
    """Serve APP traced by `tracer` while the PyPI client (its own process) subscribes to
    notes:list and another client adds a note, which the subscriber sees."""
    server = Server(Backend(APP, services={Tracer: tracer}))
    async with served(server) as address:
        command = [sys.executable, "-m", "tests.integration.python_client"]
        done = await asyncio.to_thread(
            subprocess.run,
            [*command, f"http://{address}", "rerun"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, done.stdout + done.stderr
    [line] = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert line["value"] == {"before": [], "after": ["traced"]}


async def test_a_rerun_is_a_span_linked_to_the_mutation_that_caused_it():
    """The subscription's first run is a plain query span; the run the mutation's commit
    causes is marked "confect.rerun" and linked to the mutation's span, the link carrying
    the commit's ts."""
    recorder = RecordingTracer()
    await subscribe_and_add(recorder)
    first, again = [s for s in recorder.spans if s.name == "query notes:list"]
    [added] = [s for s in recorder.spans if s.name == "mutation notes:add"]
    assert "confect.rerun" not in first.attributes and first.links == []
    assert again.attributes == {
        "confect.function": "notes:list",
        "confect.kind": "query",
        "confect.rerun": True,
    }
    [link] = again.links
    assert link.span is added
    assert link == SpanLink(added, {"confect.commit_ts": link.attributes["confect.commit_ts"]})
    assert isinstance(link.attributes["confect.commit_ts"], int)
    assert again.parent is None and again.status == "ok"


async def test_a_reruns_link_reaches_opentelemetry():
    """Under OpenTelemetry, the re-run's span has an OpenTelemetry link to the mutation's."""
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from effects.otel import OtelTracer

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    await subscribe_and_add(OtelTracer(provider.get_tracer("confect")))
    spans = exporter.get_finished_spans()
    first, again = [s for s in spans if s.name == "query notes:list"]
    [added] = [s for s in spans if s.name == "mutation notes:add"]
    assert not first.links
    assert (again.attributes or {})["confect.rerun"] is True
    [link] = again.links
    assert (link.context.trace_id, link.context.span_id) == (
        added.context.trace_id,
        added.context.span_id,
    )
    assert isinstance((link.attributes or {})["confect.commit_ts"], int)
