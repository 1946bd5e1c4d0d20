"""Incident actions: what a person does to an incident from Slack (a card's button, a mention in its thread, `/dlf`,
the App Home), one use case per action, whatever the way in.

    acknowledge · rerun (error_node | first_node) · stop · mute (1h/4h/24h/until unmuted) · unmute · resolve · refresh

Every action names its incident (`Target`) and says who and where it came from (`Origin`). The incident is looked up
in the store and checked against the origin — never trusted from the payload: a card's button must be on that
incident's card (`Incidents.by_message`, channel + message ts) and its value must name that card; the team must be
the incident's; a Home button's incident must be in a channel of the user's subscriptions. A value naming anything
else is refused and audited.

Rules: Rerun and Stop are for operators (`Operators`); everyone may acknowledge, mute, resolve and refresh. Every
mutating action writes one audit row (who, what, channel, target job, outcome with DLF's answer), and its thread
reply and card redraw go into the outbox in the same transaction as the state change (`bot.incidents.outbox`, the
card from `bot.incidents.view.incident_view`). An action acts on the incident as it stands now, whatever card it
came from: a second rerun while one runs, or resolving a resolved incident, is refused with the reason.

Once: a rerun takes the incident's one rerun slot (`Incidents.claim_rerun`) and a stop its request key before DLF is
called, so a double click or a redelivered interaction calls DLF once. A stop that DLF refused, or that was never
sent, releases its key (a later click may try again); one whose answer was lost keeps it.

DLF is called outside any transaction: a slow DLF never holds a database lock.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bot import messages
from bot.dlf.models import Instance
from bot.errors import DlfActionRefused, DlfError, DlfOutcomeUnknown, StoreUnavailable
from bot.incidents.outbox import IncidentRef, about, card_first, card_update, thread_reply
from bot.incidents.view import incident_view
from bot.profiles import DEFAULT_PROFILE
from bot.render import incident_replies as replies
from bot.render.actions import IncidentRef as CardRef
from bot.render.actions import names_card
from bot.render.message import Message
from bot.services.operators import OperatorCheck, Operators
from bot.store import Store
from bot.store.engine import COMMAND_LOCK_WAIT_S
from bot.store.records import Incident, Mute
from bot.store.store import Transaction
from bot.watcher.keys import bounded_key

log = logging.getLogger(__name__)

ACK, RERUN, STOP, MUTE, UNMUTE, RESOLVE, REFRESH = "ack", "rerun", "stop", "mute", "unmute", "resolve", "refresh"
OPERATOR_ACTIONS = frozenset({RERUN, STOP})
RERUNNABLE = frozenset({"success", "fail", "manual-stop"})
NOT_CONFIGURED = OperatorCheck(allowed=False, configured=False, who=())
AUDIT_TARGET_MAX = 255


class IncidentDlf(Protocol):
    """What the actions need of a DLF client (`bot.dlf.client.DlfClient` fits)."""

    async def get_instance(self, job_name: str, instance_id: int) -> Instance: ...

    async def rerun(self, job_name: str, instance_id: int, *, retry_location: str = "error_node") -> None: ...

    async def stop(self, job_name: str, instance_id: int) -> None: ...


@dataclass(frozen=True, kw_only=True)
class Origin:
    """Who acts and from where: the Slack user, channel (None from the App Home) and team, the message the action is
    on (a card's ts; for a mention, its thread's ts), and the way in: "button" | "dialog" | "mention" | "slash" |
    "home"."""

    user: str
    channel: str | None
    team: str | None
    message_ts: str | None = None
    via: str = "button"


@dataclass(frozen=True, kw_only=True)
class Target:
    """Which incident: `card` (a button's or dialog's value: the card key it names), `job` (a slash command: the
    channel's unresolved incident of that job), or neither (a mention: the incident whose card starts the thread)."""

    card: CardRef | None = None
    job: str | None = None


@dataclass(frozen=True, kw_only=True)
class Done:
    """The action was done. `outcome`: "ok", or "unknown" when DLF's answer was lost. `until_ms` (mute),
    `held_back` (unmute), `instance` (refresh: what DLF says now) as the action has them."""

    action: str
    job: str
    instance_id: int | None = None
    outcome: str = "ok"
    until_ms: int | None = None
    held_back: int = 0
    in_thread: bool = True  # a reply went to the incident's thread


@dataclass(frozen=True, kw_only=True)
class Refused:
    """Nothing was done, and why. `reason`: "unknown_incident" | "forged" | "no_incident" | "resolved" |
    "rerun_in_flight" | "not_running" | "not_rerunnable" | "operators_only" | "dlf_refused" | "dlf_failed" |
    "no_profile" | "unavailable". `check` for operators_only; DLF's words for dlf_*; `by` who holds the rerun."""

    action: str
    reason: str
    job: str | None = None
    instance_id: int | None = None
    status: str | None = None
    by: str | None = None
    check: OperatorCheck | None = None
    dlf_code: str | None = None
    dlf_message: str | None = None
    told_thread: bool = False  # DLF's refusal is in the incident's thread already (a reply queued)


@dataclass(frozen=True, kw_only=True)
class AlreadyHandled:
    """Someone (or an earlier delivery of the same click) did it already: `reason` "acknowledged" | "resolved" |
    "stopping" | "rerunning" | "muted" (the same mute choice is in force: until `until_ms`, None until unmuted) |
    "not_muted" (an unmute with no mute left); `by` who."""

    action: str
    reason: str
    job: str | None = None
    by: str | None = None
    until_ms: int | None = None


@dataclass(frozen=True, kw_only=True)
class Confirmation:
    """What the Rerun / Stop dialog names before anything is done: the job, the instance, where the rerun starts and
    the failed nodes it runs again; `card`, `channel` and `message_ts` come back with the dialog's submission."""

    action: str
    card: str
    channel: str
    message_ts: str
    job: str
    instance_id: int
    status: str
    retry_location: str | None = None
    failed_nodes: tuple[str, ...] = ()
    rerun: bool = False  # the stop ends the rerun in flight


@dataclass(frozen=True, kw_only=True)
class IncidentShown:
    """`nodes` / `logs` in a thread: the incident's latest instance as DLF has it now."""

    incident: Incident
    instance: Instance | None
    error: str | None = None


ActionResult = Done | Refused | AlreadyHandled


@dataclass(frozen=True)
class _Located:
    incident: Incident | None
    refusal: Refused | None = None
    forged_value: str | None = None


@dataclass(frozen=True)
class _Fetched:
    """The incident's latest instance as DLF gave it (or a placeholder, and why DLF did not)."""

    instance: Instance
    details_error: str | None = None


@dataclass(frozen=True)
class _Checked:
    """A rerun or a stop cleared to ask DLF: the incident, the client of its profile, its instance as DLF has it."""

    incident: Incident
    client: IncidentDlf
    fetched: _Fetched


class IncidentService:
    """The incident actions, over the store, the DLF clients (by profile) and the operator check. `wake` is called
    after rows were queued (the deliverer sends them at once instead of at its next round)."""

    def __init__(
        self,
        *,
        store: Store,
        clients: Mapping[str, IncidentDlf],
        operators: Operators | None,
        wake: Callable[[], None] | None = None,
        lock_wait_s: float = COMMAND_LOCK_WAIT_S,
    ) -> None:
        self._store = store
        self._clients = dict(clients)
        self._operators = operators
        self._wake = wake
        self._lock_wait_s = lock_wait_s

    # ------------------------------------------------------------------------------------------------ actions
    async def acknowledge(self, target: Target, origin: Origin) -> ActionResult:
        """Take the incident: "@alice is on it", the card redrawn acknowledged (cancels the reminder)."""
        return await self._simple(ACK, target, origin)

    async def resolve(self, target: Target, origin: Origin) -> ActionResult:
        """Close the incident by hand (refused when it is resolved already)."""
        return await self._simple(RESOLVE, target, origin)

    async def refresh(self, target: Target, origin: Origin) -> ActionResult:
        """Redraw the card from what DLF says now (no reply, no audit: it changes nothing)."""
        return await self._simple(REFRESH, target, origin)

    async def mute(self, target: Target, origin: Origin, *, duration_s: int | None) -> ActionResult:
        """Mute the incident's job in its channel for `duration_s` (None: until unmuted)."""
        return await self._simple(MUTE, target, origin, duration_s=duration_s)

    async def unmute(self, target: Target, origin: Origin) -> ActionResult:
        """Unmute the incident's job in its channel; the reply says how many failures were held back."""
        return await self._simple(UNMUTE, target, origin)

    async def mute_job(self, job: str, origin: Origin, *, duration_s: int | None, unmute: bool = False) -> ActionResult:
        """`/dlf mute <job> 4h` / `/dlf unmute <job>` in `origin.channel`: the mute, whether or not an incident is
        open; its thread hears of it when there is one."""
        action = UNMUTE if unmute else MUTE
        channel = origin.channel or ""
        try:
            async with self._store.transaction(read_only=True, lock_wait_s=self._lock_wait_s) as tx:
                incident = await _unresolved_of_job(tx, channel, job)
                profile = incident.profile if incident is not None else await _profile_for(tx, channel, job)
            if incident is None:
                async with self._store.transaction(lock_wait_s=self._lock_wait_s) as tx:
                    return await _mute_without_incident(
                        tx, action, origin, channel=channel, profile=profile, job=job, duration_s=duration_s
                    )
        except StoreUnavailable as err:
            return self._unavailable(action, err)
        fetched = await self._fetch(incident)
        try:
            async with self._store.transaction(lock_wait_s=self._lock_wait_s) as tx:
                current = await tx.incidents.get(incident.id)
                assert current is not None
                result = await self._mutate(tx, action, current, origin, fetched, duration_s)
        except StoreUnavailable as err:
            return self._unavailable(action, err)
        self._woken()
        return result

    async def prepare(
        self, action: str, target: Target, origin: Origin, *, retry_location: str | None = None
    ) -> Confirmation | Refused:
        """Rerun or Stop clicked: check everything the action will check (the incident, its state, the operator),
        then say what the confirmation dialog names. Nothing is done yet."""
        located = await self._locate_or_refuse(action, target, origin)
        if isinstance(located, Refused):
            return located
        incident = located
        refusal = await self._operator_refusal(action, incident, origin)
        if refusal is not None:
            return refusal
        fetched = await self._fetch(incident)
        instance = fetched.instance
        refusal = _state_refusal(action, incident, instance if fetched.details_error is None else None)
        if refusal is not None:
            return refusal
        return Confirmation(
            action=action,
            card=incident.root_key,
            channel=incident.channel,
            message_ts=incident.root_ts or origin.message_ts or "",
            job=incident.job_name,
            instance_id=incident.last_instance_id,
            status=instance.status,
            retry_location=retry_location,
            failed_nodes=_failed_nodes(instance),
            rerun=incident.rerun_state is not None,
        )

    async def rerun(self, target: Target, origin: Origin, *, retry_location: str) -> ActionResult:
        """Rerun the incident's latest instance from `retry_location` (an operator's, confirmed). The slot is taken
        before DLF is called; DLF's answer moves it to running, frees it (refused) or marks it unknown (lost)."""
        checked = await self._checked_for_dlf(RERUN, target, origin)
        if not isinstance(checked, _Checked):
            return checked
        incident, client, fetched = checked.incident, checked.client, checked.fetched
        try:
            async with self._store.transaction(lock_wait_s=self._lock_wait_s) as tx:
                claimed = await tx.incidents.claim_rerun(
                    incident.id,
                    by=origin.user,
                    retry_location=retry_location,
                    instance_id=incident.last_instance_id,
                    run_start=fetched.instance.start_time,
                )
                current = claimed or await tx.incidents.get(incident.id)
        except StoreUnavailable as err:
            return self._unavailable(RERUN, err)
        if claimed is None:
            assert current is not None
            return _state_refusal(RERUN, current, None) or AlreadyHandled(
                action=RERUN, reason="rerunning", job=incident.job_name, by=current.rerun_by
            )
        outcome, error = await _call_dlf(
            client.rerun(incident.job_name, incident.last_instance_id, retry_location=retry_location)
        )
        failed = _failed_nodes(fetched.instance)
        if outcome == "ok":
            fetched = await self._fetch(incident)  # the card shows the rerun running
        try:
            async with self._store.transaction(lock_wait_s=self._lock_wait_s) as tx:
                seq = claimed.rerun_seq
                if outcome == "ok":
                    await tx.incidents.set_rerun_state(incident.id, seq=seq, state="running")
                elif outcome == "unknown":
                    await tx.incidents.set_rerun_state(incident.id, seq=seq, state="unknown")
                else:
                    await tx.incidents.end_rerun(incident.id, seq=seq)
                now_incident = await tx.incidents.get(incident.id)
                assert now_incident is not None
                reply = replies.rerun_asked(
                    origin.user,
                    via=origin.via,
                    instance_id=incident.last_instance_id,
                    retry_location=retry_location,
                    failed_nodes=failed,
                    outcome=outcome,
                    dlf_code=error.code if error else None,
                    dlf_message=_dlf_text(error),
                )
                await self._write(tx, now_incident, fetched, reply=reply, event=f"rerun:{seq}", origin=origin)
                await _audit(
                    tx,
                    origin,
                    RERUN,
                    now_incident,
                    outcome=_audit_outcome(outcome),
                    retry_location=retry_location,
                    dlf=_dlf_answer(error),
                )
        except StoreUnavailable as err:
            # DLF has been asked: the slot stays "requested" and the poll cycle finds out what DLF did.
            log.warning(messages.log_command_store_unavailable("rerun", incident.channel, err))
            return self._unavailable(RERUN, err)
        self._woken()
        return _dlf_result(RERUN, incident, outcome, error)

    async def stop(self, target: Target, origin: Origin) -> ActionResult:
        """Stop the incident's instance while it runs (the rerun in flight, typically): one DLF call for any number
        of clicks; stopping the rerun ends its slot, with one reply."""
        checked = await self._checked_for_dlf(STOP, target, origin)
        if not isinstance(checked, _Checked):
            return checked
        incident, client, fetched = checked.incident, checked.client, checked.fetched
        run = fetched.instance.start_time or 0
        key = f"incident:{incident.id}:stop:{incident.last_instance_id}:{run}"
        try:
            async with self._store.transaction(lock_wait_s=self._lock_wait_s) as tx:
                first = await tx.request_keys.claim(key)
        except StoreUnavailable as err:
            return self._unavailable(STOP, err)
        if not first:
            return AlreadyHandled(action=STOP, reason="stopping", job=incident.job_name)
        outcome, error = await _call_dlf(client.stop(incident.job_name, incident.last_instance_id))
        stopped = await self._fetch(incident) if outcome == "ok" else fetched
        try:
            async with self._store.transaction(lock_wait_s=self._lock_wait_s) as tx:
                if outcome in ("refused", "failed"):
                    await tx.request_keys.forget(key)  # nothing stopped: a later click may try again
                current = await tx.incidents.get(incident.id)
                assert current is not None
                rerun = current.rerun_state is not None
                if outcome == "ok" and rerun:
                    await tx.incidents.end_rerun(incident.id, seq=current.rerun_seq)
                    current = await tx.incidents.get(incident.id)
                    assert current is not None
                reply = replies.stopped(
                    origin.user,
                    via=origin.via,
                    instance_id=incident.last_instance_id,
                    rerun=rerun,
                    outcome=outcome,
                    dlf_code=error.code if error else None,
                    dlf_message=_dlf_text(error),
                )
                shown = stopped if outcome == "ok" else fetched
                await self._write(
                    tx,
                    current,
                    shown,
                    reply=reply,
                    event=f"stop:{incident.last_instance_id}:{run}:{outcome}:{tx.now}",
                    origin=origin,
                )
                await _audit(tx, origin, STOP, current, outcome=_audit_outcome(outcome), dlf=_dlf_answer(error))
        except StoreUnavailable as err:
            return self._unavailable(STOP, err)
        self._woken()
        return _dlf_result(STOP, incident, outcome, error)

    async def show(self, target: Target, origin: Origin) -> IncidentShown | Refused:
        """The incident and its latest instance as DLF has it now (`nodes`, `logs` in its thread)."""
        located = await self._locate_or_refuse(REFRESH, target, origin)
        if isinstance(located, Refused):
            return located
        fetched = await self._fetch(located)
        if fetched.details_error is not None:
            return IncidentShown(incident=located, instance=None, error=fetched.details_error)
        return IncidentShown(incident=located, instance=fetched.instance)

    async def refuse_malformed(self, action: str, origin: Origin, value: str) -> Refused:
        """A button whose value is not one the bot writes (forged, or cut): refused and audited."""
        await self._audit_forged(action, origin, value, None)
        return Refused(action=action, reason="forged")

    # ------------------------------------------------------------------------------------------------ the steps
    async def _simple(
        self, action: str, target: Target, origin: Origin, *, duration_s: int | None = None
    ) -> ActionResult:
        """Acknowledge, resolve, refresh, mute, unmute: look up, read DLF for the card, then one transaction."""
        located = await self._locate_or_refuse(action, target, origin)
        if isinstance(located, Refused):
            return located
        fetched = await self._fetch(located)
        try:
            async with self._store.transaction(lock_wait_s=self._lock_wait_s) as tx:
                incident = await tx.incidents.get(located.id)
                assert incident is not None
                result = await self._mutate(tx, action, incident, origin, fetched, duration_s)
        except StoreUnavailable as err:
            return self._unavailable(action, err)
        self._woken()
        return result

    async def _mutate(
        self,
        tx: Transaction,
        action: str,
        incident: Incident,
        origin: Origin,
        fetched: _Fetched,
        duration_s: int | None,
    ) -> ActionResult:
        job = incident.job_name
        if action == REFRESH:
            await self._write(tx, incident, fetched, reply=None, event=f"refresh:{tx.now}:{origin.user}", origin=origin)
            return Done(action=REFRESH, job=job, instance_id=incident.last_instance_id, in_thread=False)
        if action == ACK:
            now, won = await tx.incidents.try_acknowledge(incident.id, by=origin.user)
            if not won:
                reason = "resolved" if now.state == "resolved" else "acknowledged"
                by = now.resolved_by if reason == "resolved" else now.acknowledged_by
                return AlreadyHandled(action=ACK, reason=reason, job=job, by=by)
            await self._write(
                tx, now, fetched, reply=replies.acknowledged(origin.user, via=origin.via), event="ack", origin=origin
            )
            await _audit(tx, origin, ACK, now, outcome="ok")
            return Done(action=ACK, job=job, instance_id=now.last_instance_id)
        if action == RESOLVE:
            now, won = await tx.incidents.try_resolve(
                incident.id, by=origin.user, reason=f"Resolved by hand ({replies.where(origin.via)})."
            )
            if not won:
                await _audit(tx, origin, RESOLVE, now, outcome="refused", reason="resolved")
                return Refused(action=RESOLVE, reason="resolved", job=job, by=now.resolved_by)
            await self._write(
                tx, now, fetched, reply=replies.resolved(origin.user, via=origin.via), event="resolve", origin=origin
            )
            await _audit(tx, origin, RESOLVE, now, outcome="ok")
            return Done(action=RESOLVE, job=job, instance_id=now.last_instance_id)
        if action == MUTE:
            mute, taken = await tx.mutes.try_mute(
                channel=incident.channel,
                profile=incident.profile,
                job_name=job,
                duration_ms=duration_s * 1000 if duration_s is not None else None,
                by=origin.user,
                team=incident.team or origin.team,
            )
            if not taken:
                return _already_muted(mute)
            until = mute.until_at
            # No reminder while muted: due its delay after the mute ends (bot.watcher.escalation).
            await tx.incidents.hold_escalation(incident.id, mute_until=until)
            incident = await tx.incidents.get(incident.id) or incident
            reply = replies.muted(origin.user, via=origin.via, job=job, until_ms=until)
            await self._write(tx, incident, fetched, reply=reply, event=f"mute:{tx.now}:{origin.user}", origin=origin)
            await _audit(tx, origin, MUTE, incident, outcome="ok", until=until)
            return Done(action=MUTE, job=job, instance_id=incident.last_instance_id, until_ms=until)
        # UNMUTE
        ended = await tx.mutes.unmute(channel=incident.channel, profile=incident.profile, job_name=job)
        if ended is None:
            return AlreadyHandled(action=UNMUTE, reason="not_muted", job=job)
        if ended.active_at(tx.now):
            # Lifted early: the reminder of a still unacknowledged incident is due its delay from now.
            await tx.incidents.rearm_escalation(incident.id)
            incident = await tx.incidents.get(incident.id) or incident
        held = ended.suppressed
        reply = replies.unmuted(origin.user, via=origin.via, job=job, held_back=held)
        await self._write(tx, incident, fetched, reply=reply, event=f"unmute:{tx.now}:{origin.user}", origin=origin)
        await _audit(tx, origin, UNMUTE, incident, outcome="ok", held_back=held, was_muted=True)
        return Done(action=UNMUTE, job=job, instance_id=incident.last_instance_id, held_back=held)

    async def _write(
        self,
        tx: Transaction,
        incident: Incident,
        fetched: _Fetched,
        *,
        reply: Message | None,
        event: str,
        origin: Origin,
    ) -> None:
        """The reply (if any) and the card redrawn, queued in `tx` (the card itself first, if it never was)."""
        ref = IncidentRef(
            channel=incident.channel, profile=incident.profile, job_name=incident.job_name, card_key=incident.root_key
        )
        mute = await tx.mutes.get(channel=incident.channel, profile=incident.profile, job_name=incident.job_name)
        view = incident_view(
            incident,
            fetched.instance,
            now_ms=tx.now,
            mute=mute,
            details_error=fetched.details_error,
        )
        mentions = await _channel_mentions(tx, incident)
        name = event.split(":", 1)[0]
        metadata = about(
            profile=incident.profile, job_name=incident.job_name, instance_id=incident.last_instance_id, event=name
        )
        rows = card_first(
            ref, view, card_queued=await tx.outbox.get(incident.root_key) is not None, now_ms=tx.now, mentions=mentions
        )
        if reply is not None:
            rows.append(
                thread_reply(ref, reply, key=bounded_key(f"{name}:{incident.root_key}:{event}"), metadata=metadata)
            )
        rows.append(
            card_update(
                ref,
                view,
                key=bounded_key(f"update:{incident.root_key}:{event}"),
                metadata=metadata,
                now_ms=tx.now,
                mentions=mentions,
            )
        )
        await tx.outbox.enqueue_messages(rows)

    async def _checked_for_dlf(self, action: str, target: Target, origin: Origin) -> _Checked | Refused:
        """What a rerun or a stop checks before DLF is asked: the incident (against where the action came from),
        the operator, the profile's client, and the instance's state as DLF has it now (refusals audited)."""
        located = await self._locate_or_refuse(action, target, origin)
        if isinstance(located, Refused):
            return located
        incident = located
        refusal = await self._operator_refusal(action, incident, origin)
        if refusal is not None:
            return refusal
        client = self._clients.get(incident.profile)
        if client is None:
            return Refused(action=action, reason="no_profile", job=incident.job_name)
        fetched = await self._fetch(incident)
        refusal = _state_refusal(action, incident, fetched.instance if fetched.details_error is None else None)
        if refusal is not None:
            return await self._audited_refusal(refusal, incident, origin)
        return _Checked(incident=incident, client=client, fetched=fetched)

    async def _locate_or_refuse(self, action: str, target: Target, origin: Origin) -> Incident | Refused:
        try:
            async with self._store.transaction(read_only=True, lock_wait_s=self._lock_wait_s) as tx:
                located = await _locate(tx, target, origin)
        except StoreUnavailable as err:
            return self._unavailable(action, err)
        if located.forged_value is not None:
            await self._audit_forged(action, origin, located.forged_value, located.incident)
        if located.refusal is not None:
            return dataclasses.replace(located.refusal, action=action)
        assert located.incident is not None
        return located.incident

    async def _audit_forged(self, action: str, origin: Origin, value: str, incident: Incident | None) -> None:
        try:
            async with self._store.transaction(lock_wait_s=self._lock_wait_s) as tx:
                await tx.audit.record(
                    actor=origin.user,
                    action=action,
                    channel=origin.channel,
                    target=incident.job_name if incident is not None else None,
                    details={"reason": "forged", "via": origin.via, "value": value[:AUDIT_TARGET_MAX]},
                    outcome="refused",
                )
        except StoreUnavailable as err:
            log.warning(messages.log_command_store_unavailable(action, origin.channel or "App Home", err))

    async def _audited_refusal(self, refusal: Refused, incident: Incident, origin: Origin) -> Refused:
        try:
            async with self._store.transaction(lock_wait_s=self._lock_wait_s) as tx:
                await _audit(tx, origin, refusal.action, incident, outcome="refused", reason=refusal.reason)
        except StoreUnavailable as err:
            log.warning(messages.log_command_store_unavailable(refusal.action, incident.channel, err))
        return refusal

    async def _operator_refusal(self, action: str, incident: Incident, origin: Origin) -> Refused | None:
        if action not in OPERATOR_ACTIONS:
            return None
        check = (
            await self._operators.check(user=origin.user, channel=incident.channel)
            if self._operators is not None
            else NOT_CONFIGURED
        )
        if check.allowed:
            return None
        refused = Refused(action=action, reason="operators_only", job=incident.job_name, check=check)
        return await self._audited_refusal(refused, incident, origin)

    async def _fetch(self, incident: Incident) -> _Fetched:
        """The incident's latest instance from DLF, for its card; a placeholder saying why when DLF does not say."""
        client = self._clients.get(incident.profile)
        if client is None:
            return _Fetched(instance=_placeholder(incident), details_error=f"no DLF profile {incident.profile} here")
        try:
            return _Fetched(instance=await client.get_instance(incident.job_name, incident.last_instance_id))
        except DlfError as err:
            return _Fetched(instance=_placeholder(incident), details_error=err.message)

    def _unavailable(self, action: str, err: StoreUnavailable) -> Refused:
        log.warning(messages.log_command_store_unavailable(action, "an incident", err))
        return Refused(action=action, reason="unavailable", dlf_message=err.kind)

    def _woken(self) -> None:
        if self._wake is not None:
            self._wake()


# ---------------------------------------------------------------------------------------------------- helpers
async def _locate(tx: Transaction, target: Target, origin: Origin) -> _Located:
    """The incident the action names, checked against where it came from."""
    card = target.card
    if origin.channel is None:
        # The App Home: no channel, no message. The card key names it; it must be in a channel the user watches.
        if card is None:
            return _Located(None, Refused(action="", reason="unknown_incident"))
        incident = await tx.incidents.by_root_key(card.card)
        if incident is None:
            return _Located(None, Refused(action="", reason="unknown_incident"))
        channels = {sub.channel for sub in await tx.subscriptions.list_created_by(origin.user)}
        if incident.channel not in channels or not await _same_team(tx, incident, origin):
            return _Located(None, Refused(action="", reason="forged"), forged_value=card.card)
        return _Located(incident)
    if target.job is not None:
        incident = await _unresolved_of_job(tx, origin.channel, target.job)
        if incident is None:
            return _Located(None, Refused(action="", reason="no_incident", job=target.job))
        return _Located(incident)
    if origin.message_ts is None:
        return _Located(None, Refused(action="", reason="no_incident"))
    incident = await tx.incidents.by_message(origin.channel, origin.message_ts)
    if incident is None:
        if card is not None and await tx.incidents.by_root_key(card.card) is not None:
            # The value names a real incident, but not the one of the message it is on.
            return _Located(None, Refused(action="", reason="forged"), forged_value=card.card)
        return _Located(None, Refused(action="", reason="unknown_incident" if card else "no_incident"))
    if (card is not None and not names_card(card, incident.root_key)) or not await _same_team(tx, incident, origin):
        return _Located(None, Refused(action="", reason="forged"), forged_value=card.card if card else "")
    return _Located(incident)


async def _profile_for(tx: Transaction, channel: str, job: str) -> str:
    """The DLF profile the channel watches `job` under (its first matching subscription), else the default."""
    for sub in await tx.subscriptions.list_for_channel(channel):
        if sub.instance_id is None and (fnmatch.fnmatchcase(job, sub.target) if sub.is_pattern else sub.target == job):
            return sub.profile
    return DEFAULT_PROFILE


async def _same_team(tx: Transaction, incident: Incident, origin: Origin) -> bool:
    """Whether the action comes from the incident's Slack team: the incident's own, or (an incident opened before
    it recorded one) the team of its channel's subscriptions."""
    team = incident.team
    if team is None:
        teams = {sub.team for sub in await tx.subscriptions.list_for_channel(incident.channel) if sub.team}
        team = next(iter(teams)) if len(teams) == 1 else None
    return team is None or origin.team is None or team == origin.team


async def _unresolved_of_job(tx: Transaction, channel: str, job: str) -> Incident | None:
    found = [i for i in await tx.incidents.in_channels([channel]) if i.job_name == job]
    return found[0] if found else None


async def _mute_without_incident(
    tx: Transaction, action: str, origin: Origin, *, channel: str, profile: str, job: str, duration_s: int | None
) -> ActionResult:
    details: dict[str, Any] = {"via": origin.via, "profile": profile}
    if action == MUTE:
        mute, taken = await tx.mutes.try_mute(
            channel=channel,
            profile=profile,
            job_name=job,
            duration_ms=duration_s * 1000 if duration_s is not None else None,
            by=origin.user,
            team=origin.team,
        )
        if not taken:
            return _already_muted(mute)
        until = mute.until_at
        await tx.audit.record(
            actor=origin.user,
            action=MUTE,
            channel=channel,
            target=job,
            details={**details, "until": until},
            outcome="ok",
        )
        return Done(action=MUTE, job=job, until_ms=until, in_thread=False)
    ended = await tx.mutes.unmute(channel=channel, profile=profile, job_name=job)
    if ended is None:
        return AlreadyHandled(action=UNMUTE, reason="not_muted", job=job)
    held = ended.suppressed
    await tx.audit.record(
        actor=origin.user,
        action=UNMUTE,
        channel=channel,
        target=job,
        details={**details, "held_back": held, "was_muted": True},
        outcome="ok",
    )
    return Done(action=UNMUTE, job=job, held_back=held, in_thread=False)


def _already_muted(mute: Mute) -> AlreadyHandled:
    """The same mute choice is in force already (a double click, the same click on another replica)."""
    return AlreadyHandled(action=MUTE, reason="muted", job=mute.job_name, by=mute.created_by, until_ms=mute.until_at)


def _dlf_result(action: str, incident: Incident, outcome: str, error: DlfError | None) -> ActionResult:
    """What a rerun or a stop tells the person once DLF answered (and the thread was told): done (or unknown), or
    DLF's refusal / failure in its own words."""
    if outcome in ("refused", "failed"):
        return Refused(
            action=action,
            reason="dlf_refused" if outcome == "refused" else "dlf_failed",
            job=incident.job_name,
            instance_id=incident.last_instance_id,
            dlf_code=error.code if error else None,
            dlf_message=_dlf_text(error),
            told_thread=True,
        )
    return Done(action=action, job=incident.job_name, instance_id=incident.last_instance_id, outcome=outcome)


def _state_refusal(action: str, incident: Incident, instance: Instance | None) -> Refused | None:
    """Why the incident as it stands refuses `action` (rerun, stop); `instance` None when DLF's status is unknown."""
    job = incident.job_name
    if incident.state == "resolved":
        return Refused(action=action, reason="resolved", job=job, by=incident.resolved_by)
    if action == RERUN:
        if incident.rerun_state is not None:
            return Refused(action=action, reason="rerun_in_flight", job=job, by=incident.rerun_by)
        if instance is not None and instance.status not in RERUNNABLE:
            return Refused(
                action=action,
                reason="not_rerunnable",
                job=job,
                instance_id=instance.instance_id,
                status=instance.status,
            )
    if action == STOP and instance is not None and instance.status != "running":
        return Refused(
            action=action, reason="not_running", job=job, instance_id=instance.instance_id, status=instance.status
        )
    return None


async def _call_dlf(call: Any) -> tuple[str, DlfError | None]:
    """Await DLF's rerun/stop: "ok", "refused" (DLF said no), "unknown" (sent, answer lost), "failed" (not sent)."""
    try:
        await call
    except DlfActionRefused as err:
        return "refused", err
    except DlfOutcomeUnknown as err:
        return "unknown", err
    except DlfError as err:
        return "failed", err
    return "ok", None


def _audit_outcome(outcome: str) -> str:
    return {"ok": "ok", "unknown": "unknown", "refused": "refused"}.get(outcome, "failed")


def _dlf_text(error: DlfError | None) -> str | None:
    if error is None:
        return None
    return error.dlf_message or error.message


def _dlf_answer(error: DlfError | None) -> dict[str, Any] | None:
    if error is None:
        return {"answer": "accepted"}
    return {"code": error.code, "message": (_dlf_text(error) or "")[:500], "kind": type(error).__name__}


async def _audit(
    tx: Transaction,
    origin: Origin,
    action: str,
    incident: Incident,
    *,
    outcome: str,
    dlf: dict[str, Any] | None = None,
    **details: Any,
) -> None:
    """One audit row: who, what, where, which job; the instance, the way in and DLF's answer in its details."""
    entry: dict[str, Any] = {
        "via": origin.via,
        "incident": incident.id,
        "instance_id": incident.last_instance_id,
        "profile": incident.profile,
        **details,
    }
    if dlf is not None:
        entry["dlf"] = dlf
    await tx.audit.record(
        actor=origin.user,
        action=action,
        channel=incident.channel,
        target=incident.job_name,
        details=entry,
        outcome=outcome,
    )


async def _channel_mentions(tx: Transaction, incident: Incident) -> tuple[str, ...]:
    """Whom the channel's subscriptions matching the job ask to look (the card's cc line)."""
    found: list[str] = []
    for sub in await tx.subscriptions.list_for_channel(incident.channel):
        if sub.profile != incident.profile or sub.mention is None or sub.instance_id is not None:
            continue
        matches = (
            fnmatch.fnmatchcase(incident.job_name, sub.target) if sub.is_pattern else sub.target == incident.job_name
        )
        if matches:
            found.append(sub.mention)
    return tuple(dict.fromkeys(found))


def _failed_nodes(instance: Instance) -> tuple[str, ...]:
    return tuple(node.node_name for node in instance.nodes if node.status == "fail")


def _placeholder(incident: Incident) -> Instance:
    return Instance(job_name=incident.job_name, instance_id=incident.last_instance_id, status="fail")


__all__ = [
    "ACK",
    "MUTE",
    "REFRESH",
    "RERUN",
    "RESOLVE",
    "STOP",
    "UNMUTE",
    "ActionResult",
    "AlreadyHandled",
    "Confirmation",
    "Done",
    "IncidentDlf",
    "IncidentService",
    "IncidentShown",
    "Origin",
    "Refused",
    "Target",
]
