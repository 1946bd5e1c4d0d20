"""Mutes: a job's failures in a channel recorded but not posted, until a time or until unmuted."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store._sql import chunks, insert_for, one_of
from bot.store.records import Mute
from bot.store.tables import mutes


def _to_record(row: RowMapping) -> Mute:
    return Mute(**row)


class Mutes:
    """Mutes inside one transaction. A mute past its `until_at` counts as ended (`active` leaves it out) and is
    removed by `unmute` or by retention."""

    def __init__(self, *, conn: AsyncConnection, dialect: str, now: int) -> None:
        self._conn = conn
        self._dialect = dialect
        self._now = now

    async def mute(
        self, *, channel: str, profile: str, job_name: str, until_at: int | None, by: str, team: str | None = None
    ) -> tuple[Mute, Mute | None]:
        """Mute `job_name` in `channel` until `until_at` (ms; None: until unmuted); muting again moves the end.

        Returns (the mute, the one it replaced if it was still active — its count carries over, so unmute reports
        everything held back since the job was first muted)."""
        before = await self.get(channel=channel, profile=profile, job_name=job_name)
        still_active = before if before is not None and before.active_at(self._now) else None
        key = {"channel": channel, "profile": profile, "job_name": job_name}
        insert = (
            insert_for(self._dialect, mutes)
            .values(**key, team=team, until_at=until_at, created_by=by, created_at=self._now, suppressed=0)
            .on_conflict_do_update(
                index_elements=list(key),
                set_={
                    "until_at": until_at,
                    "created_by": by,
                    "created_at": self._now,
                    "team": team,
                    # an ended mute starts counting again
                    "suppressed": still_active.suppressed if still_active is not None else 0,
                },
            )
        )
        await self._conn.execute(insert)
        mute = await self.get(channel=channel, profile=profile, job_name=job_name)
        assert mute is not None
        return mute, still_active

    async def unmute(self, *, channel: str, profile: str, job_name: str) -> Mute | None:
        """End the mute (active or ended); returns it as it was (with its count), None if there was none."""
        mute = await self.get(channel=channel, profile=profile, job_name=job_name)
        if mute is not None:
            await self._conn.execute(delete(mutes).where(mutes.c.id == mute.id))
        return mute

    async def get(self, *, channel: str, profile: str, job_name: str) -> Mute | None:
        """The mute row of the job in the channel, ended or not."""
        row = (
            (
                await self._conn.execute(
                    select(mutes).where(
                        mutes.c.channel == channel, mutes.c.profile == profile, mutes.c.job_name == job_name
                    )
                )
            )
            .mappings()
            .first()
        )
        return _to_record(row) if row else None

    async def active(self, profile: str, job_names: Sequence[str]) -> list[Mute]:
        """The mutes in force now on any of `job_names` of `profile` (every channel)."""
        found: list[Mute] = []
        for batch in chunks(dict.fromkeys(job_names)):
            rows = await self._conn.execute(
                select(mutes).where(mutes.c.profile == profile, one_of(self._dialect, mutes.c.job_name, batch))
            )
            found.extend(m for m in (_to_record(r) for r in rows.mappings()) if m.active_at(self._now))
        return sorted(found, key=lambda m: m.id)

    async def in_channel(self, channel: str) -> list[Mute]:
        """Every mute row of `channel` (ended ones included, for `/dlf watches` to say so), by job."""
        rows = await self._conn.execute(select(mutes).where(mutes.c.channel == channel).order_by(mutes.c.job_name))
        return [_to_record(r) for r in rows.mappings()]

    async def count_suppressed(self, mute_id: int, n: int = 1) -> None:
        """`n` more failures held back by the mute."""
        await self._conn.execute(update(mutes).where(mutes.c.id == mute_id).values(suppressed=mutes.c.suppressed + n))

    async def purge_ended_before(self, cutoff: int, *, limit: int | None = None) -> int:
        """Delete mutes that ended before `cutoff` (ms); returns how many."""
        old = mutes.alias("old")
        doomed = select(old.c.id).where(old.c.until_at.is_not(None), old.c.until_at < cutoff).order_by(old.c.until_at)
        if limit is not None:
            doomed = doomed.limit(limit)
        result = await self._conn.execute(delete(mutes).where(mutes.c.id.in_(doomed)))
        return int(result.rowcount)


__all__ = ["Mutes"]
