"""The conformance suite: what every engine must do. Parametrized by engine (every one of
tests/engines.py)."""

import hashlib
import operator
from collections.abc import Callable, Iterator

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import effects
from confect import (
    MISSING,
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
from confect.engine.interface import BLOB_CHUNK_BYTES, CommitLog, Engine, Write
from confect.model.errors import TimestampTooOldError, WriteConflict
from confect.model.ids import new_id
from confect.model.values import encode_key
from tests.counters import COUNTERS, counter, increment, new_counter
from tests.engines import ENGINES, release


@attrs.frozen
class Row:
    group: str
    n: float


SCHEMA = define_schema(
    rows=define_table(Row).index("by_group_n", ["group", "n"]),
    counters=COUNTERS,
    posts=define_table({"body": v.string(), "topic": v.string()}).search_index(
        "search_body", search_field="body", filter_fields=["topic"]
    ),
    tagged=define_table({"tag": v.optional(v.union(v.string(), v.null()))}).index(
        "by_tag", ["tag"]
    ),
)
TAG = v.optional(v.union(v.string(), v.null()))  # a missing tag is MISSING, a null one None


@query(
    args={
        "group": v.string(),
        "lo": v.optional(v.number()),
        "hi": v.optional(v.number()),
        "order": v.string(),
    }
)
def in_range(group: str, lo: float | None, hi: float | None, order: str):
    db = yield from DatabaseReader

    def bounds(q):
        q = q.eq("group", group)
        if lo is not None:
            q = q.gte("n", lo)
        if hi is not None:
            q = q.lt("n", hi)
        return q

    docs = yield from db.table("rows").index("by_group_n", bounds, order=order).collect()  # type: ignore[arg-type]
    return [d.n for d in docs]


@query(args={"cursor": v.optional(v.string()), "size": v.number()})
def page(cursor: str | None, size: float):
    db = yield from DatabaseReader
    result = yield from db.table("rows").index("by_group_n").paginate(int(size), cursor)
    return {
        "rows": [[d.group, d.n] for d in result.page],
        "ids": [d._id for d in result.page],
        "done": result.is_done,
        "cursor": result.continue_cursor,
    }


@query(args={"index": v.string(), "lo": v.optional(v.string()), "order": v.string()})
def by_system_index(index: str, lo: str | None, order: str):
    """The rows through `by_id` (from id `lo` on, if given) or `by_creation_time`."""
    db = yield from DatabaseReader

    def bounds(q):
        return q.gte("_id", lo) if lo is not None else q

    docs = yield from db.table("rows").index(index, bounds, order=order).collect()  # type: ignore[arg-type]
    return [d._id for d in docs]


@mutation(args={"group": v.string(), "n": v.number()}, returns=v.id("rows"))
def insert(group: str, n: float):
    db = yield from DatabaseWriter
    return (yield from db.table("rows").insert(Row(group, n)))


@mutation(args={"id": v.id("rows"), "n": v.number()})
def move(id: str, n: float):
    db = yield from DatabaseWriter
    yield from db.table("rows").patch(id, {"n": n})


@mutation(args={"id": v.id("rows")})
def delete(id: str):
    db = yield from DatabaseWriter
    yield from db.table("rows").delete(id)


@query(args={"text": v.string(), "topic": v.optional(v.string())})
def search_posts(text: str, topic: str | None):
    db = yield from DatabaseReader

    def terms(q):
        q = q.search("body", text)
        return q.eq("topic", topic) if topic else q

    return [d.body for d in (yield from db.table("posts").search("search_body", terms).collect())]


@query(args={"text": v.string(), "cursor": v.optional(v.string()), "size": v.number()})
def search_page(text: str, cursor: str | None, size: float):
    db = yield from DatabaseReader
    found = db.table("posts").search("search_body", lambda q: q.search("body", text))
    result = yield from found.paginate(int(size), cursor)
    return {
        "bodies": [d.body for d in result.page],
        "done": result.is_done,
        "cursor": result.continue_cursor,
    }


@mutation(args={"body": v.string(), "topic": v.string()}, returns=v.id("posts"))
def post(body: str, topic: str):
    db = yield from DatabaseWriter
    return (yield from db.table("posts").insert({"body": body, "topic": topic}))


@mutation(args={"id": v.id("posts"), "body": v.optional(v.string())})
def edit_post(id: str, body: str | None):
    db = yield from DatabaseWriter
    if body is None:
        yield from db.table("posts").delete(id)
    else:
        yield from db.table("posts").patch(id, {"body": body})


@mutation(args={"tag": TAG})
def tag(tag):
    db = yield from DatabaseWriter
    yield from db.table("tagged").insert({"tag": tag})


@query(args={"op": v.string(), "tag": TAG})
def tagged_range(op: str, tag):
    db = yield from DatabaseReader
    docs = (
        yield from db.table("tagged")
        .index("by_tag", lambda q: getattr(q, op)("tag", tag))
        .collect()
    )
    return ["missing" if d.tag is MISSING else d.tag for d in docs]


FUNCTIONS = (
    tag,
    tagged_range,
    in_range,
    by_system_index,
    page,
    insert,
    move,
    delete,
    increment,
    new_counter,
    counter,
    search_posts,
    search_page,
    post,
    edit_post,
)
APP = App(
    {f"t:{f.handler.__name__}": f for f in FUNCTIONS},
    SCHEMA,
)


@pytest.fixture(params=sorted(ENGINES))
def make_backend(request: pytest.FixtureRequest) -> Iterator[Callable[[], Backend]]:
    """A new backend on a new engine; the one made before (a hypothesis example's) is released."""
    engines: list[Engine] = []

    def make() -> Backend:
        release_all()
        engines.append(ENGINES[request.param]())
        return Backend(APP, engines[-1])

    def release_all() -> None:
        while engines:
            release(engines.pop())

    yield make
    release_all()


def call(backend: Backend, kind: str, fn, args: dict | None = None):
    runner = getattr(backend, kind)
    encoded = backend.resolve(fn).encode_args(args or {})
    return effects.run_sync(runner(fn, encoded)).value if kind != "action" else None


values = st.lists(
    st.tuples(st.sampled_from(["a", "b"]), st.integers(min_value=-5, max_value=5).map(float)),
    max_size=25,
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=values,
    lo=st.none() | st.integers(-6, 6),
    hi=st.none() | st.integers(-6, 6),
    desc=st.booleans(),
)
def test_index_ranges_match_a_sorted_list(make_backend, rows, lo, hi, desc):
    backend = make_backend()
    for group, n in rows:
        call(backend, "mutation", insert, {"group": group, "n": n})
    got = call(
        backend,
        "query",
        in_range,
        {"group": "a", "lo": lo, "hi": hi, "order": "desc" if desc else "asc"},
    )
    model = sorted(
        n for g, n in rows if g == "a" and (lo is None or n >= lo) and (hi is None or n < hi)
    )
    assert got == (model[::-1] if desc else model)


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=values, desc=st.booleans(), start=st.integers(0, 30))
def test_every_table_reads_through_by_id_and_by_creation_time(make_backend, rows, desc, start):
    """Convex's system indexes: `by_creation_time` in insertion order, `by_id` in id order
    (ranges over `_id` included), either way round."""
    backend = make_backend()
    ids = [call(backend, "mutation", insert, {"group": g, "n": n}) for g, n in rows]
    order = "desc" if desc else "asc"
    by_time = call(backend, "query", by_system_index, {"index": "by_creation_time", "order": order})
    assert by_time == (ids[::-1] if desc else ids)
    by_id = call(backend, "query", by_system_index, {"index": "by_id", "order": order})
    assert by_id == sorted(ids, reverse=desc)
    if ids:
        lo = sorted(ids)[start % len(ids)]
        ranged = call(
            backend, "query", by_system_index, {"index": "by_id", "lo": lo, "order": "asc"}
        )
        assert ranged == [i for i in sorted(ids) if i >= lo]


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=values, size=st.integers(1, 6), churn=st.booleans())
def test_pagination_visits_every_document_once_despite_writes(make_backend, rows, size, churn):
    backend = make_backend()
    for group, n in rows:
        call(backend, "mutation", insert, {"group": group, "n": n})
    seen: list[tuple[str, float]] = []
    added: list[tuple[str, float]] = []
    cursor = None
    for round_ in range(100):
        result = call(backend, "query", page, {"cursor": cursor, "size": size})
        seen += [(g, n) for g, n in result["rows"]]
        if result["done"]:
            break
        cursor = result["cursor"]
        if (
            churn and round_ < 3
        ):  # delete what was seen, insert after the cursor: nothing skipped or repeated
            call(backend, "mutation", delete, {"id": result["ids"][0]})
            added.append(("c", float(round_)))
            call(backend, "mutation", insert, {"group": "c", "n": float(round_)})
    expected = sorted(rows + added, key=lambda r: encode_key(r))
    assert seen == expected


