"""pytest plugin: a `confect_test` fixture, a fresh `ConfectTest` of the app named by the
`confect_app` fixture (define it in your conftest: `return "myapp"` or the package)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from confect.testing import ConfectTest


@pytest.fixture
def confect_test(confect_app: object) -> Iterator[ConfectTest]:
    """A fresh test deployment of `confect_app`, closed after the test."""
    test = ConfectTest(confect_app)  # pyright: ignore[reportArgumentType]
    yield test
    test.close()
