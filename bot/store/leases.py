"""Named leases: "one poll cycle at a time" across replicas, on SQLite and PostgreSQL alike.

A lease is a row (name, holder, expires_at). Taking it is one conditional UPDATE (free, expired, or already ours) and,
if no row exists yet, one INSERT .. ON CONFLICT DO NOTHING: each statement is atomic on both dialects, so two
contenders can never both succeed.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store._sql import insert_for
from bot.store.tables import leases


async def try_acquire(conn: AsyncConnection, *, dialect: str, now: int, name: str, holder: str, ttl_ms: int) -> bool:
    """Take (or extend) lease `name` for `holder` until now + ttl; False if someone else holds it unexpired."""
    taken = await conn.execute(
        update(leases)
        .where(leases.c.name == name, or_(leases.c.holder == holder, leases.c.expires_at <= now))
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


__all__ = ["holds", "release", "renew", "touch", "try_acquire"]
