"""Subscriptions: which channel watches which job, glob of jobs, or single instance."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from fnmatch import fnmatchcase
from typing import Protocol

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store._sql import chunks, insert_for
from bot.store.outbox import Outbox
from bot.store.records import Subscription, watch_repairs_channel
from bot.store.tables import WHOLE_JOB, incidents, outbox, subscriptions

_BROKEN_REASON_MAX = 255
# How an incident whose alert card was never posted is closed when its channel stops watching the job.
UNWATCHED_RESOLUTION = "unwatched before its alert was posted"


class RequeueRule(Protocol):
    """Which rows a repair queues again (the deliverer's policy, `bot.watcher.outbox.REQUEUE_ON_REPAIR`): those that
    failed for good with one of `errors`, queued no more than `window_ms` ago."""

    @property
    def errors(self) -> Collection[str]: ...

    @property
    def window_ms(self) -> int: ...


def _to_record(row: RowMapping) -> Subscription:
    return Subscription(
        id=row["id"],
        team=row["team"],
        channel=row["channel"],
        profile=row["profile"],
        target=row["target"],
        is_pattern=bool(row["is_pattern"]),
        instance_id=row["instance_id"] or None,
        events=tuple(e for e in row["events"].split(",") if e),
        mention=row["mention"],
        state=row["state"],
        broken_reason=row["broken_reason"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        ended_at=row["ended_at"],
        escalate_after_s=row["escalate_after_s"],
    )


class Subscriptions:
    """Subscriptions inside one transaction."""

    def __init__(self, *, conn: AsyncConnection, dialect: str, now: int) -> None:
        self._conn = conn
        self._dialect = dialect
        self._now = now

    async def subscribe(
        self,
        *,
        channel: str,
        profile: str,
        target: str,
        created_by: str,
        is_pattern: bool = False,
        instance_id: int | None = None,
        events: Sequence[str] = ("failure",),
        mention: str | None = None,
        team: str | None = None,
        requeue_on_repair: RequeueRule | None = None,
        escalate_after_s: int | None = None,
    ) -> tuple[Subscription, bool]:
        """Subscribe `channel`; returns the subscription and whether it is new.

        Subscribing twice is harmless: the existing row keeps its id and creator, takes the events and mention given
        and escalation (the service passes the stored ones for options the user left out),
        and becomes active again (re-subscribing is how a channel repairs a broken subscription).

        A subscribe that repairs the channel (it re-activates a broken subscription, or every subscription of the
        channel was broken) also queues again the channel's messages `requeue_on_repair` names (those Slack refused
        for that reason, recently): with the messages held meanwhile, they go out oldest first, each card before its
        thread and updates. Without a rule nothing is queued again.
        """
        key = {"channel": channel, "profile": profile, "target": target, "instance_id": instance_id or WHOLE_JOB}
        repairs = await self._repairs(channel, key)
        events_text = ",".join(events)
        insert = (
            insert_for(self._dialect, subscriptions)
            .values(
                **key,
                team=team,
                is_pattern=is_pattern,
                events=events_text,
                mention=mention,
                escalate_after_s=escalate_after_s,
                state="active",
                created_by=created_by,
                created_at=self._now,
            )
            .on_conflict_do_nothing(index_elements=list(key))
            .returning(subscriptions.c.id)
        )
        created = (await self._conn.execute(insert)).first() is not None
        where = [subscriptions.c[name] == value for name, value in key.items()]
        if not created:
            await self._conn.execute(
                update(subscriptions)
                .where(*where)
                .values(
                    events=events_text,
                    mention=mention,
                    escalate_after_s=escalate_after_s,
                    state="active",
                    broken_reason=None,
                    broken_at=None,
                    ended_at=None,
                )
            )
        if repairs and requeue_on_repair is not None:
            outbox = Outbox(conn=self._conn, dialect=self._dialect, now=self._now)
            await outbox.requeue_failed(
                channel, errors=requeue_on_repair.errors, since=self._now - requeue_on_repair.window_ms
            )
        row = (await self._conn.execute(select(subscriptions).where(*where))).mappings().one()
        return _to_record(row), created

    async def _repairs(self, channel: str, key: dict[str, object]) -> bool:
        rows = await self._conn.execute(
            select(subscriptions.c.state, *(subscriptions.c[name] for name in key)).where(
                subscriptions.c.channel == channel
            )
        )
        states: list[str] = []
        existing: str | None = None
        for row in rows.mappings():
            if all(row[name] == value for name, value in key.items()):
                existing = row["state"]
            states.append(row["state"])
        return watch_repairs_channel(states, existing_state=existing)

    async def unsubscribe(self, *, channel: str, profile: str, target: str, instance_id: int | None = None) -> bool:
        """Remove one subscription; False if there was none.

        Messages queued for the channel about jobs it no longer watches at all are cancelled with it (see
        `cancel_unwatched`): `/dlf unwatch` means the alerts stop now, not after the backlog.
        """
        where = (
            subscriptions.c.channel == channel,
            subscriptions.c.profile == profile,
            subscriptions.c.target == target,
            subscriptions.c.instance_id == (instance_id or WHOLE_JOB),
        )
        row = (await self._conn.execute(select(subscriptions).where(*where))).mappings().first()
        if row is None:
            return False
        await self._conn.execute(delete(subscriptions).where(subscriptions.c.id == row["id"]))
        await self.cancel_unwatched(channel=channel, profile=profile)
        return True

    async def cancel_unwatched(self, *, channel: str, profile: str, jobs: Iterable[str] | None = None) -> int:
        """Cancel the pending messages of `channel` (of `profile`) about jobs no subscription of the channel covers
        any more — among `jobs`, or among all its pending messages when None; returns how many were cancelled.

        A digest whose every alert is cancelled goes too. An incident whose card is among them (never posted) is
        resolved quietly: nobody saw it, and nothing will tell its story in that channel. Messages of jobs still
        matched by a subscription of the channel stay queued. The watcher calls this after queueing too, so a cycle
        that read the subscriptions before an unwatch cannot queue the unwatched job's alerts after it.
        """
        remaining = [s for s in await self.list_for_channel(channel) if s.profile == profile]
        t = outbox.c
        pending = (t.channel == channel, t.profile == profile, t.status == "pending")
        if jobs is None:
            found = await self._conn.execute(select(t.job_name).where(*pending, t.job_name.is_not(None)).distinct())
            jobs = [job for (job,) in found]
        unwatched = [job for job in dict.fromkeys(jobs) if not any(_covers(s, job) for s in remaining)]
        cancelled: list[str] = []
        for batch in chunks(unwatched):
            result = await self._conn.execute(
                update(outbox)
                .where(*pending, t.job_name.in_(batch))
                .values(status="cancelled", claimed_by=None, claim_expires_at=None)
                .returning(t.key)
            )
            cancelled.extend(key for (key,) in result)
        if not cancelled:
            return 0
        cancelled.extend(await self._cancel_emptied_digests(channel, profile))
        await self._resolve_unposted(channel, profile, cancelled)
        return len(cancelled)

    async def _cancel_emptied_digests(self, channel: str, profile: str) -> list[str]:
        t = outbox.c
        children = outbox.alias("child")
        live_child = (
            select(children.c.id).where(children.c.parent_key == t.key, children.c.status != "cancelled").exists()
        )
        result = await self._conn.execute(
            update(outbox)
            .where(t.channel == channel, t.profile == profile, t.status == "pending", t.kind == "digest", ~live_child)
            .values(status="cancelled", claimed_by=None, claim_expires_at=None)
            .returning(t.key)
        )
        return [key for (key,) in result]

    async def _resolve_unposted(self, channel: str, profile: str, keys: Iterable[str]) -> None:
        for batch in chunks(keys):
            await self._conn.execute(
                update(incidents)
                .where(
                    incidents.c.channel == channel,
                    incidents.c.profile == profile,
                    incidents.c.state != "resolved",
                    incidents.c.root_key.in_(batch),
                )
                .values(
                    state="resolved",
                    resolved_by=None,
                    resolved_at=self._now,
                    resolution=UNWATCHED_RESOLUTION,
                    updated_at=self._now,
                )
            )

    async def delete(self, subscription_id: int) -> None:
        """Remove a subscription by id (e.g. a one-off follow whose outcome has been delivered)."""
        await self._conn.execute(delete(subscriptions).where(subscriptions.c.id == subscription_id))

    async def end(self, subscription_id: int) -> None:
        """Mark a one-off follow ended (its instance finished): the watcher no longer matches it, and it stays until
        its outcome is delivered, so a broken channel stays held (and its outcome kept) until it is repaired."""
        await self._conn.execute(
            update(subscriptions)
            .where(subscriptions.c.id == subscription_id, subscriptions.c.ended_at.is_(None))
            .values(ended_at=self._now)
        )

    async def list_ended_follows(self, profile: str) -> list[Subscription]:
        """One-off follows of `profile` that ended and wait for their outcome to be delivered, oldest first."""
        query = (
            select(subscriptions)
            .where(subscriptions.c.profile == profile, subscriptions.c.ended_at.is_not(None))
            .order_by(subscriptions.c.id)
        )
        return [_to_record(r) for r in (await self._conn.execute(query)).mappings()]

    async def get(self, subscription_id: int) -> Subscription | None:
        """One subscription by id."""
        row = (
            (await self._conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id)))
            .mappings()
            .first()
        )
        return _to_record(row) if row else None

    async def list_for_channel(self, channel: str) -> list[Subscription]:
        """Every subscription of `channel`, whatever its state, oldest first."""
        rows = await self._conn.execute(
            select(subscriptions).where(subscriptions.c.channel == channel).order_by(subscriptions.c.id)
        )
        return [_to_record(r) for r in rows.mappings()]

    async def list_created_by(self, user: str, *, limit: int = 200) -> list[Subscription]:
        """The subscriptions `user` created (App Home), in every channel, at most `limit`, oldest first."""
        rows = await self._conn.execute(
            select(subscriptions).where(subscriptions.c.created_by == user).order_by(subscriptions.c.id).limit(limit)
        )
        return [_to_record(r) for r in rows.mappings()]

    async def list_active(self, profile: str | None = None) -> list[Subscription]:
        """Active subscriptions (of one profile, or all), oldest first."""
        query = select(subscriptions).where(subscriptions.c.state == "active").order_by(subscriptions.c.id)
        if profile is not None:
            query = query.where(subscriptions.c.profile == profile)
        return [_to_record(r) for r in (await self._conn.execute(query)).mappings()]

    async def list_watching(self, profile: str, jobs: Iterable[str] | None = None) -> list[Subscription]:
        """Every subscription of one profile the watcher tells, broken ones too (their messages are held), oldest
        first; ended follows are not (their instance finished, only their outcome's delivery is awaited).

        With `jobs`, only those that can concern them: every glob and every follow, and the exact watches of those
        job names — what one cycle needs, read by the (profile, target) index instead of every subscription.
        """
        t = subscriptions.c
        base = select(subscriptions).where(t.profile == profile, t.ended_at.is_(None)).order_by(t.id)
        if jobs is None:
            return [_to_record(r) for r in (await self._conn.execute(base)).mappings()]
        found = {
            r["id"]: _to_record(r)
            for r in (await self._conn.execute(base.where(or_(t.is_pattern, t.instance_id != WHOLE_JOB)))).mappings()
        }
        for batch in chunks(dict.fromkeys(jobs)):
            rows = await self._conn.execute(base.where(t.target.in_(batch), t.instance_id == WHOLE_JOB))
            found.update((r["id"], _to_record(r)) for r in rows.mappings())
        return [found[key] for key in sorted(found)]

    async def any_watching(self, profile: str) -> bool:
        """Whether any subscription of the profile is to be told (see `list_watching`)."""
        t = subscriptions.c
        query = select(t.id).where(t.profile == profile, t.ended_at.is_(None)).limit(1)
        return (await self._conn.execute(query)).first() is not None

    async def mark_broken(self, channel: str, reason: str) -> int:
        """Mark every subscription of `channel` broken with `reason` (Slack errors are per channel); returns count."""
        result = await self._conn.execute(
            update(subscriptions)
            .where(subscriptions.c.channel == channel, subscriptions.c.state != "broken")
            .values(state="broken", broken_reason=reason[:_BROKEN_REASON_MAX], broken_at=self._now)
        )
        return int(result.rowcount)


def _covers(subscription: Subscription, job_name: str) -> bool:
    """Whether the subscription is about `job_name` (its exact name, its glob, or one of its instances)."""
    if subscription.is_pattern:
        return fnmatchcase(job_name, subscription.target)
    return subscription.target == job_name


__all__ = ["UNWATCHED_RESOLUTION", "RequeueRule", "Subscriptions"]
