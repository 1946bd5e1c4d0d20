"""The store: an engine plus units of work (one database transaction each) over the repositories.

A unit of work that fails because the database is locked, read-only, unwritable or unreachable raises
`bot.errors.StoreUnavailable` (see `bot.store.failures`); it rolled back, so nothing of it was saved.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.errors import StoreUnavailable
from bot.store import leases
from bot.store.audit import Audit
from bot.store.engine import (
    HEALTH_LOCK_WAIT_S,
    LOCK_WAIT_OPTION,
    READ_ONLY_OPTION,
    create_engine,
)
from bot.store.failures import store_unavailable
from bot.store.incidents import Incidents
from bot.store.instances import Instances
from bot.store.migrate import migrate_engine
from bot.store.mutes import Mutes
from bot.store.outbox import Outbox
from bot.store.request_keys import RequestKeys
from bot.store.subscriptions import Subscriptions
from bot.store.watcher_state import WatcherStates

Clock = Callable[[], int]

# The lease row `probe()` and `check_writable()` write: nobody ever holds it, writing it proves the database takes writes.
WRITE_PROBE_LEASE = "store.write_probe"


def wall_clock_ms() -> int:
    """Now, in epoch milliseconds."""
    return time.time_ns() // 1_000_000


@dataclass
class Transaction:
    """One unit of work: every repository bound to the same database transaction and the same `now`."""

    conn: AsyncConnection
    dialect: str
    now: int
    subscriptions: Subscriptions = field(init=False)
    instances: Instances = field(init=False)
    incidents: Incidents = field(init=False)
    outbox: Outbox = field(init=False)
    audit: Audit = field(init=False)
    watcher_state: WatcherStates = field(init=False)
    request_keys: RequestKeys = field(init=False)
    mutes: Mutes = field(init=False)

    def __post_init__(self) -> None:
        conn, dialect, now = self.conn, self.dialect, self.now
        self.subscriptions = Subscriptions(conn=conn, dialect=dialect, now=now)
        self.instances = Instances(conn=conn, dialect=dialect, now=now)
        self.incidents = Incidents(conn=conn, dialect=dialect, now=now)
        self.outbox = Outbox(conn=conn, dialect=dialect, now=now)
        self.audit = Audit(conn=conn, dialect=dialect, now=now)
        self.watcher_state = WatcherStates(conn=conn, dialect=dialect, now=now)
        self.request_keys = RequestKeys(conn=conn, dialect=dialect, now=now)
        self.mutes = Mutes(conn=conn, dialect=dialect, now=now)


class Store:
    """The bot's database. Build with `await Store.open(url)`; close with `await store.aclose()`."""

    def __init__(self, *, engine: AsyncEngine, clock: Clock = wall_clock_ms) -> None:
        self._engine = engine
        self._clock = clock
        self.dialect: str = engine.dialect.name
        self._probe_engine: AsyncEngine | None = None

    @classmethod
    async def open(
        cls,
        database_url: str,
        *,
        clock: Clock = wall_clock_ms,
        run_migrations: bool = True,
        check_writable: bool = True,
    ) -> Store:
        """Connect to `database_url` (as users write it), migrate it to the latest schema and check that it takes
        writes (a read-only file passes the migrations when they have nothing to do); each step can be skipped.

        Raises `StoreUnavailable` when the database is locked, read-only or unreachable."""
        engine = create_engine(database_url)
        store = cls(engine=engine, clock=clock)
        try:
            if run_migrations:
                async with store._classified():
                    await migrate_engine(engine)
            if check_writable:
                await store.check_writable()
        except BaseException:
            await store.aclose()
            raise
        return store

    @property
    def engine(self) -> AsyncEngine:
        """The underlying engine (tests and health checks)."""
        return self._engine

    def now(self) -> int:
        """The store's clock, epoch ms."""
        return self._clock()

    @asynccontextmanager
    async def transaction(
        self, *, read_only: bool = False, lock_wait_s: float | None = None
    ) -> AsyncIterator[Transaction]:
        """One unit of work: commits when the block ends normally, rolls back if it raises.

        `read_only`: the block only reads (on SQLite it then starts with a plain BEGIN and waits for no writer).
        `lock_wait_s`: how long to wait for a lock before giving up with `StoreUnavailable("locked")` — SQLite's busy
        timeout (default `SQLITE_BUSY_TIMEOUT_MS`, the watcher's), PostgreSQL's lock_timeout (default: no limit).
        A person's command passes `COMMAND_LOCK_WAIT_S`.
        """
        async with self._unit(self._engine, read_only=read_only, lock_wait_s=lock_wait_s) as conn:
            yield Transaction(conn=conn, dialect=self.dialect, now=self._clock())

    async def try_acquire_lease(self, name: str, holder: str, ttl: float) -> bool:
        """Take lease `name` for `ttl` seconds (or extend it if `holder` has it); False if another holder has it."""
        async with self._unit(self._engine) as conn:
            return await leases.try_acquire(
                conn, dialect=self.dialect, now=self._clock(), name=name, holder=holder, ttl_ms=int(ttl * 1000)
            )

    async def renew_lease(self, name: str, holder: str, ttl: float) -> bool:
        """Extend a held lease by `ttl` seconds from now; False if it was lost."""
        async with self._unit(self._engine) as conn:
            return await leases.renew(conn, now=self._clock(), name=name, holder=holder, ttl_ms=int(ttl * 1000))

    async def heartbeat(self, holder: str, ttl: float) -> bool:
        """Renew `holder`'s heartbeat lease (`replica:<holder>`) for `ttl` seconds; False if it had lapsed first."""
        async with self._unit(self._engine) as conn:
            return await leases.heartbeat(
                conn, dialect=self.dialect, now=self._clock(), holder=holder, ttl_ms=int(ttl * 1000)
            )

    async def forget_dead_replicas(self, *, older_than: float) -> int:
        """Delete the heartbeat leases of replicas dead for more than `older_than` seconds."""
        async with self._unit(self._engine) as conn:
            return await leases.forget_dead_replicas(conn, before=self._clock() - int(older_than * 1000))

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up (no-op if `holder` no longer holds it)."""
        async with self._unit(self._engine) as conn:
            await leases.release(conn, name=name, holder=holder)

    async def holds_lease(self, name: str, holder: str) -> bool:
        """Whether `holder` holds lease `name` now (unexpired); reads only."""
        async with self._unit(self._engine, read_only=True) as conn:
            return await leases.holds(conn, now=self._clock(), name=name, holder=holder)

    async def check_writable(self) -> None:
        """Write (and commit) one row, so a database that refuses writes says so now; raises `StoreUnavailable`."""
        async with self._unit(self._engine) as conn:
            await leases.touch(conn, dialect=self.dialect, now=self._clock(), name=WRITE_PROBE_LEASE)

    async def probe(self) -> StoreUnavailable | None:
        """Whether the database takes a write now: None if it did, else why not. For `/healthz`: bounded by
        `HEALTH_LOCK_WAIT_S` for a lock and a short connect timeout, on connections of its own (a probe abandoned
        at a deadline leaves nothing half-done in the bot's pool)."""
        try:
            async with self._unit(self._probing_engine(), lock_wait_s=HEALTH_LOCK_WAIT_S) as conn:
                await leases.touch(conn, dialect=self.dialect, now=self._clock(), name=WRITE_PROBE_LEASE)
        except StoreUnavailable as failure:
            return failure
        return None

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()
        if self._probe_engine is not None:
            await self._probe_engine.dispose()

    def _probing_engine(self) -> AsyncEngine:
        if self._probe_engine is None:
            url = self._engine.url
            if self.dialect == "sqlite" and url.database in (None, "", ":memory:"):
                return self._engine  # an in-memory database exists only inside its own engine
            self._probe_engine = create_engine(url.render_as_string(hide_password=False), probe=True)
        return self._probe_engine

    @asynccontextmanager
    async def _unit(
        self, engine: AsyncEngine, *, read_only: bool = False, lock_wait_s: float | None = None
    ) -> AsyncIterator[AsyncConnection]:
        options: dict[str, Any] = {}
        if read_only:
            options[READ_ONLY_OPTION] = True
        if lock_wait_s is not None:
            options[LOCK_WAIT_OPTION] = int(lock_wait_s * 1000)
        body_errors: list[BaseException] = []
        async with self._classified(body_errors), engine.connect() as conn:
            if options:
                await conn.execution_options(**options)
            async with conn.begin():
                if lock_wait_s is not None and self.dialect == "postgresql":
                    await conn.exec_driver_sql(f"SET LOCAL lock_timeout = {int(lock_wait_s * 1000)}")
                try:
                    yield conn
                except BaseException as exc:
                    body_errors.append(exc)
                    raise

    @asynccontextmanager
    async def _classified(self, body_errors: list[BaseException] | None = None) -> AsyncIterator[None]:
        """Re-raise a failure of the database as `StoreUnavailable`. What the code inside a unit of work raised is
        only taken for one when SQLAlchemy raised it: a network error of the caller's own is not the database's."""
        try:
            yield
        except StoreUnavailable:
            raise
        except Exception as exc:
            if body_errors and exc is body_errors[-1] and not isinstance(exc, sa_exc.SQLAlchemyError):
                raise
            failure = store_unavailable(exc)
            if failure is None:
                raise
            raise failure from exc


__all__ = ["WRITE_PROBE_LEASE", "Clock", "Store", "Transaction", "wall_clock_ms"]
