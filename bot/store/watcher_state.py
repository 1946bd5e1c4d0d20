"""Per DLF profile: the polling cursor and the heartbeat."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store._sql import insert_for
from bot.store.records import WatcherState
from bot.store.tables import watcher_state

_ERROR_MAX = 512


class WatcherStates:
    """`watcher_state` inside one transaction."""

    def __init__(self, *, conn: AsyncConnection, dialect: str, now: int) -> None:
        self._conn = conn
        self._dialect = dialect
        self._now = now

    async def get(self, profile: str) -> WatcherState | None:
        """The state of one profile, None before its first cycle."""
        row = (
            (await self._conn.execute(select(watcher_state).where(watcher_state.c.profile == profile)))
            .mappings()
            .first()
        )
        return WatcherState(**row) if row else None

    async def all(self) -> list[WatcherState]:
        """Every profile's state (health checks)."""
        rows = await self._conn.execute(select(watcher_state).order_by(watcher_state.c.profile))
        return [WatcherState(**r) for r in rows.mappings()]

    async def heartbeat(self, profile: str, *, cursor: int | None = None, error: str | None = None) -> None:
        """Record that a cycle ran now: with `error` None it succeeded (and `cursor`, if given, is the new window
        end); with an error the cursor stays where it was so the next cycle catches up, and `failing_since` keeps the
        time of the streak's first failure."""
        values: dict[str, object] = {"heartbeat_at": self._now}
        if error is None:
            values.update(last_success_at=self._now, last_error=None, last_error_at=None, failing_since=None)
            if cursor is not None:
                values["cursor"] = cursor
        else:
            values.update(last_error=error[:_ERROR_MAX], last_error_at=self._now, failing_since=self._now)
        insert = insert_for(self._dialect, watcher_state).values(profile=profile, **values)
        updates = dict(values)
        if error is not None:
            updates["failing_since"] = func.coalesce(watcher_state.c.failing_since, insert.excluded.failing_since)
        await self._conn.execute(insert.on_conflict_do_update(index_elements=["profile"], set_=updates))


__all__ = ["WatcherStates"]
