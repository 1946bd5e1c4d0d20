"""Alembic environment: runs on the connection `bot.store.migrate` hands in, or (the `alembic` command line) on the
URL given with `-x url=...` or as `sqlalchemy.url`. It reads no environment variable: only the entry point (bot.cli) reads settings.

    alembic -c bot/store/alembic.ini -x url=sqlite:///dlf-bot.sqlite3 upgrade head
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from bot.store.engine import create_engine
from bot.store.tables import metadata
from bot.store.url import DEFAULT_DATABASE_URL, normalise_database_url

config = context.config


def _configure_and_run(connection: Connection) -> None:
    # Batch mode lets later migrations ALTER tables on SQLite (which rebuilds the table instead).
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_configure_and_run)
    finally:
        await engine.dispose()


def _database_url() -> str:
    given = context.get_x_argument(as_dictionary=True).get("url")
    return given or config.get_main_option("sqlalchemy.url") or DEFAULT_DATABASE_URL


if context.is_offline_mode():
    context.configure(url=normalise_database_url(_database_url()), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
elif (given := config.attributes.get("connection")) is not None:
    _configure_and_run(given)
else:
    if config.config_file_name is not None:
        fileConfig(config.config_file_name)
    asyncio.run(_run_with_own_engine(_database_url()))
