"""An incident's messages as outbox rows: its card (posted, then redrawn in place) and the replies in its thread.

Pure: it renders the messages now (delivery needs nothing but the row) and returns rows to enqueue; the caller writes
them in the transaction that changes the incident. Every redraw of a card goes through `render_incident_card`, so
the card always shows where the incident stands. Both the replies and the updates wait for the card's row (their
`parent_key` is the card's outbox key): the deliverer sends the card first and uses its ts.

    card_post     "alert" (top level), or "thread_reply" under a digest during a storm: the incident's card
    card_first    the card_post row, when a mute held the card back and something must now reply under it
    thread_reply  "thread_reply" in the card's thread
    card_update   "update": chat.update of the card, redrawn from an IncidentView

Each row's metadata names the profile, job, instance and event, so a person (or the crash-recovery lookup) can tell
what a message was about, and `/dlf unwatch` can cancel what is still queued about a job.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.render.incident_card import IncidentView, render_incident_card
from bot.render.message import Message


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


@dataclass(frozen=True, kw_only=True)
class IncidentRef:
    """Which incident a message belongs to: its channel, profile and job, and its card's outbox key."""

    channel: str
    profile: str
    job_name: str
    card_key: str


def payload(message: Message, **metadata: Any) -> dict[str, Any]:
    """A row's payload: the rendered message plus what it is about (None values left out)."""
    return {**message.to_dict(), "metadata": {k: v for k, v in metadata.items() if v is not None}}


def about(*, profile: str, job_name: str, instance_id: int, event: str) -> dict[str, Any]:
    """What a message is about, in its metadata: `event` is failure | running-exception | failed_again | resolved |
    follow_outcome | an incident action's name (a digest says `digest` and how many failures it gathers)."""
    return {"profile": profile, "job": job_name, "instance_id": instance_id, "event": event}


def card_post(
    incident: IncidentRef,
    view: IncidentView,
    *,
    now_ms: int,
    mentions: Sequence[str] = (),
    in_thread_of: str | None = None,
) -> OutboxMessage:
    """The incident's card, first posted: at the top of the channel, or in a digest's thread (`in_thread_of`),
    with the incident's buttons (named by its card key)."""
    if view.card_key is None:
        view = dataclasses.replace(view, card_key=incident.card_key)
    card = render_incident_card(view, now_ms=now_ms, profile=incident.profile, mentions=mentions)
    metadata = about(
        profile=incident.profile, job_name=incident.job_name, instance_id=view.instance.instance_id, event=view.event
    )
    return OutboxMessage(
        key=incident.card_key,
        channel=incident.channel,
        kind="thread_reply" if in_thread_of else "alert",
        payload=payload(card, **metadata),
        parent_key=in_thread_of,
        profile=incident.profile,
        job_name=incident.job_name,
    )


def card_first(
    incident: IncidentRef,
    view: IncidentView,
    *,
    card_queued: bool,
    now_ms: int,
    mentions: Sequence[str] = (),
) -> list[OutboxMessage]:
    """The incident's card row to enqueue before a reply in its thread or a redraw of it, when the card is not in
    the outbox (`card_queued` False: a mute held it back); [] when it is. A reply whose card row never existed would
    otherwise go to the top of the channel, and an update would have nothing to edit.

    `view` is the card as the incident stands now (its count, its state); the caller enqueues these rows first, in
    the same transaction as the reply."""
    if card_queued:
        return []
    return [card_post(incident, view, now_ms=now_ms, mentions=mentions)]


def thread_reply(incident: IncidentRef, message: Message, *, key: str, metadata: dict[str, Any]) -> OutboxMessage:
    """`message` in the incident card's thread (waits for the card's row)."""
    return OutboxMessage(
        key=key,
        channel=incident.channel,
        kind="thread_reply",
        payload=payload(message, **metadata),
        parent_key=incident.card_key,
        profile=incident.profile,
        job_name=incident.job_name,
    )


def card_update(
    incident: IncidentRef,
    view: IncidentView,
    *,
    key: str,
    metadata: dict[str, Any],
    now_ms: int,
    mentions: Sequence[str] = (),
) -> OutboxMessage:
    """The incident's card redrawn in place from `view` (chat.update of the card's message; waits for its row),
    with the incident's buttons (named by its card key) whoever redraws it."""
    if view.card_key is None:
        view = dataclasses.replace(view, card_key=incident.card_key)
    card = render_incident_card(view, now_ms=now_ms, profile=incident.profile, mentions=mentions)
    return OutboxMessage(
        key=key,
        channel=incident.channel,
        kind="update",
        payload=payload(card, **metadata),
        parent_key=incident.card_key,
        profile=incident.profile,
        job_name=incident.job_name,
    )


__all__ = ["IncidentRef", "OutboxMessage", "about", "card_first", "card_post", "card_update", "payload", "thread_reply"]
