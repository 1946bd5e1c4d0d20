"""Intents -> outbox rows: which Slack call each intent becomes, what it says (rendered now), and in whose thread.

| intent          | rows                                                                                 |
|-----------------|--------------------------------------------------------------------------------------|
| Alert           | "alert" (top level) — or "thread_reply" under its digest during a storm              |
|                 | (the card is built from the list row when DLF would not give the instance's details)  |
| Digest          | "digest" (top level), then its alerts as "thread_reply" rows with parent = digest     |
| RepeatFailure   | "thread_reply" in the incident card's thread + "update" of the card (counter, state) |
| Recovery        | "thread_reply" in the incident card's thread + "update" of the card (resolved)       |
| FollowOutcome   | "follow_outcome" (top level)                                                         |

An incident's rows (its card, its thread replies, the redraws of its card) are built by `bot.incidents.outbox`, the
piece incident actions use too; this module only says which of them each intent is. Every redraw of a stored
incident's card is built by `bot.incidents.view.incident_view` from the incident's record (the intent carries it),
so a repeat failure keeps "acknowledged" (who, when) and a recovery shows the time to recover. A repeat or a
recovery of an incident whose card a mute held back posts the card first (`card_first`). Messages are rendered when
the row is written, so delivery needs nothing but the row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from bot.dlf.models import Instance
from bot.incidents.outbox import (
    IncidentRef,
    OutboxMessage,
    about,
    card_first,
    card_post,
    card_update,
    payload,
    thread_reply,
)
from bot.incidents.view import incident_view
from bot.render import alert as alert_render
from bot.render import rerun_replies
from bot.render.incident_card import STATE_RESOLVED, IncidentView
from bot.watcher.inputs import InstanceKey
from bot.watcher.intents import Alert, Digest, FollowOutcome, Intent, Recovery, RepeatFailure
from bot.watcher.keys import held_back_key


def compose(
    intents: Sequence[Intent], *, now_ms: int, cards: Mapping[InstanceKey, Instance] | None = None
) -> list[OutboxMessage]:
    """The outbox rows for `intents`, parents before the replies that need them.

    `cards`: details of the failed instances whose incidents recover, to redraw their cards as resolved (a
    missing one is redrawn from what the recovery knows).
    """
    cards = cards or {}
    rows: list[OutboxMessage] = []
    for intent in intents:
        match intent:
            case Alert():
                rows.append(_alert_row(intent, now_ms=now_ms))
            case Digest():
                rows.append(compose_digest_card(intent, now_ms=now_ms))
                rows.extend(_alert_row(alert, now_ms=now_ms) for alert in intent.alerts)
            case RepeatFailure():
                rows.extend(_repeat_rows(intent, now_ms=now_ms))
            case Recovery():
                rows.extend(_recovery_rows(intent, now_ms=now_ms, cards=cards))
            case FollowOutcome():
                rows.append(_follow_row(intent, now_ms=now_ms))
    return rows


def compose_digest_card(intent: Digest, *, now_ms: int) -> OutboxMessage:
    """The digest's own row (the card its alerts reply under), without the alerts: those can be written later."""
    message = alert_render.render_digest(
        [a.instance for a in intent.alerts], profile=intent.profile, mentions=intent.mentions, now_ms=now_ms
    )
    return OutboxMessage(
        key=intent.key,
        channel=intent.channel,
        kind="digest",
        payload=payload(message, profile=intent.profile, event="digest", failures=len(intent.alerts)),
        profile=intent.profile,
    )


def alert_view(alert: Alert, *, now_ms: int) -> IncidentView:
    """The first card of the incident `alert` opens (in the same transaction): it names the incident by its own
    outbox key (`card_key`), which its buttons carry."""
    return IncidentView(
        instance=alert.instance,
        event=alert.event,
        details_error=alert.details_error,
        error_message=alert.error_message,
        card_key=alert.key,
        opened_at=now_ms,
    )


def _alert_row(alert: Alert, *, now_ms: int) -> OutboxMessage:
    incident = IncidentRef(
        channel=alert.channel, profile=alert.profile, job_name=alert.instance.job_name, card_key=alert.key
    )
    view = alert_view(alert, now_ms=now_ms)
    return card_post(incident, view, now_ms=now_ms, mentions=alert.mentions, in_thread_of=alert.digest_key)


def _repeat_view(intent: RepeatFailure, *, now_ms: int) -> IncidentView:
    """The card after a repeat failure: the stored incident as it stands, with the new count and latest instance."""
    if intent.incident is None:
        return IncidentView(
            instance=intent.instance,
            state=intent.state,
            acknowledged_by=intent.acknowledged_by,
            failure_count=intent.failure_count,
            event=intent.event,
            details_error=intent.details_error,
            error_message=intent.error_message,
            card_key=intent.root_key,
        )
    view = incident_view(
        intent.incident,
        intent.instance,
        now_ms=now_ms,
        event=intent.event,
        details_error=intent.details_error,
        error_message=intent.error_message,
    )
    return replace(view, failure_count=intent.failure_count)


