"""Several `confect serve` processes on one PostgreSQL deployment act as one: a subscriber on
one sees commits made through another, and their commits serialize."""

import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.postgres import URL, postgres_schema
from tests.servers import confect_serve

from .conftest import Live, notes_app, run_driver


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, Live]]:
    with postgres_schema() as schema:
        app, key = notes_app(tmp_path_factory.mktemp("scale-out"))
        engine = f"{URL}?schema={schema}"
        with (
            confect_serve(app, "--engine", engine) as first,
            confect_serve(app, "--engine", engine) as second,
        ):
            yield Live(first.url, app, key), Live(second.url, app, key)


def test_a_subscriber_sees_a_mutation_made_through_another_server(two_servers):
    first, second = two_servers
    lines = run_driver(
        [
            sys.executable,
            "-m",
            "tests.integration.python_client",
            f"{first.url},{second.url}",
            "across_servers",
            first.token("py-user"),
        ]
    )
    got = {line["step"]: line["value"] for line in lines}
    assert got["subscription"]["after"] == [
        "written through the other server",
        *got["subscription"]["before"],
    ]
    assert got["read back"] == got["subscription"]["after"]


def test_concurrent_increments_through_both_servers_all_count(two_servers):
    first, second = two_servers
    headers = {"Authorization": f"Bearer {first.token('counter')}"}
    with httpx.Client(timeout=30) as client:
        for i in range(20):
            server = first if i % 2 else second
            response = client.post(
                f"{server.url}/api/mutation",
                json={"path": "notes:add", "args": {"text": f"n{i}"}, "format": "json"},
                headers=headers,
            )
            assert response.json()["status"] == "success", response.text
        for server in (first, second):
            listed = client.post(
                f"{server.url}/api/query",
                json={"path": "notes:list_by_author", "args": {"author": "counter"}},
            ).json()["value"]
            assert sorted(n["text"] for n in listed) == sorted(f"n{i}" for i in range(20))