def test_concurrent_conflicting_mutations_serialize(make_backend):
    backend = make_backend()
    counter_id = call(backend, "mutation", new_counter)
    encoded = backend.resolve(increment).encode_args({"id": counter_id})
    runs = [backend.mutation(increment, encoded) for _ in range(10)]
    effects.run_sync(effects.all(runs, concurrency="unbounded"))
    assert call(backend, "query", counter, {"id": counter_id}) == 10


def test_a_commit_that_read_a_changed_range_conflicts(make_backend):
    backend = make_backend()
    call(backend, "mutation", insert, {"group": "a", "n": 1})
    reader = backend.new_transaction()
    list(reader.scan("rows", "by_group_n", encode_key(("a",)), encode_key(("a",)) + b"\xff"))
    reader.insert("rows", {"group": "z", "n": 0.0})
    call(backend, "mutation", insert, {"group": "a", "n": 2})  # lands in what `reader` read
    with pytest.raises(WriteConflict):
        reader.commit()


def test_a_write_outside_the_read_range_does_not_conflict(make_backend):
    backend = make_backend()
    tx = backend.new_transaction()
    list(tx.scan("rows", "by_group_n", encode_key(("a",)), encode_key(("a",)) + b"\xff"))
    tx.insert("rows", {"group": "z", "n": 0.0})
    call(backend, "mutation", insert, {"group": "b", "n": 2})
    assert tx.commit() > 0


