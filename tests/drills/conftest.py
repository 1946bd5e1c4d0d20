"""Drill fixtures: the sandbox and the fake Slack serving in the test's loop, a `World` around them, databases.

Drills are marked `drill` (and `slow`); `.ci/run` runs them with the rest of the suite.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pgserver import ThrowawayPostgres, available, throwaway_postgres
from rig import World

from bot.render.limits import problems
from bot.store.testing import create_temporary_database, drop_database
from dlf_sandbox import Sandbox
from slack_fake import FakeSlack


@pytest.fixture
async def world() -> AsyncIterator[World]:
    """An empty sandbox (no seed) and a fake Slack validating every message; bots are killed at the end."""
    sandbox = Sandbox(seed=False)
    slack = FakeSlack(validator=problems)
    async with sandbox.serve() as dlf_url, slack.serve() as slack_url:
        world = World(sandbox=sandbox, slack=slack, dlf_url=dlf_url, slack_url=slack_url)
        try:
            yield world
        finally:
            await world.close()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/bot.db"


@pytest.fixture
async def postgres_db(postgres_server: str) -> AsyncIterator[str]:
    """A fresh database on the machine's PostgreSQL (skip, or fail in CI, when there is none)."""
    url = await create_temporary_database(postgres_server, prefix="dlfbot_drill")
    try:
        yield url
    finally:
        await drop_database(url)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest) -> str:
    """The drill's database: a SQLite file, and (marked postgres) a PostgreSQL database."""
    return str(request.getfixturevalue("sqlite_db" if request.param == "sqlite" else "postgres_db"))


@pytest.fixture
def own_postgres() -> Iterator[ThrowawayPostgres]:
    """A PostgreSQL server of this test's own, to kill and restart (never the machine's)."""
    reason = available()
    if reason is not None:
        pytest.skip(reason)
    with throwaway_postgres() as server:
        yield server
