"""Store fixtures: every store test runs on a real SQLite file and, when configured, on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from bot.store import Store, create_engine, migrate
from bot.store.testing import (
    TEST_POSTGRES_URL_ENV,
    ManualClock,
    create_temporary_database,
    drop_database,
    empty_all_tables,
    postgres_reachable,
)

T = TypeVar("T")


def run_in_own_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion in a fresh event loop on another thread (safe even while a test's loop runs)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The configured PostgreSQL server's URL, or skip the test."""
    server = os.environ.get(TEST_POSTGRES_URL_ENV)
    if not server or not run_in_own_loop(postgres_reachable(server)):
        reason = f"{TEST_POSTGRES_URL_ENV} is not set or no PostgreSQL answers there"
        if os.environ.get("DLF_BOT_REQUIRE_POSTGRES"):  # CI: a missing database must fail, not skip quietly
            pytest.fail(reason)
        pytest.skip(reason)
    return server


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
