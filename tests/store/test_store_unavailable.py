"""A database that is locked, read-only or unreachable fails a unit of work with `StoreUnavailable(kind)` — nothing
saved — while a bug stays a bug; `probe()` says the same within its bound, for `/healthz`."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from bot.errors import StoreUnavailable
from bot.store import Store, create_engine, migrate
from bot.store.failures import store_unavailable
from bot.store.testing import ManualClock, immutable_files, immutable_files_unavailable


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> Any:
    url = f"sqlite:///{tmp_path}/bot.db"
    await migrate(url)
    store = Store(engine=create_engine(url), clock=ManualClock())
    yield store
    await store.aclose()


@pytest.fixture
def locked_by_another_program(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """Another connection (as another process would) holding the SQLite file's write lock."""
    other = sqlite3.connect(tmp_path / "bot.db", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    yield other
    if other.in_transaction:
        other.execute("ROLLBACK")
    other.close()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_a_write_waits_its_lock_wait_then_says_locked_and_saves_nothing(
    sqlite_store: Store, locked_by_another_program: sqlite3.Connection
) -> None:
    with pytest.raises(StoreUnavailable) as raised:
        async with sqlite_store.transaction(lock_wait_s=0.2) as tx:
            await tx.audit.record(actor="U1", action="watch")
    assert raised.value.kind == "locked" and "database is locked" in raised.value.detail
    # A reader waits for no writer (WAL): `/dlf watches` and health's reads go on while another program writes.
    async with sqlite_store.transaction(read_only=True, lock_wait_s=0.2) as tx:
        assert await tx.audit.recent() == []
    failure = await sqlite_store.probe()
    assert failure is not None and failure.kind == "locked"

    locked_by_another_program.execute("ROLLBACK")  # the other program is done
    assert await sqlite_store.probe() is None
    async with sqlite_store.transaction(lock_wait_s=0.2) as tx:
        await tx.audit.record(actor="U1", action="watch")


async def test_a_read_only_database_file_is_said_at_open_in_probes_and_in_writes(tmp_path: Path) -> None:
    reason = immutable_files_unavailable()
    if reason:
        pytest.skip(reason)
    url = f"sqlite:///{tmp_path}/bot.db"
    store = await Store.open(url)
    files = [tmp_path / "bot.db", tmp_path / "bot.db-wal"]
    try:
        with immutable_files(*files):
            # Already open: the next write fails on the disk; a new connection opens it read-only.
            with pytest.raises(StoreUnavailable) as raised:
                async with store.transaction() as tx:
                    await tx.audit.record(actor="U1", action="watch")
            assert raised.value.kind in ("read_only", "unwritable")
            failure = await store.probe()
            assert failure is not None and failure.kind == "read_only"
            # Migrations with nothing to do write nothing: the start-up check writes, and says why it cannot.
            with pytest.raises(StoreUnavailable) as at_start:
                await Store.open(url)
            assert at_start.value.kind == "read_only"
            assert "readonly" in at_start.value.detail
        # Writable again: the same store works, nothing to restart.
        assert await store.probe() is None
        async with store.transaction() as tx:
            await tx.audit.record(actor="U1", action="watch")
            assert len(await tx.audit.recent()) == 1
    finally:
        await store.aclose()


async def test_an_unreachable_postgresql_is_said_by_units_of_work_and_probes() -> None:
    store = Store(engine=create_engine(f"postgresql://postgres@127.0.0.1:{_closed_port()}/nowhere"))
    try:
        with pytest.raises(StoreUnavailable) as raised:
            async with store.transaction() as tx:
                await tx.audit.recent()
        assert raised.value.kind == "unreachable"
        with pytest.raises(StoreUnavailable):
            await store.try_acquire_lease("watcher.poll", "h", 30)
        failure = await store.probe()
        assert failure is not None and failure.kind == "unreachable"
    finally:
        await store.aclose()


async def test_a_bug_stays_a_bug(sqlite_store: Store) -> None:
    with pytest.raises(sa_exc.OperationalError, match="no such table"):
        async with sqlite_store.transaction() as tx:
            await tx.conn.execute(text("SELECT * FROM no_such_table"))
    # An error of the caller's own inside a unit of work (here a network error) is not the database's.
    with pytest.raises(ConnectionRefusedError):
        async with sqlite_store.transaction():
            raise ConnectionRefusedError(111, "Slack refused")


class _DriverError(Exception):
    def __init__(self, message: str, *, sqlstate: str | None = None, sqlite_errorname: str | None = None) -> None:
        super().__init__(message)
        if sqlstate is not None:
            self.sqlstate = sqlstate
        if sqlite_errorname is not None:
            self.sqlite_errorname = sqlite_errorname


def _wrapped(orig: Exception, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError("SELECT 1", None, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        # SQLite, by result code: another writer past the busy timeout; a file or disk that refuses writes.
        (_wrapped(_DriverError("database is locked", sqlite_errorname="SQLITE_BUSY")), "locked"),
        (
            _wrapped(_DriverError("attempt to write a readonly database", sqlite_errorname="SQLITE_READONLY")),
            "read_only",
        ),
        (_wrapped(_DriverError("disk I/O error", sqlite_errorname="SQLITE_IOERR_WRITE")), "unwritable"),
        (_wrapped(_DriverError("database or disk is full", sqlite_errorname="SQLITE_FULL")), "unwritable"),
        (_wrapped(_DriverError("unable to open database file", sqlite_errorname="SQLITE_CANTOPEN")), "unreachable"),
        # A plain SQL error of SQLite is a bug, not an outage.
        (_wrapped(_DriverError("no such table: x", sqlite_errorname="SQLITE_ERROR")), None),
        # PostgreSQL, by SQLSTATE: a standby or read-only default; lock_timeout; a connection gone; restarting.
        (_wrapped(_DriverError("cannot execute INSERT in a read-only transaction", sqlstate="25006")), "read_only"),
        (_wrapped(_DriverError("canceling statement due to lock timeout", sqlstate="55P03")), "locked"),
        (_wrapped(_DriverError("connection was closed in the middle of operation", sqlstate="08003")), "unreachable"),
        (_wrapped(_DriverError("the database system is starting up", sqlstate="57P03")), "unreachable"),
        (
            _wrapped(_DriverError("terminating connection due to administrator command", sqlstate="57P01")),
            "unreachable",
        ),
        (_wrapped(_DriverError("could not extend file: No space left on device", sqlstate="53100")), "unwritable"),
        # A unique violation or a syntax error is a bug.
        (_wrapped(_DriverError("duplicate key value", sqlstate="23505")), None),
        (_wrapped(_DriverError("syntax error", sqlstate="42601")), None),
        # A connection SQLAlchemy invalidated, whatever the driver said.
        (_wrapped(_DriverError("???"), invalidated=True), "unreachable"),
        # asyncpg raises these itself while connecting (outside SQLAlchemy's wrapping).
        (ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 1)"), "unreachable"),
        (TimeoutError(), "unreachable"),
        (sa_exc.TimeoutError("QueuePool limit reached"), "unreachable"),
        (ValueError("a bug"), None),
    ],
)
def test_which_failures_are_the_database_not_answering(error: BaseException, kind: str | None) -> None:
    found = store_unavailable(error)
    assert (found.kind if found is not None else None) == kind
