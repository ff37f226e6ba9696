"""VectorSearch in actions: nearest documents by cosine similarity through a vector index,
with filters, limits and typed errors; not offered outside actions."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confect import (
    App,
    DatabaseWriter,
    ServiceNotAvailable,
    ValidationError,
    VectorSearch,
    action,
    define_schema,
    define_table,
    mutation,
    query,
    v,
)
from confect.services.ctx import ActionCtx
from confect.testing import ConfectTest

SCHEMA = define_schema(
    foods=define_table(
        {"name": v.string(), "cuisine": v.string(), "embedding": v.optional(v.array(v.float64()))}
    ).vector_index(
        "by_embedding", vector_field="embedding", dimensions=3, filter_fields=["cuisine"]
    )
)


@mutation(
    args={"name": v.string(), "cuisine": v.string(), "embedding": v.optional(v.array(v.float64()))}
)
def add(name: str, cuisine: str, embedding: list[float] | None):
    db = yield from DatabaseWriter
    fields = {"name": name, "cuisine": cuisine}
    if embedding is not None:
        fields["embedding"] = embedding
    return (yield from db.table("foods").insert(fields))


@action(
    args={
        "vector": v.array(v.float64()),
        "limit": v.number(),
        "cuisines": v.optional(v.array(v.string())),
        "index": v.optional(v.string()),
    }
)
def nearest(vector: list[float], limit: float, cuisines: list[str] | None, index: str | None):
    search = yield from VectorSearch

    def only(q):
        return q.or_(*(q.eq("cuisine", c) for c in cuisines or []))

    found = yield from search.search(
        "foods",
        index or "by_embedding",
        vector,
        limit=int(limit),
        filter=only if cuisines is not None else None,
    )
    return [[str(r.id), r.score] for r in found]


@action(args={"vector": v.array(v.float64())})
def nearest_through_ctx(vector: list[float]):
    ctx = yield from ActionCtx
    found = yield from ctx.vector_search("foods", "by_embedding", vector, limit=1)
    return str(found[0].id)


@query()
def in_a_query():
    search = yield from VectorSearch
    return (yield from search.search("foods", "by_embedding", [1.0, 0.0, 0.0]))


APP = App(
    {
        "foods:add": add,
        "foods:nearest": nearest,
        "foods:nearest_through_ctx": nearest_through_ctx,
        "foods:in_a_query": in_a_query,
    },
    SCHEMA,
)


@pytest.fixture
def t() -> ConfectTest:
    return ConfectTest(APP)


def _add(t: ConfectTest, name: str, cuisine: str, embedding: list[float] | None) -> str:
    return str(t.mutation(add, {"name": name, "cuisine": cuisine, "embedding": embedding}))


def test_nearest_first_by_cosine_similarity_within_the_limit(t: ConfectTest):
    east = _add(t, "east", "thai", [1.0, 0.0, 0.0])
    north_east = _add(t, "north-east", "french", [1.0, 1.0, 0.0])
    north = _add(t, "north", "thai", [0.0, 2.0, 0.0])
    _add(t, "no vector", "thai", None)
    _add(t, "wrong size", "thai", [1.0, 0.0])
    found = t.action(nearest, {"vector": [3.0, 0.1, 0.0], "limit": 10})
    assert [id_ for id_, _ in found] == [east, north_east, north]
    assert found[0][1] == pytest.approx(3 / math.hypot(3, 0.1))
    assert found[1][1] == pytest.approx(3.1 / (math.hypot(3, 0.1) * math.sqrt(2)))
    assert [id_ for id_, _ in t.action(nearest, {"vector": [0.0, 1.0, 0.0], "limit": 1})] == [north]


def test_a_filter_keeps_the_documents_equal_to_one_of_its_values(t: ConfectTest):
    thai = _add(t, "thai", "thai", [1.0, 0.0, 0.0])
    french = _add(t, "french", "french", [1.0, 0.1, 0.0])
    _add(t, "greek", "greek", [1.0, 0.0, 0.1])
    only_french = t.action(nearest, {"vector": [1.0, 0.0, 0.0], "limit": 5, "cuisines": ["french"]})
    assert [id_ for id_, _ in only_french] == [french]
    both = t.action(
        nearest, {"vector": [1.0, 0.0, 0.0], "limit": 5, "cuisines": ["french", "thai"]}
    )
    assert [id_ for id_, _ in both] == [thai, french]


def test_bad_searches_fail_with_a_validation_error_saying_what_is_wrong(t: ConfectTest):
    cases = {
        "no vector index named 'nope'": {"vector": [1.0, 0.0, 0.0], "limit": 1, "index": "nope"},
        "has 2 numbers; index 'by_embedding' has 3": {"vector": [1.0, 0.0], "limit": 1},
        "must be 1 to 256, not 0": {"vector": [1.0, 0.0, 0.0], "limit": 0},
    }
    for message, args in cases.items():
        with pytest.raises(ValidationError, match=message):
            t.action(nearest, args)


def test_filtering_on_a_field_the_index_does_not_filter_on_is_refused(t: ConfectTest):
    @action()
    def by_name():
        search = yield from VectorSearch
        return (
            yield from search.search(
                "foods", "by_embedding", [1.0, 0.0, 0.0], filter=lambda q: q.eq("name", "x")
            )
        )

    app = App({**APP.functions, "foods:by_name": by_name}, SCHEMA)
    with pytest.raises(ValidationError, match="'name' is not one of its filter fields"):
        ConfectTest(app).action(by_name)


def test_only_actions_search_vectors(t: ConfectTest):
    east = _add(t, "east", "thai", [1.0, 0.0, 0.0])
    assert t.action(nearest_through_ctx, {"vector": [1.0, 0.0, 0.0]}) == east
    with pytest.raises(ServiceNotAvailable, match="VectorSearch is not available in a query"):
        t.query(in_a_query)


vectors = st.lists(
    st.lists(st.floats(-10, 10, allow_nan=False), min_size=3, max_size=3), min_size=1, max_size=12
)


@settings(max_examples=30, deadline=None)
@given(stored=vectors, probe=vectors.map(lambda vs: vs[0]), limit=st.integers(1, 12))
def test_the_results_are_the_best_scores_of_a_full_comparison(stored, probe, limit):
    t = ConfectTest(APP)
    for i, vector in enumerate(stored):
        _add(t, f"f{i}", "thai", vector)
    found = t.action(nearest, {"vector": probe, "limit": limit})

    def cosine(a: list[float], b: list[float]) -> float:
        length = math.hypot(*a) * math.hypot(*b)
        return sum(x * y for x, y in zip(a, b, strict=True)) / length if length else 0.0

    expected = sorted((cosine(probe, vector) for vector in stored), reverse=True)[:limit]
    assert [score for _, score in found] == pytest.approx(expected)
