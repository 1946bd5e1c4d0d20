"""Incidents: one per failure streak of a job in a channel, open → acknowledged → resolved."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store._sql import chunks, constant, insert_for, one_of
from bot.store.records import Incident
from bot.store.tables import incidents

# Written into the SQL, not bound: so the planner can use the partial unique index below (only unresolved rows), and
# reading the unresolved incidents does not cost more as resolved ones pile up (see bot.store._sql).
_UNRESOLVED = incidents.c.state != constant("resolved")
_OPEN_STATES = incidents.c.state.in_((constant("open"), constant("acknowledged")))
# The partial unique index's predicate, as SQL text. ON CONFLICT infers the index from it, and PostgreSQL can only do
# that with the literal: as a bound parameter it works for five executions of the prepared statement, then the
# generic plan no longer matches the index ("there is no unique or exclusion constraint matching the ON CONFLICT
# specification") and every cycle that opens an incident rolls back.
_UNRESOLVED_INDEX_WHERE = text("state != 'resolved'")


def _to_record(row: RowMapping) -> Incident:
    return Incident(**row)


class Incidents:
    """Incidents inside one transaction."""

    def __init__(self, *, conn: AsyncConnection, dialect: str, now: int) -> None:
        self._conn = conn
        self._dialect = dialect
        self._now = now

    async def open_or_get(
        self, *, channel: str, profile: str, job_name: str, instance_id: int, root_key: str
    ) -> tuple[Incident, bool]:
        """Open an incident for a failure of `job_name` in `channel`, or return the unresolved one already there.

        At most one unresolved incident exists per (channel, profile, job) — a unique partial index enforces it even
        when two poll cycles overlap. `root_key` is the outbox key of the alert card. Returns (incident, created).
        """
        insert = (
            insert_for(self._dialect, incidents)
            .values(
                channel=channel,
                profile=profile,
                job_name=job_name,
                first_instance_id=instance_id,
                last_instance_id=instance_id,
                failure_count=1,
                state="open",
                root_key=root_key,
                opened_at=self._now,
                updated_at=self._now,
            )
            .on_conflict_do_nothing(
                index_elements=["channel", "profile", "job_name"], index_where=_UNRESOLVED_INDEX_WHERE
            )
            .returning(incidents.c.id)
        )
        created = (await self._conn.execute(insert)).first() is not None
        row = (
            (
                await self._conn.execute(
                    select(incidents).where(
                        incidents.c.channel == channel,
                        incidents.c.profile == profile,
                        incidents.c.job_name == job_name,
                        _UNRESOLVED,
                    )
                )
            )
            .mappings()
            .one()
        )
        return _to_record(row), created

    async def unresolved(self, profile: str, job_names: Iterable[str] | None = None) -> list[Incident]:
        """Unresolved incidents of `profile` (optionally only for `job_names`), oldest first."""
        # The unresolved states by name, not `!= 'resolved'`: the (profile, state) index then reads only unresolved
        # rows, where an inequality read every incident of the profile the retention period keeps.
        base = select(incidents).where(incidents.c.profile == profile, _OPEN_STATES).order_by(incidents.c.id)
        if job_names is None:
            return [_to_record(r) for r in (await self._conn.execute(base)).mappings()]
        found: list[Incident] = []
        for batch in chunks(dict.fromkeys(job_names)):
            rows = await self._conn.execute(base.where(one_of(self._dialect, incidents.c.job_name, batch)))
            found.extend(_to_record(r) for r in rows.mappings())
        return sorted(found, key=lambda i: i.id)

    async def get(self, incident_id: int) -> Incident | None:
        """One incident by id."""
        row = (await self._conn.execute(select(incidents).where(incidents.c.id == incident_id))).mappings().first()
        return _to_record(row) if row else None

    async def by_message(self, channel: str, ts: str) -> Incident | None:
        """The incident whose alert card is the message `ts` in `channel` (for button clicks on the card)."""
        row = (
            (
                await self._conn.execute(
                    select(incidents)
                    .where(incidents.c.channel == channel, incidents.c.root_ts == ts)
                    .order_by(incidents.c.id.desc())
                )
            )
            .mappings()
            .first()
        )
        return _to_record(row) if row else None

    async def record_failure(self, incident_id: int, instance_id: int) -> Incident:
        """A further failure in the streak: count + 1, remember the latest instance."""
        return await self._update(
            incident_id,
            failure_count=incidents.c.failure_count + 1,
            last_instance_id=instance_id,
        )

    async def acknowledge(self, incident_id: int, *, by: str) -> Incident:
        """Someone took the incident (no-op on a resolved one, so a late click cannot reopen it)."""
        await self._conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id, incidents.c.state == "open")
            .values(state="acknowledged", acknowledged_by=by, acknowledged_at=self._now, updated_at=self._now)
        )
        return await self._get_existing(incident_id)

    async def resolve(self, incident_id: int, *, by: str | None, reason: str) -> Incident:
        """Close the incident: `by` a person, or None when a successful (re)run resolved it."""
        await self._conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id, _UNRESOLVED)
            .values(state="resolved", resolved_by=by, resolved_at=self._now, resolution=reason, updated_at=self._now)
        )
        return await self._get_existing(incident_id)

    async def purge_resolved_before(self, cutoff: int, *, limit: int | None = None) -> int:
        """Delete incidents resolved before `cutoff` (ms), at most `limit` of them (oldest first); returns how many.

        A click on the card of a purged incident finds no incident (`by_message` None), as for any unknown message.
        """
        old = incidents.alias("old")
        doomed = (
            select(old.c.id)
            .where(old.c.state == constant("resolved"), old.c.resolved_at < cutoff)
            .order_by(old.c.resolved_at)
        )
        if limit is not None:
            doomed = doomed.limit(limit)
        result = await self._conn.execute(delete(incidents).where(incidents.c.id.in_(doomed)))
        return int(result.rowcount)

    async def _update(self, incident_id: int, **values: object) -> Incident:
        await self._conn.execute(
            update(incidents).where(incidents.c.id == incident_id).values(**values, updated_at=self._now)
        )
        return await self._get_existing(incident_id)

    async def _get_existing(self, incident_id: int) -> Incident:
        incident = await self.get(incident_id)
        if incident is None:
            raise LookupError(f"incident {incident_id} does not exist")
        return incident


__all__ = ["Incidents"]
