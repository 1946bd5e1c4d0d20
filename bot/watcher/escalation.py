"""Escalation reminders: an incident nobody acknowledged within its delay gets ONE reminder in its thread,
mentioning the subscription's mention target.

The delay is set when the incident opens (`escalate_at`: DLF_ESCALATE_AFTER, or the subscription's `--escalate`);
acknowledging or resolving it first clears it (`try_acknowledge` / `try_resolve`). It is stored, so it survives
restarts; each poll cycle (under the poll lease) sends what is due. `mark_escalated` lets one caller win, and the
reminder's outbox key is one per incident, so two cycles overlapping still send one.

Mutes: while the job is muted in the channel no reminder is sent; when the mute ends and the incident is still
unacknowledged, the reminder is due its delay (`escalate_after_ms`) later, once. Setting a mute holds the reminder
(`Incidents.hold_escalation`: due at the mute's end + the delay, or nothing due while muted until unmuted), opening an
incident under a mute does the same (the cycle's writer), unmuting sets it due the delay from then
(`rearm_escalation`). A reminder found due while its job is muted (a mute written some other way) is held here the
same way, not dropped.
"""

from __future__ import annotations

from bot.dlf.models import Instance
from bot.incidents.outbox import IncidentRef, about, card_first, thread_reply
from bot.incidents.view import incident_view
from bot.render.rerun_replies import render_escalation
from bot.store import Store
from bot.watcher.keys import escalation_key
from bot.watcher.reruns import card_queued

DUE_BATCH = 100


async def send_due_reminders(store: Store, profile: str) -> int:
    """Queue the reminder of every open incident of `profile` whose escalation is due; returns how many."""
    sent = 0
    async with store.transaction() as tx:
        for incident in await tx.incidents.due_escalations(profile, limit=DUE_BATCH):
            mute = await tx.mutes.get(channel=incident.channel, profile=incident.profile, job_name=incident.job_name)
            if mute is not None and mute.active_at(tx.now):
                # Muted: held back until the mute ends, then due its delay later (an incident from before the
                # delay was kept has none to wait: its reminder is taken, not sent, as a mute holds it back).
                if not await tx.incidents.hold_escalation(incident.id, mute_until=mute.until_at):
                    await tx.incidents.mark_escalated(incident.id)
                continue
            if not await tx.incidents.mark_escalated(incident.id):
                continue
            ref = IncidentRef(
                channel=incident.channel,
                profile=incident.profile,
                job_name=incident.job_name,
                card_key=incident.root_key,
            )
            instance = Instance(job_name=incident.job_name, instance_id=incident.last_instance_id, status="fail")
            message = render_escalation(
                job_name=incident.job_name,
                instance_id=incident.last_instance_id,
                opened_at=incident.opened_at,
                now_ms=tx.now,
                mention_target=incident.escalation_mention,
            )
            metadata = about(
                profile=incident.profile,
                job_name=incident.job_name,
                instance_id=incident.last_instance_id,
                event="escalation",
            )
            rows = [
                *card_first(
                    ref,
                    incident_view(incident, instance, now_ms=tx.now),
                    card_queued=await card_queued(tx, incident),
                    now_ms=tx.now,
                ),
                thread_reply(ref, message, key=escalation_key(root_key=incident.root_key), metadata=metadata),
            ]
            await tx.outbox.enqueue_messages(rows)
            sent += 1
    return sent


__all__ = ["send_due_reminders"]
