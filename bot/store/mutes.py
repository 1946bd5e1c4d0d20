"""Mutes: a job's failures in a channel recorded but not posted, until a time or until unmuted."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, case, delete, not_, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from bot.store._sql import chunks, insert_for, one_of
from bot.store.records import Mute
from bot.store.tables import mutes

# How long after a mute is set the same choice again (a double click, the same click on a second replica) is the
# same mute, answered "already muted" with nothing said in the thread. Later, the same choice moves the end (a 1 h
# mute renewed after 50 minutes is an intent, not an accident).
SAME_CHOICE_WINDOW_MS = 60_000


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

    async def try_mute(
        self, *, channel: str, profile: str, job_name: str, duration_ms: int | None, by: str, team: str | None = None
    ) -> tuple[Mute, bool]:
        """Mute `job_name` in `channel` for `duration_ms` from now (None: until unmuted), unless that same choice is
        in force already; returns (the mute as it now is, whether this call set it).

        The same choice is: muted until unmuted and asked again until unmuted; or a timed mute of the same duration
        set less than `SAME_CHOICE_WINDOW_MS` ago. Decided by the one upsert (its `DO UPDATE .. WHERE`), so two
        clicks at once — two replicas, two transactions on PostgreSQL — set it once: the second waits on the first's
        row and then finds the same choice there. Any other choice (longer, shorter, timed after until-unmuted)
        replaces the mute; an active mute's count carries over, an ended one starts again from zero."""
        until_at = self._now + duration_ms if duration_ms is not None else None
        active = or_(mutes.c.until_at.is_(None), mutes.c.until_at > self._now)
        same: ColumnElement[bool]
        if duration_ms is None:
            same = mutes.c.until_at.is_(None)
        else:
            same = and_(
                mutes.c.until_at.is_not(None),
                mutes.c.until_at > self._now,
                mutes.c.until_at - mutes.c.created_at == duration_ms,
                mutes.c.created_at > self._now - SAME_CHOICE_WINDOW_MS,
            )
        key = {"channel": channel, "profile": profile, "job_name": job_name}
        upsert = (
            insert_for(self._dialect, mutes)
            .values(**key, team=team, until_at=until_at, created_by=by, created_at=self._now, suppressed=0)
            .on_conflict_do_update(
                index_elements=list(key),
                set_={
                    "until_at": until_at,
                    "created_by": by,
                    "created_at": self._now,
                    "team": team,
                    "suppressed": case((active, mutes.c.suppressed), else_=0),
                },
                where=not_(same),
            )
            .returning(mutes.c.id)
        )
        taken = (await self._conn.execute(upsert)).first() is not None
        mute = await self.get(channel=channel, profile=profile, job_name=job_name)
        assert mute is not None
        return mute, taken

    async def unmute(self, *, channel: str, profile: str, job_name: str) -> Mute | None:
        """End the mute (active or ended); returns it as it was (with its count), None if there was none — or if
        another caller ended it first: the row is taken by the one DELETE, so two unmutes at once end it once."""
        deleted = await self._conn.execute(
            delete(mutes)
            .where(mutes.c.channel == channel, mutes.c.profile == profile, mutes.c.job_name == job_name)
            .returning(*mutes.c)
        )
        row = deleted.mappings().first()
        return _to_record(row) if row else None

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


__all__ = ["SAME_CHOICE_WINDOW_MS", "Mutes"]
