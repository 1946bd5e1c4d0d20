"""Bring a database to the latest schema with Alembic (on start, and by `dlf-bot migrate`).

A database already at the latest revision (every restart but the first after an upgrade) is recognised without
Alembic: importing it costs a quarter of a second of start-up, so it is imported only when there is work for it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.engine import create_engine
from bot.store.url import normalise_database_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r"^revision(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?::[^=]*)?=\s*(.+)$", re.MULTILINE)
_QUOTED = re.compile(r"['\"]([^'\"]+)['\"]")

# Any constant works: it only has to be the same in every replica of this bot.
_MIGRATION_LOCK_KEY = 0x646C665F626F74  # "dlf_bot"


def alembic_config(database_url: str) -> Config:
    """A programmatic Alembic config for `database_url` (no alembic.ini needed)."""
    from alembic.config import Config

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


def head_revisions() -> frozenset[str]:
    """The latest revision(s) of the migrations, read from their files (those no other revision comes after)."""
    revisions: set[str] = set()
    earlier: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(source), _DOWN_REVISION.search(source)
        if revision is None or down is None:
            return frozenset()  # not a file this reader understands: Alembic decides
        revisions.add(revision.group(1))
        earlier.update(_QUOTED.findall(down.group(1)))
    return frozenset(revisions - earlier)


async def at_head(engine: AsyncEngine) -> bool:
    """Whether the database's Alembic version is the latest revision (False when it cannot tell)."""
    heads = head_revisions()
    if not heads:
        return False
    try:
        async with engine.connect() as conn:
            current = {row[0] for row in await conn.execute(text("SELECT version_num FROM alembic_version"))}
    except DBAPIError:
        return False  # no version table yet: a new database
    return current == heads


async def migrate_engine(engine: AsyncEngine) -> None:
    """`migrate`, on an engine the caller owns (an in-memory SQLite database only exists inside its engine)."""
    if await at_head(engine):
        return
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
        await conn.run_sync(_upgrade, config)


def _upgrade(connection: Connection, config: Config) -> None:
    from alembic import command

    config.attributes["connection"] = connection
    command.upgrade(config, "head")


__all__ = ["MIGRATIONS_DIR", "alembic_config", "at_head", "head_revisions", "migrate", "migrate_engine"]
