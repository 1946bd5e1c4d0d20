"""A database already at the latest revision is opened without Alembic (a quarter of a second of every start-up)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bot.store import create_engine, migrate
from bot.store.migrate import alembic_config, at_head, head_revisions
from bot.store.testing import temporary_postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'fast.db'}"
        return
    async with temporary_postgres_database(request.getfixturevalue("postgres_server"), prefix="dlfbot_fast") as url:
        yield url


def test_the_heads_read_from_the_files_are_alembics() -> None:
    assert head_revisions() == frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


async def test_only_a_migrated_database_is_at_head(empty_url: str) -> None:
    engine = create_engine(empty_url)
    try:
        assert not await at_head(engine)  # no version table yet
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0003")
        assert not await at_head(engine)  # an older schema goes through Alembic
        await migrate(empty_url)
        assert await at_head(engine)
    finally:
        await engine.dispose()


def _upgrade_to(connection: Connection, revision: str) -> None:
    config = alembic_config("sqlite://")
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_opening_a_migrated_store_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fast.db'}"
    await migrate(url)
    script = (
        "import asyncio, sys\n"
        "from bot.store import Store\n"
        "async def main():\n"
        f"    store = await Store.open({url!r})\n"
        "    await store.aclose()\n"
        "asyncio.run(main())\n"
        "print('alembic' in sys.modules)\n"
    )
    found = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert found.stdout.strip() == "False"
