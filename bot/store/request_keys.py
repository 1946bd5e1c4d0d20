"""Request keys: what has been handled once already, shared by every replica through the database.

A Slack event redelivered after a timeout (`X-Slack-Retry-Num`, same `event_id`), a replayed interaction (same
`trigger_id`), and later an action's idempotency key: the first delivery claims the key, every later one finds it
taken. Claiming is a single `INSERT .. ON CONFLICT DO NOTHING`, atomic on both dialects, so two replicas receiving
the same redelivery at the same moment cannot both win.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store._sql import insert_for
from bot.store.tables import request_keys

# The column's width; longer keys are refused rather than cut (two different keys must never collide).
KEY_MAX = 255


class RequestKeys:
    """Request keys inside one transaction."""

    def __init__(self, *, conn: AsyncConnection, dialect: str, now: int) -> None:
        self._conn = conn
        self._dialect = dialect
        self._now = now

    async def claim(self, key: str) -> bool:
        """Record `key` as handled; True if this call recorded it, False if it was recorded before."""
        if not key or len(key) > KEY_MAX:
            raise ValueError(f"a request key is 1-{KEY_MAX} characters")
        inserted = await self._conn.execute(
            insert_for(self._dialect, request_keys)
            .values(key=key, seen_at=self._now)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(request_keys.c.key)
        )
        return inserted.first() is not None

    async def forget(self, key: str) -> bool:
        """Release `key` (an action's key after DLF refused it or nothing was sent: a later click may try again)."""
        result = await self._conn.execute(delete(request_keys).where(request_keys.c.key == key))
        return bool(result.rowcount == 1)

    async def seen(self, key: str) -> bool:
        """Whether `key` has been claimed (and not yet forgotten)."""
        found = await self._conn.execute(select(request_keys.c.key).where(request_keys.c.key == key))
        return found.first() is not None

    async def forget_before(self, cutoff: int, *, limit: int | None = None) -> int:
        """Forget keys claimed before `cutoff` (ms), at most `limit` of them (oldest first); returns how many.

        Slack redelivers an event within minutes and a signature is only valid for five, so any cutoff older than
        an hour forgets nothing that can still come back."""
        if limit is None:
            result = await self._conn.execute(delete(request_keys).where(request_keys.c.seen_at < cutoff))
            return int(result.rowcount)
        if limit < 1:
            raise ValueError("limit must be at least 1")
        oldest = (
            select(request_keys.c.key)
            .where(request_keys.c.seen_at < cutoff)
            .order_by(request_keys.c.seen_at)
            .limit(limit)
            .scalar_subquery()
        )
        result = await self._conn.execute(delete(request_keys).where(request_keys.c.key.in_(oldest)))
        return int(result.rowcount)


__all__ = ["KEY_MAX", "RequestKeys"]
