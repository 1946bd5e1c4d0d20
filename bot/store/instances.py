"""Instances the watcher has seen: what makes an instance "new" and a status change noticeable."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, delete, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store._sql import chunks, insert_for, pairs_table
from bot.store.records import SeenInstance
from bot.store.tables import instances_seen

InstanceKey = tuple[str, int]
# (job_name, instance_id, status), (job_name, instance_id, status, run_start) or
# (job_name, instance_id, status, run_start, plan_time)
SeenItem = tuple[str, int, str] | tuple[str, int, str, int | None] | tuple[str, int, str, int | None, int | None]


class Instances:
    """`instances_seen` inside one transaction."""

    def __init__(self, *, conn: AsyncConnection, dialect: str, now: int) -> None:
        self._conn = conn
        self._dialect = dialect
        self._now = now

    async def lookup(self, profile: str, keys: Iterable[InstanceKey]) -> dict[InstanceKey, SeenInstance]:
        """The known instances among `keys` (job_name, instance_id); a key absent from the result is new.

        One query per few hundred keys, so a page of DLF results costs one round trip, not one per instance.
        """
        found: dict[InstanceKey, SeenInstance] = {}
        t = instances_seen.c
        for batch in chunks(dict.fromkeys(keys)):
            wanted = pairs_table(self._dialect, (t.job_name, t.instance_id), batch)
            rows = await self._conn.execute(
                select(instances_seen)
                .join(wanted, and_(t.job_name == wanted.c.a, t.instance_id == wanted.c.b))
                .where(t.profile == profile)
            )
            for r in rows.mappings():
                found[(r["job_name"], r["instance_id"])] = SeenInstance(**r)
        return found

    async def record(self, profile: str, items: Iterable[SeenItem]) -> None:
        """Remember (job_name, instance_id, status[, run_start[, plan_time]]) for each item; a known instance takes
        the new status.

        `run_start` is DLF's start time of the run that had the status; `plan_time` the instance's planned time. An
        item without one (or with None) keeps what was recorded.
        """
        latest: dict[InstanceKey, SeenItem] = {}
        for item in items:
            latest[(item[0], item[1])] = item
        rows = [
            {
                "profile": profile,
                "job_name": item[0],
                "instance_id": item[1],
                "status": item[2],
                "run_start": item[3] if len(item) > 3 else None,
                "plan_time": item[4] if len(item) > 4 else None,
                "first_seen_at": self._now,
                "last_status_at": self._now,
            }
            for item in latest.values()
        ]
        if not rows:
            return
        # executemany: one statement whatever the number of rows (see bot.store._sql).
        insert = insert_for(self._dialect, instances_seen)
        await self._conn.execute(
            insert.on_conflict_do_update(
                index_elements=["profile", "job_name", "instance_id"],
                set_={
                    "status": insert.excluded.status,
                    "last_status_at": insert.excluded.last_status_at,
                    "run_start": func.coalesce(insert.excluded.run_start, instances_seen.c.run_start),
                    "plan_time": func.coalesce(insert.excluded.plan_time, instances_seen.c.plan_time),
                },
            ),
            rows,
        )

    async def claim(self, profile: str, item: SeenItem) -> bool:
        """Record one (job_name, instance_id, status[, run_start[, plan_time]]) unless the store already has that
        status for that run; True if this call changed the record.

        The test and the write are one statement on the row's unique key, so of two overlapping cycles (two replicas,
        or a cycle replayed while another still runs) exactly one claims a failure and says it: the other one's
        plan may rest on older incidents, and must not say the same failure in other words.
        """
        row = {
            "profile": profile,
            "job_name": item[0],
            "instance_id": item[1],
            "status": item[2],
            "run_start": item[3] if len(item) > 3 else None,
            "plan_time": item[4] if len(item) > 4 else None,
            "first_seen_at": self._now,
            "last_status_at": self._now,
        }
        insert = insert_for(self._dialect, instances_seen).values(**row)
        t = instances_seen.c
        changes = t.status != insert.excluded.status
        if row["run_start"] is not None:
            changes = or_(changes, t.run_start.is_distinct_from(insert.excluded.run_start))
        result = await self._conn.execute(
            insert.on_conflict_do_update(
                index_elements=["profile", "job_name", "instance_id"],
                set_={
                    "status": insert.excluded.status,
                    "last_status_at": insert.excluded.last_status_at,
                    "run_start": func.coalesce(insert.excluded.run_start, t.run_start),
                    "plan_time": func.coalesce(insert.excluded.plan_time, t.plan_time),
                },
                where=changes,
            ).returning(t.instance_id)
        )
        return result.first() is not None

    async def tracked(self, profile: str, *, statuses: Iterable[str], since: int) -> list[SeenInstance]:
        """The instances of `profile` last seen in one of `statuses` (the unfinished ones the watcher follows until
        they end) that are planned at or after `since` (ms) — or, recorded without a planned time, whose status
        changed since then. Served by the (profile, status) index: as many rows as instances are unfinished now,
        whatever the history.
        """
        t = instances_seen.c
        query = select(instances_seen).where(
            t.profile == profile,
            t.status.in_(sorted(set(statuses))),
            or_(t.plan_time >= since, and_(t.plan_time.is_(None), t.last_status_at >= since)),
        )
        return [SeenInstance(**r) for r in (await self._conn.execute(query)).mappings()]

    async def forget_before(self, cutoff: int, *, limit: int | None = None) -> int:
        """Forget instances whose status last changed before `cutoff` (ms) and that were planned before it too (when
        the planned time is known), at most `limit` of them; returns how many.

        Only safe for a cutoff older than anything the watcher lists or tracks: its window never reaches back past
        `now - lookback`, and retention is validated longer than the lookback. An instance planned before that is
        neither listed again (it cannot look new) nor followed (unfinished or not, nothing reads its row).
        """
        seen = instances_seen.alias("seen")
        doomed = select(seen.c.profile, seen.c.job_name, seen.c.instance_id).where(
            seen.c.last_status_at < cutoff, or_(seen.c.plan_time.is_(None), seen.c.plan_time < cutoff)
        )
        if limit is not None:
            doomed = doomed.order_by(seen.c.last_status_at).limit(limit)
        t = instances_seen.c
        # The row's own conditions again on the DELETE: PostgreSQL re-checks those on a row updated meanwhile.
        result = await self._conn.execute(
            delete(instances_seen).where(
                tuple_(t.profile, t.job_name, t.instance_id).in_(doomed),
                t.last_status_at < cutoff,
                or_(t.plan_time.is_(None), t.plan_time < cutoff),
            )
        )
        return int(result.rowcount)


__all__ = ["InstanceKey", "Instances", "SeenItem"]
