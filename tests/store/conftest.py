"""Store fixtures: every store test runs on a real SQLite file and, when configured, on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.store import Store, create_engine, migrate
from bot.store.testing import (
    ManualClock,
    create_temporary_database,
    drop_database,
    empty_all_tables,
    run_in_own_loop,
)


@pytest.fixture(scope="session")
def postgres_session_url(postgres_server: str) -> Iterator[str]:
    """One migrated database of this test session's own (other runs on the server use theirs)."""
    url = run_in_own_loop(create_temporary_database(postgres_server, prefix="dlfbot_store"))
    try:
        run_in_own_loop(migrate(url))
        yield url
    finally:
        run_in_own_loop(drop_database(url))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated, empty database: a new SQLite file, or the session's PostgreSQL database emptied."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db')}/bot.db"
        await migrate(url)
        return url
    url = request.getfixturevalue("postgres_session_url")
    engine = create_engine(url)
    try:
        await empty_all_tables(engine)
    finally:
        await engine.dispose()
    return url


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
