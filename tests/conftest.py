"""Shared fixtures: the DLF sandbox and the fake Slack Web API on loopback, and a temporary SQLite database.

Keep this small: fixtures that only one area uses belong in that area's conftest.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.render.limits import problems
from bot.store import create_engine, migrate
from bot.store.testing import (
    TEST_POSTGRES_URL_ENV,
    create_temporary_database,
    drop_database,
    empty_all_tables,
    postgres_reachable,
    run_in_own_loop,
)
from dlf_sandbox import Sandbox
from slack_fake import FakeSlack


@dataclass(frozen=True)
class RunningSandbox:
    """A sandbox and the URL it serves at."""

    sandbox: Sandbox
    url: str


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    """A seeded DLF sandbox serving in the test's event loop."""
    box = Sandbox(seed=True)
    async with box.serve() as url:
        yield RunningSandbox(sandbox=box, url=url)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A fake Slack Web API that checks every message it receives with the bot's validator of Slack's limits."""
    fake = FakeSlack(validator=problems)
    async with fake.serve():
        yield fake


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file, as users write the URL."""
    return f"sqlite:///{tmp_path / 'dlf-bot.sqlite3'}"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The configured PostgreSQL server's URL, or skip the test — or fail it where CI requires PostgreSQL."""
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
    url = run_in_own_loop(create_temporary_database(postgres_server, prefix="dlfbot_tests"))
    try:
        run_in_own_loop(migrate(url))
        yield url
    finally:
        run_in_own_loop(drop_database(url))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def migrated_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
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
