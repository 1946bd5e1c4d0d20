"""The async engine for a `DATABASE_URL`, with SQLite set up for a small concurrent workload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.store.url import parse_database_url

# How long a SQLite writer waits for another (process or connection) before giving up.
SQLITE_BUSY_TIMEOUT_MS = 15_000


def create_engine(database_url: str) -> AsyncEngine:
    """An AsyncEngine for `database_url` as users write it (see `bot.store.url`).

    SQLite: the file's directory is created, WAL journal (readers don't block the writer), a busy timeout, and every
    transaction starts with `BEGIN IMMEDIATE` so two writers queue on the busy timeout instead of failing to upgrade
    a read lock. PostgreSQL: asyncpg with pre-ping, so a restarted server does not fail the next cycle.
    """
    url = parse_database_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_async_engine(url, pool_pre_ping=True)


def _sqlite_engine(url: URL) -> AsyncEngine:
    if url.database and url.database != ":memory:" and not url.query.get("uri"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine.sync_engine, "connect")
    def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN is deferred; we emit BEGIN IMMEDIATE ourselves (see `_begin_immediate`).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "create_engine"]
