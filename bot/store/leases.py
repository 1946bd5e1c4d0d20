"""Named leases: "one poll cycle at a time" across replicas, on SQLite and PostgreSQL alike.

A lease is a row (name, holder, expires_at). Taking it is one conditional UPDATE (free, expired, its holder dead, or
already ours) and, if no row exists yet, one INSERT .. ON CONFLICT DO NOTHING: each statement is atomic on both
dialects, so two contenders can never both succeed.

Every running replica also holds `replica:<holder>`, a heartbeat lease renewed every few seconds with a short TTL.
When it lapses the holder is dead (or cut off from the database, and then fenced: it sends nothing): its other leases
and its outbox claims are taken over at once instead of after their own, longer, TTLs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store._sql import insert_for
from bot.store.tables import leases

REPLICA_LEASE_PREFIX = "replica:"


def replica_lease(holder: str) -> str:
    """The name of `holder`'s heartbeat lease."""
    return REPLICA_LEASE_PREFIX + holder


def holder_is_dead(holder: Any, now: int) -> Any:
    """SQL: `holder` (a column or value) has a heartbeat lease, and it has lapsed."""
    replica = leases.alias("replica")
    return exists().where(replica.c.name == literal(REPLICA_LEASE_PREFIX) + holder, replica.c.expires_at <= now)


async def try_acquire(conn: AsyncConnection, *, dialect: str, now: int, name: str, holder: str, ttl_ms: int) -> bool:
    """Take (or extend) lease `name` for `holder` until now + ttl; False if someone else holds it unexpired and their
    heartbeat is still alive."""
    taken = await conn.execute(
        update(leases)
        .where(
            leases.c.name == name,
            or_(leases.c.holder == holder, leases.c.expires_at <= now, holder_is_dead(leases.c.holder, now)),
        )
        .values(holder=holder, expires_at=now + ttl_ms)
    )
    if taken.rowcount:
        return True
    inserted = await conn.execute(
        insert_for(dialect, leases)
        .values(name=name, holder=holder, expires_at=now + ttl_ms)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(leases.c.name)
    )
    return inserted.first() is not None


async def renew(conn: AsyncConnection, *, now: int, name: str, holder: str, ttl_ms: int) -> bool:
    """Extend a lease `holder` still holds; False if it was lost to someone else."""
    result = await conn.execute(
        update(leases).where(leases.c.name == name, leases.c.holder == holder).values(expires_at=now + ttl_ms)
    )
    return bool(result.rowcount)


async def heartbeat(conn: AsyncConnection, *, dialect: str, now: int, holder: str, ttl_ms: int) -> bool:
    """Renew `holder`'s heartbeat lease until now + ttl. True if it was still running; False if it had lapsed (or did
    not exist) and was taken afresh: others may have taken over this holder's claims meanwhile."""
    name = replica_lease(holder)
    renewed = await conn.execute(
        update(leases)
        .where(leases.c.name == name, leases.c.holder == holder, leases.c.expires_at > now)
        .values(expires_at=now + ttl_ms)
    )
    if renewed.rowcount:
        return True
    await try_acquire(conn, dialect=dialect, now=now, name=name, holder=holder, ttl_ms=ttl_ms)
    return False


async def forget_dead_replicas(conn: AsyncConnection, *, before: int) -> int:
    """Delete heartbeat leases that lapsed before `before` (ms): replicas long gone (each start is a new holder)."""
    result = await conn.execute(
        delete(leases).where(leases.c.name.startswith(REPLICA_LEASE_PREFIX), leases.c.expires_at < before)
    )
    return int(result.rowcount)


async def release(conn: AsyncConnection, *, name: str, holder: str) -> None:
    """Give the lease up early (only if `holder` still holds it)."""
    await conn.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder))


async def holds(conn: AsyncConnection, *, now: int, name: str, holder: str) -> bool:
    """Whether `holder` holds lease `name` unexpired at `now`."""
    found = await conn.execute(
        select(leases.c.name).where(leases.c.name == name, leases.c.holder == holder, leases.c.expires_at > now)
    )
    return found.first() is not None


async def touch(conn: AsyncConnection, *, dialect: str, now: int, name: str) -> None:
    """Write lease row `name` (held by nobody, expired at once): a write that changes nothing anyone reads."""
    insert = insert_for(dialect, leases).values(name=name, holder="-", expires_at=now)
    await conn.execute(insert.on_conflict_do_update(index_elements=["name"], set_={"expires_at": now}))


__all__ = [
    "REPLICA_LEASE_PREFIX",
    "forget_dead_replicas",
    "heartbeat",
    "holder_is_dead",
    "holds",
    "release",
    "renew",
    "replica_lease",
    "touch",
    "try_acquire",
]