def test_queries_report_the_ranges_they_read(make_backend):
    backend = make_backend()
    encoded = backend.resolve(in_range).encode_args(
        {"group": "a", "lo": None, "hi": None, "order": "asc"}
    )
    result = effects.run_sync(backend.query(in_range, encoded))
    [read] = result.reads
    assert (read.table, read.index) == ("rows", "by_group_n")
    assert read.contains(encode_key(("a", 3.0, 0.0, "id")))
    assert not read.contains(encode_key(("b", 3.0, 0.0, "id")))


def test_commit_timestamps_increase(make_backend):
    backend = make_backend()
    first = effects.run_sync(backend.mutation(insert, {"group": "a", "n": 1.0})).ts
    second = effects.run_sync(backend.mutation(insert, {"group": "a", "n": 2.0})).ts
    assert second > first


WORDS = ["milk", "mild", "oat", "oats", "plumber", "call", "buy", "the"]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bodies=st.lists(
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(" ".join), max_size=12
    ),
    query_words=st.lists(st.sampled_from([*WORDS, "mi", "pl", "o"]), min_size=1, max_size=3).map(
        " ".join
    ),
)
def test_search_matches_a_scan_of_every_document(make_backend, bodies, query_words):
    from confect.model.text_search import query_terms, relevance

    backend = make_backend()
    for i, body in enumerate(bodies):
        call(backend, "mutation", post, {"body": body, "topic": "a" if i % 2 else "b"})
    got = call(backend, "query", search_posts, {"text": query_words, "topic": None})
    terms = query_terms(query_words)
    scored = [  # equally relevant: the newest first, as Convex's search key orders them
        (-relevance(terms, body), -i, body)
        for i, body in enumerate(bodies)
        if relevance(terms, body) > 0
    ]
    assert got == [body for _, _, body in sorted(scored)]


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bodies=st.lists(
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=5).map(" ".join), max_size=12
    ),
    query_words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=2).map(" ".join),
    size=st.integers(1, 5),
)
def test_paginating_a_search_gives_its_results_in_order_once(
    make_backend, bodies, query_words, size
):
    backend = make_backend()
    for body in bodies:
        call(backend, "mutation", post, {"body": body, "topic": "a"})
    expected = call(backend, "query", search_posts, {"text": query_words, "topic": None})
    seen: list[str] = []
    cursor = None
    for _ in range(len(bodies) + 2):
        result = call(
            backend, "query", search_page, {"text": query_words, "cursor": cursor, "size": size}
        )
        assert len(result["bodies"]) <= size
        seen += result["bodies"]
        if result["done"]:
            break
        cursor = result["cursor"]
    assert result["done"] and seen == expected


def test_search_sees_updates_deletes_and_filters(make_backend):
    backend = make_backend()
    first = call(backend, "mutation", post, {"body": "buy oat milk", "topic": "shopping"})
    call(backend, "mutation", post, {"body": "milk the cows", "topic": "farm"})
    assert call(backend, "query", search_posts, {"text": "milk", "topic": "farm"}) == [
        "milk the cows"
    ]
    call(backend, "mutation", edit_post, {"id": first, "body": "buy bread"})
    assert call(backend, "query", search_posts, {"text": "milk", "topic": None}) == [
        "milk the cows"
    ]
    assert call(backend, "query", search_posts, {"text": "bre", "topic": None}) == ["buy bread"]
    call(backend, "mutation", edit_post, {"id": first, "body": None})
    assert call(backend, "query", search_posts, {"text": "bread", "topic": None}) == []


