"""The audit trail: who did what, when, for every mutating action."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.records import AuditEntry
from bot.store.tables import audit


class Audit:
    """Audit entries inside one transaction."""

    def __init__(self, *, conn: AsyncConnection, dialect: str, now: int) -> None:
        self._conn = conn
        self._now = now

    async def record(
        self,
        *,
        actor: str,
        action: str,
        channel: str | None = None,
        target: str | None = None,
        details: dict[str, Any] | None = None,
        outcome: str | None = None,
    ) -> None:
        """Append one entry (`actor` is a Slack user id, or "watcher" for the bot's own actions; `outcome` "ok" |
        "refused" | "failed" | "unknown", DLF's answer in `details`)."""
        await self._conn.execute(
            insert(audit).values(
                at=self._now,
                actor=actor,
                action=action,
                channel=channel,
                target=target,
                details=details,
                outcome=outcome,
            )
        )

    async def recent(self, limit: int = 50) -> list[AuditEntry]:
        """The latest entries, newest first."""
        rows = await self._conn.execute(select(audit).order_by(audit.c.id.desc()).limit(limit))
        return [AuditEntry(**r) for r in rows.mappings()]

    async def query(
        self,
        *,
        since: int,
        target: str | None = None,
        channel: str | None = None,
        before_id: int | None = None,
        limit: int = 20,
    ) -> list[AuditEntry]:
        """Entries since `since` (ms), newest first: of one `target` (a job name) and/or one `channel`, paged by
        `before_id` (the last id of the previous page)."""
        statement = select(audit).where(audit.c.at >= since)
        if target is not None:
            statement = statement.where(audit.c.target == target)
        if channel is not None:
            statement = statement.where(audit.c.channel == channel)
        if before_id is not None:
            statement = statement.where(audit.c.id < before_id)
        rows = await self._conn.execute(statement.order_by(audit.c.id.desc()).limit(limit))
        return [AuditEntry(**r) for r in rows.mappings()]

    async def purge_before(self, cutoff: int, *, limit: int | None = None) -> int:
        """Delete entries recorded before `cutoff` (ms), at most `limit` of them (oldest first); returns how many."""
        old = audit.alias("old")
        doomed = select(old.c.id).where(old.c.at < cutoff).order_by(old.c.at)
        if limit is not None:
            doomed = doomed.limit(limit)
        result = await self._conn.execute(delete(audit).where(audit.c.id.in_(doomed)))
        return int(result.rowcount)


__all__ = ["Audit"]
