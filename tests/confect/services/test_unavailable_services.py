"""Asking for a service the function's type does not have fails at the request, naming the
service, the type and what the type gets, even when the caller's context has it."""

import pytest

import effects
from confect import (
    ActionRunner,
    App,
    Backend,
    DatabaseReader,
    DatabaseWriter,
    HttpRequest,
    HttpResponse,
    HttpRouter,
    QueryRunner,
    Scheduler,
    ServiceNotAvailable,
    VectorSearch,
    action,
    define_schema,
    define_table,
    http_action,
    mutation,
    query,
    v,
)
from confect.services.ctx import QueryCtx
from confect.testing import ConfectTest
from effects import Tag
from tests.raw_http import post
from tests.servers import served

SCHEMA = define_schema(items=define_table({"name": v.string()}))


def asks_for(tag: type[Tag]):
    """A handler that asks for `tag` and never uses it: on old code it returned "got it"."""

    @effects.gen
    def handler():
        yield from tag
        return "got it"

    return handler


@query()
def query_wants_writer():
    return (yield from asks_for(DatabaseWriter)())


@query()
def query_wants_scheduler():
    return (yield from asks_for(Scheduler)())


@mutation()
def mutation_wants_action_runner():
    return (yield from asks_for(ActionRunner)())


@action()
def action_wants_reader():
    return (yield from asks_for(DatabaseReader)())


@mutation()
def mutation_runs_the_query_wanting_the_writer():
    yield from DatabaseWriter  # the mutation has what the query it runs may not use
    runner = yield from QueryRunner
    return (yield from runner.run_query(query_wants_writer, {}))


@query()
def query_catches_the_refusal():
    try:
        yield from DatabaseWriter
    except ServiceNotAvailable as refusal:
        return f"refused: {refusal}"
    return "got it"


@query()
def query_reads_db_writer_off_its_ctx():
    ctx = yield from QueryCtx
    ctx.db_writer  # noqa: B018 - the attribute access is what fails
    return "got it"


@http_action()
def http_action_wants_vector_search(request: HttpRequest):
    yield from VectorSearch
    return HttpResponse(200, b"got it")


ROUTER = HttpRouter()
ROUTER.route(path="/search", method="GET", handler=http_action_wants_vector_search)


APP = App(
    {
        "f:query_wants_writer": query_wants_writer,
        "f:query_wants_scheduler": query_wants_scheduler,
        "f:mutation_wants_action_runner": mutation_wants_action_runner,
        "f:action_wants_reader": action_wants_reader,
        "f:mutation_runs_the_query_wanting_the_writer": mutation_runs_the_query_wanting_the_writer,
        "f:query_catches_the_refusal": query_catches_the_refusal,
        "f:query_reads_db_writer_off_its_ctx": query_reads_db_writer_off_its_ctx,
        "http:search": http_action_wants_vector_search,
    },
    SCHEMA,
    http=ROUTER,
)


@pytest.fixture
def t() -> ConfectTest:
    return ConfectTest(APP)


def test_a_query_asking_for_the_writer_fails_naming_what_queries_get(t: ConfectTest):
    with pytest.raises(ServiceNotAvailable) as raised:
        t.query(query_wants_writer)
    assert str(raised.value) == (
        "DatabaseWriter is not available in a query (a query gets DatabaseReader, Auth, "
        "StorageReader, QueryRunner and QueryCtx): write from a mutation, or call one with "
        "MutationRunner"
    )


def test_each_type_refuses_what_it_lacks_at_the_request(t: ConfectTest):
    with pytest.raises(ServiceNotAvailable, match="^Scheduler is not available in a query"):
        t.query(query_wants_scheduler)
    with pytest.raises(ServiceNotAvailable, match="^ActionRunner is not available in a mutation"):
        t.mutation(mutation_wants_action_runner)
    with pytest.raises(
        ServiceNotAvailable, match=r"^DatabaseReader is not available in an action \(an action gets"
    ):
        t.action(action_wants_reader)


def test_a_query_run_by_a_mutation_is_refused_the_mutations_writer(t: ConfectTest):
    with pytest.raises(ServiceNotAvailable, match="^DatabaseWriter is not available in a query"):
        t.mutation(mutation_runs_the_query_wanting_the_writer)


def test_the_refusal_is_raised_at_the_yield_from(t: ConfectTest):
    assert t.query(query_catches_the_refusal).startswith(
        "refused: DatabaseWriter is not available in a query"
    )


def test_a_ctx_attribute_the_type_lacks_fails_when_read(t: ConfectTest):
    with pytest.raises(ServiceNotAvailable, match="^DatabaseWriter is not available in a query"):
        t.query(query_reads_db_writer_off_its_ctx)


def test_an_http_action_is_refused_vector_search(t: ConfectTest):
    with pytest.raises(
        ServiceNotAvailable, match="^VectorSearch is not available in an http action"
    ):
        t.fetch("/search")


async def test_a_live_query_asking_for_the_writer_fails_with_the_message():
    from confect.server.asgi import Server

    async with served(Server(Backend(APP))) as address:
        status, body = await post(
            address, "/api/query", {"path": "f:query_wants_writer", "args": {}}
        )
    assert status == 560
    assert "DatabaseWriter is not available in a query" in body["errorMessage"]
