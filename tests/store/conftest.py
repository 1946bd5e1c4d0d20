"""Store fixtures: every store test runs on a real SQLite file and, when configured, on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.store import Store, create_engine
from bot.store.testing import ManualClock


@pytest.fixture
def database_url(migrated_database_url: str) -> str:
    """A migrated, empty database (SQLite file, and PostgreSQL when configured): see tests/conftest.py."""
    return migrated_database_url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def store(database_url: str, clock: ManualClock) -> AsyncIterator[Store]:
    """A Store on `database_url` with a hand-moved clock."""
    opened = Store(engine=create_engine(database_url), clock=clock)
    yield opened
    await opened.aclose()


@pytest.fixture
async def second_store(database_url: str, clock: ManualClock) -> AsyncIterator[Store]:
    """Another Store (its own engine and connections) on the same database: a second replica."""
    opened = Store(engine=create_engine(database_url), clock=clock)
    yield opened
    await opened.aclose()
