"""The schema is managed by Alembic: it applies from empty, twice is harmless, and it matches the models."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from bot.store import Store, create_engine, migrate
from bot.store.migrate import alembic_config
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


def _head(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


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
    assert version == _head(empty_database_url)


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
    assert version == _head(empty_database_url)


async def test_upgrading_from_the_first_revision_keeps_existing_subscriptions(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_to, empty_database_url, "0001")
            await conn.execute(
                text(
                    "INSERT INTO subscriptions (channel, profile, target, is_pattern, instance_id, events, state,"
                    " created_by, created_at) VALUES ('C1', 'default', 'job_a', false, 0, 'failure', 'active', 'U1', 1)"
                )
            )
    finally:
        await engine.dispose()

    await migrate(empty_database_url)

    store = await Store.open(empty_database_url, run_migrations=False)
    try:
        async with store.transaction() as tx:
            (sub,) = await tx.subscriptions.list_for_channel("C1")
            long_mention = "<!subteam^S0123456789|@data-platform-oncall-europe-and-asia>"
            again, created = await tx.subscriptions.subscribe(
                channel="C1", profile="default", target="job_a", created_by="U2", mention=long_mention
            )
    finally:
        await store.aclose()
    assert (sub.target, sub.created_by) == ("job_a", "U1")
    assert (again.id, created, again.mention) == (sub.id, False, long_mention)


async def test_upgrading_to_0008_keeps_the_delay_of_the_reminders_still_to_come(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    columns = (
        "channel, profile, job_name, first_instance_id, last_instance_id, failure_count, state, root_key,"
        " opened_at, updated_at, escalate_at, escalated_at"
    )
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_to, empty_database_url, "0007")
            for job, escalate_at, escalated_at in (("job_a", 900_000, None), ("job_b", None, 900_000)):
                await conn.execute(
                    text(
                        f"INSERT INTO incidents ({columns}) VALUES"
                        " ('C1', 'default', :job, 7, 7, 1, 'open', :key, 0, 0, :escalate_at, :escalated_at)"
                    ),
                    {"job": job, "key": f"card-{job}", "escalate_at": escalate_at, "escalated_at": escalated_at},
                )
    finally:
        await engine.dispose()

    await migrate(empty_database_url)

    store = await Store.open(empty_database_url, run_migrations=False)
    try:
        async with store.transaction(read_only=True) as tx:
            found = {i.job_name: i.escalate_after_ms for i in await tx.incidents.unresolved("default")}
    finally:
        await store.aclose()
    assert found == {"job_a": 900_000, "job_b": None}  # pending: its delay; sent already: none to keep


def _upgrade_to(connection: Connection, url: str, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_an_in_memory_sqlite_database_is_migrated_on_open() -> None:
    store = await Store.open("sqlite://")
    try:
        async with store.transaction() as tx:
            await tx.subscriptions.subscribe(channel="C1", profile="default", target="job_a", created_by="U1")
        async with store.transaction() as tx:
            assert len(await tx.subscriptions.list_for_channel("C1")) == 1
    finally:
        await store.aclose()
