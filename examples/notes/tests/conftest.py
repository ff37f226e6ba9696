import pytest


@pytest.fixture
def confect_app() -> str:
    return "examples.notes"
