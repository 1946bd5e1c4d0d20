"""The rerun follower: every poll cycle, each rerun in flight is looked up in DLF and its story told in its incident's
thread — progress as ONE reply edited in place, then how it ended (recovered, failed again, stopped).

It runs at the start of a profile's poll cycle, under the poll lease (one replica at a time), before the cycle reads
the store, and costs one details call per rerun in flight (`Incidents.reruns_in_flight`), whatever the number of jobs.

The actions side claims the rerun slot (state "requested"), asks DLF, and sets "running" (accepted) or "unknown"
(answer lost), or ends it (refused). Here, per rerun (`step`, pure):

- "requested" younger than `REQUESTED_GRACE_MS`: the actions side is still waiting for DLF — left alone.
- "requested" older, or "unknown": DLF took it if the instance's run started after `rerun_run_start` (→ "running",
  followed from this cycle on); otherwise, `rerun_start_wait_ms` after it was asked for, it ends with a reply that it
  was not seen to start. A "running" one (DLF said 204) whose instance still shows the run before is waited for the
  same way: that old failure is not the rerun's end.
- running: the progress ("3/7" nodes done) is stored (`set_rerun_progress`) and, when it changed, said: the first
  time as a thread reply, afterwards as an "update" of that reply (parent_key = the reply's key).
- success: the incident resolves (`try_resolve(rerun_of=...)`, one caller wins): "recovered after 42 min, 3 failures,
  by <@U…>'s rerun" and the card redrawn resolved. Its keys are the decision's recovery keys, so whichever of the
  two sees the success first, one reply goes out.
- fail / manual-stop / another end: the slot ends (`end_rerun`), a fail counts on the incident, one reply says how it
  ended (its failed nodes), and the card is redrawn.

The instance's new status and run are recorded (`Instances.record`) in the same transaction, so the decision does not
take the rerun's end for news a second time; while a rerun is in flight the decision leaves its instance's end to
this follower (`KnownIncident.rerun_instance_id`). One story per event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.dlf.client import DlfClient
from bot.dlf.models import FINISHED_INSTANCE_STATUSES, Instance
from bot.errors import DlfError
from bot.incidents.outbox import IncidentRef, OutboxMessage, about, card_first, card_update, thread_reply
from bot.incidents.view import incident_view
from bot.render import alert as alert_render
from bot.render import rerun_replies
from bot.store import Incident, Store, Transaction
from bot.watcher.keys import recovery_keys, rerun_end_keys, rerun_progress_keys, rerun_running_key
from bot.watcher.poll_options import DEFAULT_RERUN_START_WAIT_MS

log = logging.getLogger(__name__)

# How long a "requested" rerun belongs to the actions side (asking DLF) before the cycle looks at it.
REQUESTED_GRACE_MS = 60_000
SUCCESS_STATUSES = frozenset({"success", "forceSuccess", "ignoreSuccess"})

# What `step` finds a rerun doing.
WAIT = "wait"  # nothing to do this cycle
NOT_STARTED = "not_started"  # given up: DLF never showed it starting
PROGRESS = "progress"  # running
SUCCEEDED = "succeeded"
FAILED = "failed"
ENDED = "ended"  # stopped by hand, or another end


@dataclass(frozen=True, kw_only=True)
class Step:
    """What to do about one rerun this cycle; `started` True when DLF is now seen to have taken it."""

    kind: str
    started: bool = False


def rerun_started(incident: Incident, instance: Instance) -> bool:
    """The instance shows a run newer than the one the rerun was asked on (DLF took the rerun)."""
    if incident.rerun_run_start is not None:
        return instance.start_time is not None and instance.start_time > incident.rerun_run_start
    # The run before was not known: a rerun of a failed instance shows as running again, or as its success.
    return instance.status not in ("fail", "manual-stop")


def step(incident: Incident, instance: Instance, *, now_ms: int, start_wait_ms: int) -> Step:
    """What the cycle does about `incident`'s rerun, given its instance as DLF shows it now. Pure.

    Even a rerun DLF accepted ("running") counts as started only once the instance shows the new run (or the cycle
    has seen its progress): right after DLF's 204 the instance may still show the failed run, which is not the
    rerun's end."""
    state = incident.rerun_state
    requested_at = incident.rerun_requested_at or incident.updated_at
    if state == "requested" and now_ms - requested_at < REQUESTED_GRACE_MS:
        return Step(kind=WAIT)
    seen_running = state == "running" and incident.rerun_progress is not None
    if not (seen_running or rerun_started(incident, instance)):
        if now_ms - requested_at >= start_wait_ms:
            return Step(kind=NOT_STARTED)
        return Step(kind=WAIT)
    newly = state != "running"
    if instance.status in SUCCESS_STATUSES:
        return Step(kind=SUCCEEDED, started=newly)
    if instance.status == "fail":
        return Step(kind=FAILED, started=newly)
    if instance.status in FINISHED_INSTANCE_STATUSES:
        return Step(kind=ENDED, started=newly)
    return Step(kind=PROGRESS, started=newly)