def _repeat_rows(intent: RepeatFailure, *, now_ms: int) -> list[OutboxMessage]:
    """ "Failed again" in the thread, and the card redrawn with the count — and the state the incident is in."""
    instance = intent.instance
    incident = IncidentRef(
        channel=intent.channel, profile=intent.profile, job_name=instance.job_name, card_key=intent.root_key
    )
    metadata = about(
        profile=intent.profile, job_name=instance.job_name, instance_id=instance.instance_id, event="failed_again"
    )
    reply = alert_render.render_repeat_failure(
        instance, failure_count=intent.failure_count, profile=intent.profile, now_ms=now_ms
    )
    view = _repeat_view(intent, now_ms=now_ms)
    return [
        *_held_card(incident, view, card_queued=intent.card_queued, now_ms=now_ms, mentions=intent.mentions),
        thread_reply(incident, reply, key=intent.key, metadata=metadata),
        card_update(incident, view, key=intent.update_key, metadata=metadata, now_ms=now_ms, mentions=intent.mentions),
    ]


def _recovery_rows(intent: Recovery, *, now_ms: int, cards: Mapping[InstanceKey, Instance]) -> list[OutboxMessage]:
    """ "Resolved" in the thread, and the card redrawn as resolved (from the failed instance's details if fetched)."""
    job = intent.recovered_by.job_name
    failed = cards.get((job, intent.failed_instance_id)) or Instance(
        job_name=job, instance_id=intent.failed_instance_id, status="fail"
    )
    incident = IncidentRef(channel=intent.channel, profile=intent.profile, job_name=job, card_key=intent.root_key)
    metadata = about(profile=intent.profile, job_name=job, instance_id=failed.instance_id, event="resolved")
    stored = intent.incident
    reply = alert_render.render_recovery(
        intent.recovered_by,
        failed_instance_id=intent.failed_instance_id,
        reason=intent.reason,
        profile=intent.profile,
        now_ms=now_ms,
        opened_at=stored.opened_at if stored is not None else None,
        failure_count=intent.failure_count,
    )
    if stored is None:
        open_view = IncidentView(
            instance=failed,
            acknowledged_by=intent.acknowledged_by,
            state="acknowledged" if intent.acknowledged_by else "open",
            failure_count=intent.failure_count,
            card_key=intent.root_key,
        )
    else:
        open_view = replace(incident_view(stored, failed, now_ms=now_ms), failure_count=intent.failure_count)
    # The incident as the same transaction resolves it (`Incidents.try_resolve`): resolved now, by that success.
    view = replace(
        open_view,
        state=STATE_RESOLVED,
        resolved_by=intent.recovered_by,
        resolution=intent.reason,
        resolved_at=now_ms,
        rerun=None,
        muted=False,
        muted_until=None,
    )
    return [
        *_held_card(incident, open_view, card_queued=intent.card_queued, now_ms=now_ms),
        thread_reply(incident, reply, key=intent.key, metadata=metadata),
        card_update(incident, view, key=intent.update_key, metadata=metadata, now_ms=now_ms),
    ]


def _held_card(
    incident: IncidentRef, view: IncidentView, *, card_queued: bool, now_ms: int, mentions: Sequence[str] = ()
) -> list[OutboxMessage]:
    """A card a mute held back, posted now (`card_first`), with a note in its thread saying it was held back."""
    rows = card_first(incident, view, card_queued=card_queued, now_ms=now_ms, mentions=mentions)
    if rows:
        note = rerun_replies.render_held_back(job_name=incident.job_name, failure_count=view.failure_count)
        metadata = about(
            profile=incident.profile,
            job_name=incident.job_name,
            instance_id=view.instance.instance_id,
            event="held_back",
        )
        rows.append(thread_reply(incident, note, key=held_back_key(root_key=incident.card_key), metadata=metadata))
    return rows


def _follow_row(intent: FollowOutcome, *, now_ms: int) -> OutboxMessage:
    message = alert_render.render_follow_outcome(
        intent.instance, profile=intent.profile, mentions=intent.mentions, now_ms=now_ms
    )
    metadata = about(
        profile=intent.profile,
        job_name=intent.instance.job_name,
        instance_id=intent.instance.instance_id,
        event="follow_outcome",
    )
    return OutboxMessage(
        key=intent.key,
        channel=intent.channel,
        kind="follow_outcome",
        payload=payload(message, **metadata),
        profile=intent.profile,
        job_name=intent.instance.job_name,
    )


__all__ = ["OutboxMessage", "alert_view", "compose", "compose_digest_card"]
