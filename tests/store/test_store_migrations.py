"""The schema is managed by Alembic: it applies from empty, twice is harmless, and it matches the models."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bot.store import Store, create_engine, migrate
from bot.store.tables import metadata
from bot.store.testing import temporary_postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A database with nothing in it at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/not/yet/there/bot.db"  # the directory does not exist yet either
        return
    server = request.getfixturevalue("postgres_server")
    async with temporary_postgres_database(server, prefix="dlfbot_migrate") as url:
        yield url


def _schema_facts(connection: Connection) -> tuple[set[str], list[object]]:
    tables = set(inspect(connection).get_table_names())
    diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), metadata)
    return tables, diff


async def _inspect(url: str) -> tuple[set[str], list[object], str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            tables, diff = await conn.run_sync(_schema_facts)
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar_one()
    finally:
        await engine.dispose()
    return tables, diff, version


async def test_migrations_apply_from_empty_and_match_the_models(empty_database_url: str) -> None:
    await migrate(empty_database_url)

    tables, diff, version = await _inspect(empty_database_url)
    assert {t.name for t in metadata.sorted_tables} <= tables
    assert diff == [], "the migrations and bot/store/tables.py disagree: write a migration"
    assert version == "0001"


async def test_migrating_again_is_a_no_op_that_keeps_data(empty_database_url: str) -> None:
    await migrate(empty_database_url)
    store = await Store.open(empty_database_url)  # migrates again on open
    try:
        async with store.transaction() as tx:
            await tx.subscriptions.subscribe(channel="C1", profile="default", target="job_a", created_by="U1")
        await migrate(empty_database_url)
        async with store.transaction() as tx:
            assert [s.target for s in await tx.subscriptions.list_for_channel("C1")] == ["job_a"]
    finally:
        await store.aclose()


async def test_replicas_starting_together_both_migrate_without_error(empty_database_url: str) -> None:
    await asyncio.gather(migrate(empty_database_url), migrate(empty_database_url), migrate(empty_database_url))

    _tables, diff, version = await _inspect(empty_database_url)
    assert diff == []
    assert version == "0001"
