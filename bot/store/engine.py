"""The async engine for a `DATABASE_URL`, with SQLite set up for a small concurrent workload.

How long a unit of work waits for the database's lock depends on who waits (see `Store.transaction`):
- the watcher (poll cycle, deliverer, retention) waits `SQLITE_BUSY_TIMEOUT_MS`, 15 s: nobody is waiting on it, and
  failing early would only redo the cycle's DLF calls a poll interval later;
- a person's command waits `COMMAND_LOCK_WAIT_S`, 5 s: the bot's own transactions hold the lock for milliseconds,
  so 5 s of waiting means another program holds it, and the person is better told so than kept waiting;
- `/healthz` waits `HEALTH_LOCK_WAIT_S`, 1 s, inside a 2 s answer (the container's health check allows 5 s).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.store.url import parse_database_url

# How long a SQLite writer waits for another (process or connection) before giving up: the watcher's wait.
SQLITE_BUSY_TIMEOUT_MS = 15_000
COMMAND_LOCK_WAIT_S = 5.0
HEALTH_LOCK_WAIT_S = 1.0
# asyncpg waits 60 s for a connection by default: a server that does not answer would hold a cycle (or a person)
# that long. A refused connection (server down) fails at once anyway.
POSTGRES_CONNECT_TIMEOUT_S = 10.0
PROBE_CONNECT_TIMEOUT_S = 1.5

# Execution options `Store.transaction` sets on its connection; read when the transaction begins.
LOCK_WAIT_OPTION = "dlf_lock_wait_ms"
READ_ONLY_OPTION = "dlf_read_only"


def create_engine(database_url: str, *, pool_size: int | None = None, probe: bool = False) -> AsyncEngine:
    """An AsyncEngine for `database_url` as users write it (see `bot.store.url`).

    SQLite: the file's directory is created, WAL journal (readers don't block the writer), a busy timeout, and every
    writing transaction starts with `BEGIN IMMEDIATE` so two writers queue on the busy timeout instead of failing to
    upgrade a read lock (a read-only one starts with a plain `BEGIN`: in WAL mode it waits for no writer).
    PostgreSQL: asyncpg with pre-ping, so a restarted server does not fail the next cycle, and a connect timeout.

    `pool_size` bounds the pool (tests: one connection, so every statement reuses it). `probe`: an engine for health
    probes — no pool (a probe abandoned at its deadline leaves nothing behind in the bot's pool) and a short connect
    timeout.
    """
    url = parse_database_url(database_url)
    options: dict[str, Any] = {}
    if probe:
        options["poolclass"] = NullPool
    elif pool_size is not None:
        options.update(pool_size=pool_size, max_overflow=0)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, options)
    timeout = PROBE_CONNECT_TIMEOUT_S if probe else POSTGRES_CONNECT_TIMEOUT_S
    return create_async_engine(url, pool_pre_ping=not probe, connect_args={"timeout": timeout}, **options)


def _sqlite_engine(url: URL, options: dict[str, Any]) -> AsyncEngine:
    if url.database and url.database != ":memory:" and not url.query.get("uri"):
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **options)

    @event.listens_for(engine.sync_engine, "connect")
    def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
        # The driver's own implicit BEGIN is deferred; we emit BEGIN IMMEDIATE ourselves (see `_begin`).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Any) -> None:
        # Set on every BEGIN, so a pooled connection never keeps the previous user's shorter (or longer) wait.
        options = connection.get_execution_options()
        wait_ms = int(options.get(LOCK_WAIT_OPTION, SQLITE_BUSY_TIMEOUT_MS))
        connection.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
        connection.exec_driver_sql("BEGIN" if options.get(READ_ONLY_OPTION) else "BEGIN IMMEDIATE")

    return engine


__all__ = [
    "COMMAND_LOCK_WAIT_S",
    "HEALTH_LOCK_WAIT_S",
    "LOCK_WAIT_OPTION",
    "POSTGRES_CONNECT_TIMEOUT_S",
    "READ_ONLY_OPTION",
    "SQLITE_BUSY_TIMEOUT_MS",
    "create_engine",
]
