"""The store tests' databases: each test runs on SQLite and on a real PostgreSQL (marked `postgres`)."""

import pytest

from core.storage.store import open_store
from tests.harness.postgres import postgres_server, postgres_url  # noqa: F401 -- pytest fixtures


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'digitlab.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def store(url):
    opened = open_store(url)
    yield opened
    opened.close()


@pytest.fixture
def lab(store) -> int:
    return store.open_lab(store.create_lab())
