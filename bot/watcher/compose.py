"""Intents -> outbox rows: which Slack call each intent becomes, what it says (rendered now), and in whose thread.

| intent          | rows                                                                                 |
|-----------------|--------------------------------------------------------------------------------------|
| Alert           | "alert" (top level) — or "thread_reply" under its digest during a storm              |
|                 | (the card is built from the list row when DLF would not give the instance's details)  |
| Digest          | "digest" (top level), then its alerts as "thread_reply" rows with parent = digest     |
| RepeatFailure   | "thread_reply" in the incident card's thread + "update" of the card (counter)        |
| Recovery        | "thread_reply" in the incident card's thread + "update" of the card (resolved)       |
| FollowOutcome   | "follow_outcome" (top level)                                                         |

Messages are rendered when the row is written, so delivery needs nothing but the row; each row's metadata names the
job and instance so a person (or the crash-recovery lookup) can tell what a message was about, and each row names its
profile and job (a digest: its profile only) so `/dlf unwatch` can cancel what is still queued about a job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.dlf.models import Instance
from bot.render import alert as alert_render
from bot.render.message import Message
from bot.watcher.decide import (
    Alert,
    Digest,
    FollowOutcome,
    InstanceKey,
    Intent,
    Recovery,
    RepeatFailure,
)


@dataclass(frozen=True, kw_only=True)
class OutboxMessage:
    """One outbox row to enqueue."""

    key: str
    channel: str
    kind: str
    payload: dict[str, Any]
    parent_key: str | None = None
    profile: str | None = None
    job_name: str | None = None  # None for a digest (it is about many jobs)


def _payload(message: Message, **metadata: Any) -> dict[str, Any]:
    return {**message.to_dict(), "metadata": {k: v for k, v in metadata.items() if v is not None}}


def _about(instance: Instance, profile: str, event: str) -> dict[str, Any]:
    """What a message is about, in its metadata: `event` is failure | running-exception | failed_again | resolved |
    follow_outcome (a digest says `digest` and how many failures it gathers)."""
    return {"profile": profile, "job": instance.job_name, "instance_id": instance.instance_id, "event": event}


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
                about = _about(intent.instance, intent.profile, "failed_again")
                reply = alert_render.render_repeat_failure(
                    intent.instance, failure_count=intent.failure_count, profile=intent.profile, now_ms=now_ms
                )
                card = _card(
                    intent.instance,
                    details_error=intent.details_error,
                    error_message=intent.error_message,
                    profile=intent.profile,
                    mentions=intent.mentions,
                    event=intent.event,
                    failure_count=intent.failure_count,
                    now_ms=now_ms,
                )
                rows.extend(_reply_and_update(intent, reply=reply, card=card, about=about, job=intent.instance.job_name))
            case Recovery():
                job = intent.recovered_by.job_name
                failed = cards.get((job, intent.failed_instance_id)) or Instance(
                    job_name=job, instance_id=intent.failed_instance_id, status="fail"
                )
                about = _about(failed, intent.profile, "resolved")
                reply = alert_render.render_recovery(
                    intent.recovered_by, failed_instance_id=intent.failed_instance_id, reason=intent.reason,
                    profile=intent.profile, now_ms=now_ms,
                )
                card = alert_render.render_alert(
                    failed,
                    profile=intent.profile,
                    failure_count=intent.failure_count,
                    resolved_by=intent.recovered_by,
                    now_ms=now_ms,
                )
                rows.extend(_reply_and_update(intent, reply=reply, card=card, about=about, job=job))
            case FollowOutcome():
                message = alert_render.render_follow_outcome(
                    intent.instance, profile=intent.profile, mentions=intent.mentions, now_ms=now_ms
                )
                about = _about(intent.instance, intent.profile, "follow_outcome")
                rows.append(
                    OutboxMessage(key=intent.key, channel=intent.channel, kind="follow_outcome",
                                  payload=_payload(message, **about), profile=intent.profile,
                                  job_name=intent.instance.job_name)
                )
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
        payload=_payload(message, profile=intent.profile, event="digest", failures=len(intent.alerts)),
        profile=intent.profile,
    )


def _reply_and_update(
    intent: RepeatFailure | Recovery, *, reply: Message, card: Message, about: dict[str, Any], job: str
) -> tuple[OutboxMessage, OutboxMessage]:
    """A reply in the incident's thread and the in-place update of its card: both wait for the card's row."""
    return (
        OutboxMessage(key=intent.key, channel=intent.channel, kind="thread_reply",
                      payload=_payload(reply, **about), parent_key=intent.root_key, profile=intent.profile,
                      job_name=job),
        OutboxMessage(key=intent.update_key, channel=intent.channel, kind="update",
                      payload=_payload(card, **about), parent_key=intent.root_key, profile=intent.profile,
                      job_name=job),
    )


def _card(
    instance: Instance,
    *,
    details_error: str | None,
    error_message: str | None,
    profile: str,
    mentions: Sequence[str],
    event: str,
    now_ms: int,
    failure_count: int = 1,
) -> Message:
    """The alert card: the full one, or the one built from the list row when DLF would not give the details."""
    if details_error is not None:
        return alert_render.render_summary_alert(
            instance,
            details_error=details_error,
            error_message=error_message,
            profile=profile,
            mentions=mentions,
            event=event,
            failure_count=failure_count,
            now_ms=now_ms,
        )
    return alert_render.render_alert(
        instance, profile=profile, mentions=mentions, event=event, failure_count=failure_count, now_ms=now_ms
    )


def _alert_row(alert: Alert, *, now_ms: int) -> OutboxMessage:
    message = _card(
        alert.instance,
        details_error=alert.details_error,
        error_message=alert.error_message,
        profile=alert.profile,
        mentions=alert.mentions,
        event=alert.event,
        now_ms=now_ms,
    )
    return OutboxMessage(
        key=alert.key,
        channel=alert.channel,
        kind="thread_reply" if alert.digest_key else "alert",
        payload=_payload(message, **_about(alert.instance, alert.profile, alert.event)),
        parent_key=alert.digest_key,
        profile=alert.profile,
        job_name=alert.instance.job_name,
    )


__all__ = ["OutboxMessage", "compose", "compose_digest_card"]
