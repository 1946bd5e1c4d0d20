"""Incidents: one per failure streak of a job in a channel, open → acknowledged → resolved."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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


# An incident whose one reminder is still to come: open (nobody acknowledged), not sent yet, escalation on.
_ESCALATION_PENDING = (
    incidents.c.state == constant("open"),
    incidents.c.escalated_at.is_(None),
    incidents.c.escalate_after_ms.is_not(None),
)


def _to_record(row: RowMapping) -> Incident:
    return Incident(**row)


class Incidents:
    """Incidents inside one transaction."""

    def __init__(self, *, conn: AsyncConnection, dialect: str, now: int) -> None:
        self._conn = conn
        self._dialect = dialect
        self._now = now

    async def open_or_get(
        self,
        *,
        channel: str,
        profile: str,
        job_name: str,
        instance_id: int,
        root_key: str,
        team: str | None = None,
        escalate_at: int | None = None,
        escalation_mention: str | None = None,
        escalate_after_ms: int | None = None,
    ) -> tuple[Incident, bool]:
        """Open an incident for a failure of `job_name` in `channel`, or return the unresolved one already there.

        At most one unresolved incident exists per (channel, profile, job) — a unique partial index enforces it even
        when two poll cycles overlap. `root_key` is the outbox key of the alert card; `team` the channel's Slack team;
        `escalate_at` when the reminder is due if nobody acknowledges (None: no reminder), mentioning
        `escalation_mention`; `escalate_after_ms` the delay it was set with (a mute's end sets the reminder due that
        long later again). Returns (incident, created).
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
                team=team,
                escalate_at=escalate_at,
                escalation_mention=escalation_mention,
                escalate_after_ms=escalate_after_ms,
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

    async def by_root_key(self, root_key: str) -> Incident | None:
        """The incident whose alert card is the outbox row `root_key` (a Home button names it so)."""
        row = (
            (
                await self._conn.execute(
                    select(incidents).where(incidents.c.root_key == root_key).order_by(incidents.c.id.desc())
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
        """Someone took the incident (no-op unless open, so a late click cannot reopen it)."""
        return (await self.try_acknowledge(incident_id, by=by))[0]

    async def try_acknowledge(self, incident_id: int, *, by: str) -> tuple[Incident, bool]:
        """Acknowledge an open incident; (incident as it now is, whether this call acknowledged it). Cancels the
        pending escalation reminder."""
        result = await self._conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id, incidents.c.state == constant("open"))
            .values(
                state="acknowledged",
                acknowledged_by=by,
                acknowledged_at=self._now,
                escalate_at=None,
                updated_at=self._now,
            )
        )
        return await self._get_existing(incident_id), result.rowcount == 1

    async def resolve(self, incident_id: int, *, by: str | None, reason: str) -> Incident:
        """Close the incident: `by` a person, or None when a successful (re)run resolved it."""
        return (await self.try_resolve(incident_id, by=by, reason=reason))[0]

    async def try_resolve(
        self, incident_id: int, *, by: str | None, reason: str, rerun_of: str | None = None
    ) -> tuple[Incident, bool]:
        """Resolve an unresolved incident; (incident as it now is, whether this call resolved it). `rerun_of`: who
        asked for the rerun whose success resolves it. Ends the rerun followed and the pending reminder."""
        result = await self._conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id, _UNRESOLVED)
            .values(
                state="resolved",
                resolved_by=by,
                resolved_at=self._now,
                resolution=reason,
                recovered_by_rerun_of=rerun_of,
                escalate_at=None,
                rerun_state=None,
                updated_at=self._now,
            )
        )
        return await self._get_existing(incident_id), result.rowcount == 1

    # ---------------------------------------------------------------------------------------------- the rerun
    async def claim_rerun(
        self, incident_id: int, *, by: str, retry_location: str, instance_id: int, run_start: int | None
    ) -> Incident | None:
        """Take the incident's one rerun slot before DLF is asked: only one caller wins (a double click, two
        replicas), and only while the incident is unresolved and no rerun is in flight. Returns the incident with the
        new rerun (`rerun_seq` + 1, state "requested"), or None when the claim was refused (see `get` for why)."""
        result = await self._conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id, _UNRESOLVED, incidents.c.rerun_state.is_(None))
            .values(
                rerun_state="requested",
                rerun_seq=incidents.c.rerun_seq + 1,
                rerun_by=by,
                rerun_from=retry_location,
                rerun_instance_id=instance_id,
                rerun_run_start=run_start,
                rerun_requested_at=self._now,
                rerun_progress=None,
                updated_at=self._now,
            )
        )
        if result.rowcount != 1:
            return None
        return await self._get_existing(incident_id)

    async def set_rerun_state(self, incident_id: int, *, seq: int, state: str) -> bool:
        """Move rerun number `seq` to "running" (DLF accepted it) or "unknown" (DLF's answer was lost); False if
        that rerun is no longer the one in flight."""
        result = await self._conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id, incidents.c.rerun_seq == seq, incidents.c.rerun_state.is_not(None))
            .values(rerun_state=state, updated_at=self._now)
        )
        return bool(result.rowcount == 1)

    async def set_rerun_progress(self, incident_id: int, *, seq: int, progress: str) -> bool:
        """Record the progress shown for rerun `seq` ("3/7"); True if it changed (a reply edit is due)."""
        result = await self._conn.execute(
            update(incidents)
            .where(
                incidents.c.id == incident_id,
                incidents.c.rerun_seq == seq,
                incidents.c.rerun_state.is_not(None),
                (incidents.c.rerun_progress.is_(None)) | (incidents.c.rerun_progress != progress),
            )
            .values(rerun_progress=progress, updated_at=self._now)
        )
        return bool(result.rowcount == 1)

    async def end_rerun(self, incident_id: int, *, seq: int) -> bool:
        """Rerun `seq` is over (DLF refused it, or it ended): the slot is free again. False if it already was."""
        result = await self._conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id, incidents.c.rerun_seq == seq, incidents.c.rerun_state.is_not(None))
            .values(rerun_state=None, updated_at=self._now)
        )
        return bool(result.rowcount == 1)

    async def reruns_in_flight(self, profile: str) -> list[Incident]:
        """Unresolved incidents of `profile` with a rerun being followed (what a cycle looks up; bounded by reruns,
        not by jobs)."""
        rows = await self._conn.execute(
            select(incidents)
            .where(incidents.c.rerun_state.is_not(None), incidents.c.profile == profile, _UNRESOLVED)
            .order_by(incidents.c.id)
        )
        return [_to_record(r) for r in rows.mappings()]

    # ---------------------------------------------------------------------------------------------- escalation
    async def due_escalations(self, profile: str, *, limit: int = 100) -> list[Incident]:
        """Open (unacknowledged) incidents of `profile` whose reminder is due now, oldest due first. Filtered by
        profile in the query: a cycle of one profile must not spend its batch on the reminders of the others."""
        rows = await self._conn.execute(
            select(incidents)
            .where(
                incidents.c.escalate_at <= self._now,
                incidents.c.state == constant("open"),
                incidents.c.profile == profile,
            )
            .order_by(incidents.c.escalate_at)
            .limit(limit)
        )
        return [_to_record(r) for r in rows.mappings()]

    async def mark_escalated(self, incident_id: int) -> bool:
        """Take the due reminder of an open incident (one caller wins); False if acknowledged, resolved or sent."""
        result = await self._conn.execute(
            update(incidents)
            .where(
                incidents.c.id == incident_id,
                incidents.c.escalate_at.is_not(None),
                incidents.c.state == constant("open"),
            )
            .values(escalate_at=None, escalated_at=self._now, updated_at=self._now)
        )
        return bool(result.rowcount == 1)

    async def hold_escalation(self, incident_id: int, *, mute_until: int | None) -> bool:
        """A mute holds the reminder of an open incident back: due `escalate_after_ms` after the mute ends at
        `mute_until` (None: until unmuted — nothing due until `rearm_escalation`). False (nothing changed) when the
        incident is acknowledged or resolved, its reminder was sent, or escalation is off for it."""
        result = await self._conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id, *_ESCALATION_PENDING)
            .values(
                escalate_at=None if mute_until is None else mute_until + incidents.c.escalate_after_ms,
                updated_at=self._now,
            )
        )
        return bool(result.rowcount == 1)

    async def rearm_escalation(self, incident_id: int) -> bool:
        """The mute was lifted (`/dlf unmute`, the card's Unmute): the reminder of the still open incident is due
        `escalate_after_ms` from now. False as for `hold_escalation`."""
        result = await self._conn.execute(
            update(incidents)
            .where(incidents.c.id == incident_id, *_ESCALATION_PENDING)
            .values(escalate_at=self._now + incidents.c.escalate_after_ms, updated_at=self._now)
        )
        return bool(result.rowcount == 1)

    # ---------------------------------------------------------------------------------------------- reading
    async def in_channels(self, channels: Sequence[str], *, unresolved_only: bool = True) -> list[Incident]:
        """Incidents of `channels` (App Home), unresolved only by default, newest first."""
        found: list[Incident] = []
        for batch in chunks(dict.fromkeys(channels)):
            statement = select(incidents).where(one_of(self._dialect, incidents.c.channel, batch))
            if unresolved_only:
                statement = statement.where(_OPEN_STATES)
            found.extend(_to_record(r) for r in (await self._conn.execute(statement)).mappings())
        return sorted(found, key=lambda i: -i.id)

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
