"""The store: an engine plus units of work (one database transaction each) over the repositories."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.store import leases
from bot.store.audit import Audit
from bot.store.engine import create_engine
from bot.store.incidents import Incidents
from bot.store.instances import Instances
from bot.store.migrate import migrate_engine
from bot.store.outbox import Outbox
from bot.store.subscriptions import Subscriptions
from bot.store.watcher_state import WatcherStates

Clock = Callable[[], int]


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

    def __post_init__(self) -> None:
        conn, dialect, now = self.conn, self.dialect, self.now
        self.subscriptions = Subscriptions(conn=conn, dialect=dialect, now=now)
        self.instances = Instances(conn=conn, dialect=dialect, now=now)
        self.incidents = Incidents(conn=conn, dialect=dialect, now=now)
        self.outbox = Outbox(conn=conn, dialect=dialect, now=now)
        self.audit = Audit(conn=conn, dialect=dialect, now=now)
        self.watcher_state = WatcherStates(conn=conn, dialect=dialect, now=now)


class Store:
    """The bot's database. Build with `await Store.open(url)`; close with `await store.aclose()`."""

    def __init__(self, *, engine: AsyncEngine, clock: Clock = wall_clock_ms) -> None:
        self._engine = engine
        self._clock = clock
        self.dialect: str = engine.dialect.name

    @classmethod
    async def open(cls, database_url: str, *, clock: Clock = wall_clock_ms, run_migrations: bool = True) -> Store:
        """Connect to `database_url` (as users write it) and, unless told otherwise, migrate it to the latest schema."""
        engine = create_engine(database_url)
        if run_migrations:
            try:
                await migrate_engine(engine)
            except BaseException:
                await engine.dispose()
                raise
        return cls(engine=engine, clock=clock)

    @property
    def engine(self) -> AsyncEngine:
        """The underlying engine (tests and health checks)."""
        return self._engine

    def now(self) -> int:
        """The store's clock, epoch ms."""
        return self._clock()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One unit of work: commits when the block ends normally, rolls back if it raises."""
        async with self._engine.begin() as conn:
            yield Transaction(conn=conn, dialect=self.dialect, now=self._clock())

    async def try_acquire_lease(self, name: str, holder: str, ttl: float) -> bool:
        """Take lease `name` for `ttl` seconds (or extend it if `holder` has it); False if another holder has it."""
        async with self._engine.begin() as conn:
            return await leases.try_acquire(
                conn, dialect=self.dialect, now=self._clock(), name=name, holder=holder, ttl_ms=int(ttl * 1000)
            )

    async def renew_lease(self, name: str, holder: str, ttl: float) -> bool:
        """Extend a held lease by `ttl` seconds from now; False if it was lost."""
        async with self._engine.begin() as conn:
            return await leases.renew(conn, now=self._clock(), name=name, holder=holder, ttl_ms=int(ttl * 1000))

    async def heartbeat(self, holder: str, ttl: float) -> bool:
        """Renew `holder`'s heartbeat lease (`replica:<holder>`) for `ttl` seconds; False if it had lapsed first."""
        async with self._engine.begin() as conn:
            return await leases.heartbeat(
                conn, dialect=self.dialect, now=self._clock(), holder=holder, ttl_ms=int(ttl * 1000)
            )

    async def forget_dead_replicas(self, *, older_than: float) -> int:
        """Delete the heartbeat leases of replicas dead for more than `older_than` seconds."""
        async with self._engine.begin() as conn:
            return await leases.forget_dead_replicas(conn, before=self._clock() - int(older_than * 1000))

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up (no-op if `holder` no longer holds it)."""
        async with self._engine.begin() as conn:
            await leases.release(conn, name=name, holder=holder)

    async def aclose(self) -> None:
        """Close every pooled connection."""
        await self._engine.dispose()


__all__ = ["Clock", "Store", "Transaction", "wall_clock_ms"]
