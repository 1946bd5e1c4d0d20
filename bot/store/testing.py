"""Throw-away databases for tests and benchmarks: a fresh PostgreSQL database per run, emptied between tests.

Nothing here reads the environment: callers pass the server URL (tests read `DLF_BOT_TEST_POSTGRES_URL`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.store.tables import metadata
from bot.store.url import parse_database_url

TEST_POSTGRES_URL_ENV = "DLF_BOT_TEST_POSTGRES_URL"


async def postgres_reachable(server_url: str) -> bool:
    """True when a PostgreSQL server answers at `server_url`."""
    engine = create_async_engine(parse_database_url(server_url), connect_args={"timeout": 3})
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - any failure means "not usable"; the caller skips
        return False
    finally:
        await engine.dispose()


async def create_temporary_database(server_url: str, *, prefix: str = "dlfbot_test") -> str:
    """Create a uniquely named, empty database on the server of `server_url` and return its URL.

    Concurrent test runs on one server each get their own database, so they never see each other's rows.
    """
    server = parse_database_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    return server.set(database=name).render_as_string(hide_password=False)


async def drop_database(database_url: str) -> None:
    """Drop the database of `database_url` (connecting to the server's `postgres` database to do it)."""
    url = parse_database_url(database_url)
    admin = create_async_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    finally:
        await admin.dispose()


@asynccontextmanager
async def temporary_postgres_database(server_url: str, *, prefix: str = "dlfbot_test") -> AsyncIterator[str]:
    """A fresh database for the duration of the block (see `create_temporary_database`)."""
    url = await create_temporary_database(server_url, prefix=prefix)
    try:
        yield url
    finally:
        await drop_database(url)


async def empty_all_tables(engine: AsyncEngine) -> None:
    """Delete every row of every bot table (keeps the schema and Alembic's version)."""
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
        else:
            for table in reversed(metadata.sorted_tables):
                await conn.execute(table.delete())


def immutable_files_unavailable() -> str | None:
    """None when `immutable_files` can work here, else why not (it needs root and `chattr`)."""
    if shutil.which("chattr") is None:
        return "chattr is not installed"
    if os.geteuid() != 0:
        return "making a file immutable (chattr +i) needs root"
    return None


def set_immutable(paths: list[Path], on: bool) -> None:
    """`chattr +i` (or `-i`) on every existing path of `paths`."""
    existing = [str(path) for path in paths if path.exists()]
    if existing:
        subprocess.run(["chattr", "+i" if on else "-i", *existing], check=True, capture_output=True)


@contextlib.contextmanager
def immutable_files(*paths: Path) -> Iterator[None]:
    """The files cannot be written for the block, by anyone — root included, and through descriptors already open
    (`chattr +i`): what a disk remounted read-only, or a read-only volume, does to a process. Plain chmod is not:
    it stops neither root nor a process that opened the file before.

    For a SQLite database pass the file and its `-wal`, not its `-shm`: SQLite maps the shared-memory file, and a
    write to a mapping of an immutable file kills the process with SIGBUS — a test of the kernel, not of the bot.
    """
    listed = list(paths)
    set_immutable(listed, True)
    try:
        yield
    finally:
        set_immutable(listed, False)


class ManualClock:
    """A clock tests move by hand: `clock()` is epoch ms, `clock.advance(seconds)` moves it on."""

    def __init__(self, *, start_ms: int = 1_790_000_000_000) -> None:
        self.now_ms = start_ms

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now_ms += int(seconds * 1000)


T = TypeVar("T")


def run_in_own_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion in a fresh event loop on another thread (safe even while a test's loop runs)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


__all__ = [
    "TEST_POSTGRES_URL_ENV",
    "ManualClock",
    "create_temporary_database",
    "drop_database",
    "empty_all_tables",
    "immutable_files",
    "immutable_files_unavailable",
    "postgres_reachable",
    "run_in_own_loop",
    "set_immutable",
    "temporary_postgres_database",
]
