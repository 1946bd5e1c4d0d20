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
piece incident actions use too; this module only says which of them each intent is. Messages are rendered when the
row is written, so delivery needs nothing but the row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.dlf.models import Instance
from bot.incidents.outbox import (
    IncidentRef,
    OutboxMessage,
    about,
    card_post,
    card_update,
    payload,
    thread_reply,
)
from bot.render import alert as alert_render
from bot.render.incident_card import IncidentView
from bot.watcher.inputs import InstanceKey
from bot.watcher.intents import Alert, Digest, FollowOutcome, Intent, Recovery, RepeatFailure


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


def _alert_row(alert: Alert, *, now_ms: int) -> OutboxMessage:
    incident = IncidentRef(
        channel=alert.channel, profile=alert.profile, job_name=alert.instance.job_name, card_key=alert.key
    )
    view = IncidentView(
        instance=alert.instance,
        event=alert.event,
        details_error=alert.details_error,
        error_message=alert.error_message,
    )
    return card_post(incident, view, now_ms=now_ms, mentions=alert.mentions, in_thread_of=alert.digest_key)


def _repeat_rows(intent: RepeatFailure, *, now_ms: int) -> tuple[OutboxMessage, OutboxMessage]:
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
    view = IncidentView(
        instance=instance,
        state=intent.state,
        acknowledged_by=intent.acknowledged_by,
        failure_count=intent.failure_count,
        event=intent.event,
        details_error=intent.details_error,
        error_message=intent.error_message,
    )
    return (
        thread_reply(incident, reply, key=intent.key, metadata=metadata),
        card_update(incident, view, key=intent.update_key, metadata=metadata, now_ms=now_ms, mentions=intent.mentions),
    )


def _recovery_rows(
    intent: Recovery, *, now_ms: int, cards: Mapping[InstanceKey, Instance]
) -> tuple[OutboxMessage, OutboxMessage]:
    """ "Resolved" in the thread, and the card redrawn as resolved (from the failed instance's details if fetched)."""
    job = intent.recovered_by.job_name
    failed = cards.get((job, intent.failed_instance_id)) or Instance(
        job_name=job, instance_id=intent.failed_instance_id, status="fail"
    )
    incident = IncidentRef(channel=intent.channel, profile=intent.profile, job_name=job, card_key=intent.root_key)
    metadata = about(profile=intent.profile, job_name=job, instance_id=failed.instance_id, event="resolved")
    reply = alert_render.render_recovery(
        intent.recovered_by,
        failed_instance_id=intent.failed_instance_id,
        reason=intent.reason,
        profile=intent.profile,
        now_ms=now_ms,
    )
    view = IncidentView(
        instance=failed,
        state="resolved",
        acknowledged_by=intent.acknowledged_by,
        failure_count=intent.failure_count,
        resolved_by=intent.recovered_by,
        resolution=intent.reason,
    )
    return (
        thread_reply(incident, reply, key=intent.key, metadata=metadata),
        card_update(incident, view, key=intent.update_key, metadata=metadata, now_ms=now_ms),
    )


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


__all__ = ["OutboxMessage", "compose", "compose_digest_card"]