class RerunFollower:
    """Follows one profile's reruns in flight (see the module docstring)."""

    def __init__(
        self, *, profile: str, client: DlfClient, store: Store, start_wait_ms: int = DEFAULT_RERUN_START_WAIT_MS
    ) -> None:
        self.profile = profile
        self.client = client
        self.store = store
        self.start_wait_ms = start_wait_ms

    async def follow(self, now_ms: int) -> int:
        """One look at every rerun in flight; returns how many outbox rows were queued. DLF failing for one rerun
        is logged and retried next cycle."""
        async with self.store.transaction() as tx:
            in_flight = await tx.incidents.reruns_in_flight(self.profile)
        queued = 0
        for incident in in_flight:
            if incident.rerun_state == "requested" and now_ms - (incident.rerun_requested_at or 0) < REQUESTED_GRACE_MS:
                continue  # the actions side is still asking DLF: no details call for it
            instance_id = incident.rerun_instance_id or incident.last_instance_id
            try:
                instance = await self.client.get_instance(incident.job_name, instance_id)
            except DlfError as exc:
                log.warning(
                    "rerun follower: could not read %s instance %s (%s); trying again next cycle",
                    incident.job_name,
                    instance_id,
                    exc.message,
                    extra={"profile": self.profile},
                )
                continue
            queued += await self._step(incident.id, incident.rerun_seq, instance, now_ms)
        return queued

    async def _step(self, incident_id: int, seq: int, instance: Instance, now_ms: int) -> int:
        async with self.store.transaction() as tx:
            incident = await tx.incidents.get(incident_id)
            if incident is None or incident.rerun_state is None or incident.rerun_seq != seq or not incident.is_open:
                return 0  # ended or resolved meanwhile (a person, the other side)
            todo = step(incident, instance, now_ms=tx.now, start_wait_ms=self.start_wait_ms)
            if todo.kind == WAIT:
                return 0
            if todo.started:
                await tx.incidents.set_rerun_state(incident.id, seq=seq, state="running")
            rows = await self._rows(tx, incident, instance, todo)
            await tx.outbox.enqueue_messages(rows)
            return len(rows)

    async def _rows(self, tx: Transaction, incident: Incident, instance: Instance, todo: Step) -> list[OutboxMessage]:
        ref = IncidentRef(
            channel=incident.channel, profile=incident.profile, job_name=incident.job_name, card_key=incident.root_key
        )
        now = tx.now
        seq = incident.rerun_seq
        first = card_first(
            ref,
            incident_view(incident, instance, now_ms=now),
            card_queued=await card_queued(tx, incident),
            now_ms=now,
        )
        metadata = about(
            profile=incident.profile, job_name=incident.job_name, instance_id=instance.instance_id, event="rerun"
        )
        if todo.kind == NOT_STARTED:
            if not await tx.incidents.end_rerun(incident.id, seq=seq):
                return []  # ended meanwhile (a stop from the card): that story is told by whoever ended it
            reply_key, update_key = rerun_end_keys(root_key=incident.root_key, seq=seq)
            message = rerun_replies.render_rerun_not_started(
                job_name=incident.job_name,
                instance_id=instance.instance_id,
                by=incident.rerun_by,
                waited_ms=now - (incident.rerun_requested_at or now),
            )
            after = await tx.incidents.get(incident.id) or incident
            return [
                *first,
                thread_reply(ref, message, key=reply_key, metadata=metadata),
                card_update(
                    ref, incident_view(after, instance, now_ms=now), key=update_key, metadata=metadata, now_ms=now
                ),
            ]
        rows = [*first, *await self._progress(tx, ref, incident, instance, metadata)]
        if todo.started and todo.kind == PROGRESS:
            # Found running by the cycle (its start was not recorded: a crash, a lost answer): the card says so.
            running = await tx.incidents.get(incident.id) or incident
            rows.append(
                card_update(
                    ref,
                    incident_view(running, instance, now_ms=now),
                    key=rerun_running_key(root_key=incident.root_key, seq=seq),
                    metadata=metadata,
                    now_ms=now,
                )
            )
        if todo.kind == PROGRESS:
            return rows
        await self._record_run(tx, instance)
        if todo.kind == SUCCEEDED:
            return rows + await self._recovered(tx, ref, incident, instance)
        if not await tx.incidents.end_rerun(incident.id, seq=seq):
            # Ended since this transaction read it (a stop on another replica committed while we waited for its
            # row): its reply says so; a second "rerun ended" — and a failure counted twice — would not be true.
            return []
        if todo.kind == FAILED:
            after = await tx.incidents.record_failure(incident.id, instance.instance_id)
        else:
            after = await tx.incidents.get(incident.id) or incident
        reply_key, update_key = rerun_end_keys(root_key=incident.root_key, seq=seq)
        ended = metadata | {"event": "rerun_ended"}
        message = rerun_replies.render_rerun_ended(instance, by=incident.rerun_by, failure_count=after.failure_count)
        view = incident_view(after, instance, now_ms=now)
        return [
            *rows,
            thread_reply(ref, message, key=reply_key, metadata=ended),
            card_update(ref, view, key=update_key, metadata=ended, now_ms=now),
        ]

    async def _progress(
        self, tx: Transaction, ref: IncidentRef, incident: Incident, instance: Instance, metadata: dict[str, object]
    ) -> list[OutboxMessage]:
        """The progress reply (first time) or its edit, when the progress changed."""
        progress = rerun_replies.progress_key(instance)
        if not await tx.incidents.set_rerun_progress(incident.id, seq=incident.rerun_seq, progress=progress):
            return []
        reply_key, edit_key = rerun_progress_keys(root_key=incident.root_key, seq=incident.rerun_seq, progress=progress)
        message = rerun_replies.render_rerun_progress(instance, by=incident.rerun_by, now_ms=tx.now)
        about_progress = metadata | {"event": "rerun_progress"}
        if await tx.outbox.get(reply_key) is None:
            return [thread_reply(ref, message, key=reply_key, metadata=about_progress)]
        return [
            OutboxMessage(
                key=edit_key,
                channel=ref.channel,
                kind="update",
                payload=thread_reply(ref, message, key=edit_key, metadata=about_progress).payload,
                parent_key=reply_key,
                profile=ref.profile,
                job_name=ref.job_name,
            )
        ]

    async def _recovered(
        self, tx: Transaction, ref: IncidentRef, incident: Incident, instance: Instance
    ) -> list[OutboxMessage]:
        resolved, won = await tx.incidents.try_resolve(incident.id, by=None, reason="rerun", rerun_of=incident.rerun_by)
        if not won:
            return []
        now = tx.now
        reply_key, update_key = recovery_keys(root_key=incident.root_key)
        metadata = about(
            profile=incident.profile, job_name=incident.job_name, instance_id=instance.instance_id, event="resolved"
        )
        reply = alert_render.render_recovery(
            instance,
            failed_instance_id=instance.instance_id,
            reason="rerun",
            now_ms=now,
            profile=incident.profile,
            opened_at=incident.opened_at,
            failure_count=resolved.failure_count,
            rerun_by=incident.rerun_by,
        )
        view = incident_view(resolved, instance, now_ms=now, resolved_by=instance)
        return [
            thread_reply(ref, reply, key=reply_key, metadata=metadata),
            card_update(ref, view, key=update_key, metadata=metadata, now_ms=now),
        ]

    async def _record_run(self, tx: Transaction, instance: Instance) -> None:
        """The rerun's end as the store's seen status: the decision must not tell it again."""
        await tx.instances.record(
            self.profile,
            [(instance.job_name, instance.instance_id, instance.status, instance.start_time, instance.plan_time)],
        )


async def card_queued(tx: Transaction, incident: Incident) -> bool:
    """Whether the incident's card is in the outbox (posted or queued); False when a mute held it back."""
    return incident.root_ts is not None or await tx.outbox.get(incident.root_key) is not None


__all__ = ["REQUESTED_GRACE_MS", "RerunFollower", "Step", "card_queued", "rerun_started", "step"]