TAGS = [MISSING, None, "a", "b"]  # in Convex's order: undefined < null < strings


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    tags=st.lists(st.sampled_from(TAGS), max_size=12),
    op=st.sampled_from(["eq", "gt", "gte", "lt", "lte"]),
    bound=st.sampled_from(TAGS),
)
def test_index_ranges_over_a_missing_field_order_it_before_null(make_backend, tags, op, bound):
    backend = make_backend()
    for t in tags:
        call(backend, "mutation", tag, {"tag": t})
    got = call(backend, "query", tagged_range, {"op": op, "tag": bound})
    compare = {"eq": operator.eq, "gt": operator.gt, "gte": operator.ge}
    compare |= {"lt": operator.lt, "lte": operator.le}
    kept = sorted(TAGS.index(t) for t in tags if compare[op](TAGS.index(t), TAGS.index(bound)))
    assert got == ["missing" if TAGS[i] is MISSING else TAGS[i] for i in kept]


steps = st.lists(
    st.tuples(
        st.sampled_from(["insert", "move", "delete"]),
        st.sampled_from(["a", "b"]),
        st.integers(-3, 3).map(float),
        st.integers(0, 20),
    ),
    max_size=15,
)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=steps)
def test_a_query_at_a_past_timestamp_sees_the_data_as_it_was(make_backend, steps):
    backend = make_backend()
    live: dict[str, tuple[str, float]] = {}
    history = [(backend.engine.last_ts(), {})]
    for action, group, n, pick in steps:
        if action == "insert" or not live:
            live[call(backend, "mutation", insert, {"group": group, "n": n})] = (group, n)
        else:
            id_ = sorted(live)[pick % len(live)]
            if action == "move":
                call(backend, "mutation", move, {"id": id_, "n": n})
                live[id_] = (live[id_][0], n)
            else:
                call(backend, "mutation", delete, {"id": id_})
                del live[id_]
        history.append((backend.engine.last_ts(), dict(live)))
    for ts, then in history:
        for group in ("a", "b"):
            args = in_range.encode_args({"group": group, "lo": None, "hi": None, "order": "asc"})
            seen = effects.run_sync(backend.query(in_range, args, None, ts))
            assert seen.value == sorted(n for g, n in then.values() if g == group)
            assert seen.ts == ts


def test_a_query_further_back_than_the_known_commits_is_refused(make_backend):
    backend = make_backend()
    start = backend.engine.last_ts()
    backend.engine._log = CommitLog(size=2)  # type: ignore[attr-defined]  # forget sooner
    for n in range(3):
        call(backend, "mutation", insert, {"group": "a", "n": float(n)})
    args = in_range.encode_args({"group": "a", "lo": None, "hi": None, "order": "asc"})
    exit_ = effects.run_sync_exit(backend.query(in_range, args, None, start))
    assert exit_ == effects.Exit.fail(TimestampTooOldError(ts=start))


def test_blobs_are_written_and_read_in_pieces_and_kept_once_by_their_sha256(make_backend):
    engine = make_backend().engine
    data = bytes(range(256)) * (BLOB_CHUNK_BYTES // 128 + 3)  # a little over two pieces
    sha = engine.put_blob(
        [data[:1000], data[1000 : BLOB_CHUNK_BYTES + 7], data[BLOB_CHUNK_BYTES + 7 :]]
    )
    assert sha == hashlib.sha256(data).hexdigest()
    pieces = engine.read_blob(sha)
    assert pieces is not None
    pieces = list(pieces)
    assert b"".join(pieces) == data and max(len(piece) for piece in pieces) <= BLOB_CHUNK_BYTES
    assert engine.put_blob([data]) == sha
    engine.delete_blob(sha)
    assert engine.read_blob(sha) is None  # the same bytes were kept once
    empty = engine.put_blob([])
    assert (empty, engine.get_blob(empty)) == (hashlib.sha256().hexdigest(), b"")
    dropped = engine.new_blob()
    dropped.write(b"never kept")
    dropped.discard()
    assert engine.read_blob(hashlib.sha256(b"never kept").hexdigest()) is None


def test_a_batch_that_writes_one_document_several_times_keeps_its_last_version(make_backend):
    backend = make_backend()
    engine = backend.engine
    a, b = (str(new_id(backend.numbers["posts"])) for _ in range(2))

    def post(id_: str, body: str, at: float) -> dict:
        return {"_id": id_, "_creationTime": at, "body": body, "topic": "t"}

    engine.commit_many(
        [
            (0, [], [Write("posts", a, None, post(a, "apple pie", 1.0))]),
            (0, [], [Write("posts", b, None, post(b, "plum", 2.0))]),
            (0, [], [Write("posts", a, post(a, "apple pie", 1.0), post(a, "cherry tart", 1.0))]),
            (0, [], [Write("posts", b, post(b, "plum", 2.0), None)]),
        ]
    )
    assert [d["body"] for d in engine.documents("posts")] == ["cherry tart"]
    assert engine.get("posts", b) is None
    words = ["apple", "pie", "cherry", "tart", "plum"]
    found = {word: engine.search_candidates("posts", "search_body", [word]) for word in words}
    assert found == {word: {a} if word in ("cherry", "tart") else set() for word in words}
