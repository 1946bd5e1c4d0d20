"""Bring a database to the latest schema with Alembic (on start, and by `dlf-bot migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.engine import create_engine
from bot.store.url import normalise_database_url

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Any constant works: it only has to be the same in every replica of this bot.
_MIGRATION_LOCK_KEY = 0x646C665F626F74  # "dlf_bot"


def alembic_config(database_url: str) -> Config:
    """A programmatic Alembic config for `database_url` (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would read a "%" in a password as a reference.
    config.set_main_option("sqlalchemy.url", normalise_database_url(database_url).replace("%", "%%"))
    return config


async def migrate(database_url: str) -> None:
    """Upgrade the database at `database_url` to the latest revision; a no-op when it is there already.

    On PostgreSQL the upgrade holds a transaction-level advisory lock, so replicas starting together migrate one at a
    time; on SQLite the transaction begins IMMEDIATE, which serialises writers the same way.
    """
    engine = create_engine(database_url)
    try:
        await migrate_engine(engine)
    finally:
        await engine.dispose()


async def migrate_engine(engine: AsyncEngine) -> None:
    """`migrate`, on an engine the caller owns (an in-memory SQLite database only exists inside its engine)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        await conn.run_sync(_upgrade, config)


def _upgrade(connection: Connection, config: Config) -> None:
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


__all__ = ["MIGRATIONS_DIR", "alembic_config", "migrate", "migrate_engine"]
