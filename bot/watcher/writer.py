"""A cycle's decision written to the store: seen statuses, incident changes and outbox rows, each stage in one
transaction, all or nothing.

The new failures' parts are claimed first (`Instances.claim`): one that an overlapping cycle wrote meanwhile is left
out whole. The last stage ends the finished follows, removes the settled ones and advances the cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from bot.store import Store, Transaction
from bot.watcher.compose import OutboxMessage, compose
from bot.watcher.intents import Decision, IncidentFailedAgain, IncidentOpened, IncidentResolved, MuteCounted
from bot.watcher.keys import follow_key, recovery_keys
from bot.watcher.outbox import holds_follow
from bot.watcher.staging import merge


@dataclass
class Progress:
    """What a cycle has written so far: incident ids by (channel, job), counts for the report."""

    incident_ids: dict[tuple[str, str], int]
    enqueued: int = 0
    batches: int = 0


class CycleWriter:
    """Writes one profile's cycle into the store."""

    def __init__(self, *, store: Store, profile: str) -> None:
        self._store = store
        self._profile = profile

    async def failures(self, parts: Sequence[Decision], progress: Progress, *, now_ms: int) -> None:
        """New failures' parts in one transaction. Each is claimed first (`Instances.claim`): one another cycle has
        written meanwhile (overlapping replicas) is left out whole — its alerts, status and incident change."""
        async with self._store.transaction() as tx:
            claimed: list[Decision] = []
            for part in parts:
                if all([await tx.instances.claim(self._profile, item) for item in part.seen]):
                    claimed.append(part)
            merged = merge(claimed)
            await self._apply(tx, replace(merged, seen=()), compose(merged.intents, now_ms=now_ms), progress)

    async def write(
        self,
        decision: Decision,
        messages: Sequence[OutboxMessage],
        progress: Progress,
        *,
        cursor: int | None = None,
    ) -> None:
        """Seen statuses, incidents and outbox rows in one transaction, all or nothing; with `cursor`, the cycle's
        last stage: finished follows, the settled ones removed, and the cursor advanced."""
        async with self._store.transaction() as tx:
            await self._apply(tx, decision, messages, progress)
            if cursor is None:
                return
            for subscription_id in decision.finished_follows:
                await tx.subscriptions.end(subscription_id)
            await self._settle_ended_follows(tx)
            await tx.watcher_state.heartbeat(self._profile, cursor=cursor)

    async def _apply(
        self, tx: Transaction, decision: Decision, messages: Sequence[OutboxMessage], progress: Progress
    ) -> None:
        """Seen statuses, incident changes and outbox rows, inside `tx`."""
        if decision.seen:
            await tx.instances.record(self._profile, decision.seen)
        lost = await self._apply_incidents(tx, decision, progress.incident_ids)
        jobs_by_channel: dict[str, set[str]] = {}
        for message in messages:
            if message.key in lost:
                continue  # the incident was resolved meanwhile (by hand, or a rerun): its thread says so already
            inserted = await tx.outbox.enqueue_message(message)
            progress.enqueued += int(inserted)
            if inserted and message.job_name is not None:
                jobs_by_channel.setdefault(message.channel, set()).add(message.job_name)
        for channel, jobs in jobs_by_channel.items():
            # The subscriptions were read when the cycle began: a channel that unwatched a job since must not get
            # its alerts after all.
            await tx.subscriptions.cancel_unwatched(channel=channel, profile=self._profile, jobs=jobs)

    async def _settle_ended_follows(self, tx: Transaction) -> None:
        """Remove the ended follows whose outcome is out (or was never to be said). One whose outcome waits — held
        in a broken channel, or refused by it until someone repairs it — stays, and keeps the channel held."""
        for follow in await tx.subscriptions.list_ended_follows(self._profile):
            assert follow.instance_id is not None
            row = await tx.outbox.get(
                follow_key(
                    profile=self._profile,
                    channel=follow.channel,
                    job_name=follow.target,
                    instance_id=follow.instance_id,
                )
            )
            waiting = row is not None and holds_follow(
                row_status=row.status, last_error=row.last_error, channel_broken=follow.state == "broken"
            )
            if not waiting:
                await tx.subscriptions.delete(follow.id)

    async def _apply_incidents(self, tx: Transaction, decision: Decision, ids: dict[tuple[str, str], int]) -> set[str]:
        """Apply the incident changes; returns the outbox keys of the recoveries that lost their resolution (someone
        resolved the incident since the cycle read it — "resolved by alice" is in its thread already; a "recovered"
        reply and a redraw from the cycle's older view would say it twice, and draw it resolved the wrong way)."""
        lost: set[str] = set()
        for change in decision.incident_changes:
            key = (change.channel, change.job_name)
            if isinstance(change, MuteCounted):
                await tx.mutes.count_suppressed(change.mute_id)
            elif isinstance(change, IncidentOpened):
                incident, created = await tx.incidents.open_or_get(
                    channel=change.channel,
                    profile=self._profile,
                    job_name=change.job_name,
                    instance_id=change.instance_id,
                    root_key=change.root_key,
                    escalate_at=None if change.escalate_after_ms is None else tx.now + change.escalate_after_ms,
                    escalation_mention=change.escalation_mention,
                    escalate_after_ms=change.escalate_after_ms,
                    team=change.team,
                )
                if created and change.muted:
                    mute = await tx.mutes.get(channel=change.channel, profile=self._profile, job_name=change.job_name)
                    if mute is not None and mute.active_at(tx.now):
                        await tx.incidents.hold_escalation(incident.id, mute_until=mute.until_at)
                ids[key] = incident.id
            elif isinstance(change, IncidentFailedAgain | IncidentResolved):
                if key not in ids:
                    # Opened by an overlapping cycle since this one read the incidents.
                    found = [
                        i
                        for i in await tx.incidents.unresolved(self._profile, [change.job_name])
                        if i.channel == change.channel
                    ]
                    if not found:
                        continue
                    ids[key] = found[0].id
                if isinstance(change, IncidentFailedAgain):
                    await tx.incidents.record_failure(ids[key], change.instance_id)
                else:
                    resolved, won = await tx.incidents.try_resolve(ids.pop(key), by=None, reason=change.reason)
                    if not won:
                        lost.update(recovery_keys(root_key=resolved.root_key))
        return lost


__all__ = ["CycleWriter", "Progress"]
