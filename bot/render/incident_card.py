"""The incident card: the alert card of one failure streak, drawn from one view model at every change of the incident.

The first alert, a repeat failure (the counter), an acknowledgement and the resolution all redraw the same card from
an `IncidentView`, so the card always says where the incident stands: open, acknowledged (by whom) or resolved (how).

Layout: header and timing fields of the latest failed instance · the headline (what happened, how many failures in a
row, the state, who is asked to look) · the failed nodes (or, when DLF would not give the details, what the instance
list said and why the nodes are missing) · context · Refresh.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.dlf.models import Instance, InstanceSummary
from bot.render.blocks import Block, section
from bot.render.incident_actions import RERUN_LABELS, incident_buttons
from bot.render.instance_card import fallback_text, instance_buttons, instance_context, instance_head, instance_nodes
from bot.render.message import Message
from bot.render.mrkdwn import code, date_token, escape_truncated, mention, valid_mentions
from bot.render.rerun_replies import minutes_text

MAX_MENTIONS = 10
_BY_HAND = re.compile(r"^\s*resolved by hand\s*", re.IGNORECASE)
DETAILS_ERROR_LIMIT = 300
ERROR_MESSAGE_LIMIT = 1500
STATE_OPEN = "open"
STATE_ACKNOWLEDGED = "acknowledged"
STATE_RESOLVED = "resolved"
_EVENT_LINES = {
    "failure": ":rotating_light: *Failure alert*",
    "running-exception": ":warning: *Running with an exception*",
}
_STATE_LINES = {
    STATE_OPEN: "Open",
    STATE_ACKNOWLEDGED: ":eyes: Acknowledged",
    STATE_RESOLVED: ":white_check_mark: Resolved",
}


@dataclass(frozen=True, kw_only=True)
class RerunView:
    """The rerun in flight: who asked, from where ("error_node" | "first_node"), its state ("requested" | "running" |
    "unknown": DLF's answer was lost) and the progress last seen ("3/7" nodes done, None before the first look)."""

    by: str
    retry_location: str
    state: str
    progress: str | None = None


@dataclass(frozen=True, kw_only=True)
class IncidentView:
    """Where an incident stands, as its card shows it.

    `instance` is the latest failed instance (its nodes on the card; built from the list row when DLF would not give
    its details, then `details_error` says why). `resolved_by` is the success that resolved the incident (its rerun,
    or a later instance); `resolution` says how, when a person resolved it.
    """

    instance: Instance
    state: str = STATE_OPEN  # "open" | "acknowledged" | "resolved"
    acknowledged_by: str | None = None  # a Slack user id (or mention token)
    failure_count: int = 1
    event: str = "failure"  # "failure" | "running-exception": what the first line says
    resolved_by: Instance | InstanceSummary | None = None
    resolution: str | None = None
    details_error: str | None = None
    error_message: str | None = None  # DLF's errorMessage from the list row (shown with details_error)
    # The stored incident, for the card's actions and timings (None: a preview, drawn without actions).
    incident_id: int | None = None
    card_key: str | None = None  # the card's outbox key: its buttons name the incident by it (None: no buttons)
    opened_at: int | None = None  # ms
    acknowledged_at: int | None = None  # ms: "acknowledged after 4 min"
    resolved_at: int | None = None  # ms: "recovered after 42 min"
    resolver: str | None = None  # the Slack user who resolved it by hand
    recovered_by_rerun_of: str | None = None  # who asked for the rerun whose success resolved it
    rerun: RerunView | None = None  # the rerun in flight
    muted_until: int | None = None  # ms; set with `muted`
    muted: bool = False  # the job is muted in this channel (until `muted_until`, or until unmuted when None)

    @property
    def shown_state(self) -> str:
        """A success on the card means resolved, whatever was stored before it."""
        return STATE_RESOLVED if self.resolved_by is not None else self.state


def render_incident_card(
    view: IncidentView, *, now_ms: int, profile: str | None = None, mentions: Sequence[str] = ()
) -> Message:
    """The alert card of the incident `view` describes (see the module docstring)."""
    instance = view.instance
    if view.details_error is not None:
        middle = _missing_details(view.details_error, view.error_message)
    else:
        middle = instance_nodes(instance, now_ms=now_ms)
    title, timing = instance_head(instance, now_ms=now_ms)
    blocks = [title, _headline(view, mentions), timing, *middle, instance_context(now_ms=now_ms, profile=profile)]
    if view.card_key is not None:
        blocks.extend(
            incident_buttons(
                card_key=view.card_key,
                state=view.shown_state,
                rerunning=view.rerun is not None,
                running=instance.status == "running",
                muted=view.muted,
            )
        )
    else:
        blocks.extend(instance_buttons(instance, profile=profile, shareable=False))
    if view.shown_state == STATE_RESOLVED:
        text = "Resolved: " + fallback_text(instance)
    else:
        text = fallback_text(instance, prefix=ping_prefix(mentions))
    return Message(text=text, blocks=blocks)


def _headline(view: IncidentView, mentions: Sequence[str]) -> Block:
    """What happened and where the incident stands, with who is asked to look."""
    parts = [_EVENT_LINES.get(view.event, f":rotating_light: *Alert* ({code(view.event, 40)})")]
    if view.failure_count > 1:
        parts.append(f"failed {view.failure_count:,} times in a row (latest instance shown)")
    parts.append(_state_line(view))
    lines = [" · ".join(parts)]
    resolution = _resolution_line(view)
    if resolution:
        lines.append(resolution)
    lines.extend(_status_lines(view))
    who = mention_text(mentions)
    if who and view.shown_state != STATE_RESOLVED:
        lines.append(f"cc {who}")
    return section("\n".join(lines))


def _state_line(view: IncidentView) -> str:
    state = view.shown_state
    line = _STATE_LINES.get(state, code(state, 40))
    if state == STATE_ACKNOWLEDGED and view.acknowledged_by:
        line += f" by {_person(view.acknowledged_by)}"
    return line


def _resolution_line(view: IncidentView) -> str | None:
    """How the incident was resolved: the rerun, a later instance, or what the person who resolved it said."""
    success = view.resolved_by
    asked = f", asked for by {_person(view.recovered_by_rerun_of)}" if view.recovered_by_rerun_of else ""
    if success is not None:
        if success.instance_id == view.instance.instance_id:
            return f"The rerun of instance {success.instance_id} succeeded{ended(success)}{asked}."
        return f"A later instance, {success.instance_id}, succeeded{ended(success)}."
    if view.state != STATE_RESOLVED:
        return None
    if view.recovered_by_rerun_of:
        return f"Recovered by {_person(view.recovered_by_rerun_of)}'s rerun."
    how = escape_truncated(view.resolution, DETAILS_ERROR_LIMIT) if view.resolution else None
    if view.resolver:
        # The stored reason says where ("Resolved by hand (from the card)."): said once, with who.
        where = _BY_HAND.sub("", view.resolution or "").strip().rstrip(".")
        return f"Resolved by hand by {_person(view.resolver)}" + (f" {escape_truncated(where, 80)}." if where else ".")
    return how


def _status_lines(view: IncidentView) -> list[str]:
    """The rerun in flight (who, from where, progress), the mute, and the timings (to acknowledge, to recover)."""
    lines: list[str] = []
    rerun = view.rerun
    if rerun is not None and view.shown_state != STATE_RESOLVED:
        where = RERUN_LABELS.get(rerun.retry_location, code(rerun.retry_location, 20))
        line = f":arrows_counterclockwise: Rerunning {where}, asked by {_person(rerun.by)}"
        if rerun.state == "requested":
            line += " · waiting for DLF's answer"
        elif rerun.state == "unknown":
            line += " · DLF's answer was lost, the bot is checking the instance"
        if rerun.progress:
            done, _, total = rerun.progress.partition("/")
            total = total.split(" ", 1)[0]  # "3/7 success": the reply's last edit, the card counts nodes only
            line += f" · {escape_truncated(done, 10)} of {escape_truncated(total, 10)} nodes done" if total else ""
        lines.append(line)
    if view.muted and view.shown_state != STATE_RESOLVED:
        until = f"until {date_token(view.muted_until)}" if view.muted_until is not None else "until unmuted"
        lines.append(f":no_bell: Muted in this channel {until}")
    timings: list[str] = []
    if view.opened_at is not None and view.acknowledged_at is not None and view.acknowledged_at >= view.opened_at:
        # Once resolved, the state line no longer names who took it: the timing does.
        by = (
            f" by {_person(view.acknowledged_by)}"
            if view.acknowledged_by and view.shown_state == STATE_RESOLVED
            else ""
        )
        timings.append(f"acknowledged{by} after {minutes_text(view.acknowledged_at - view.opened_at)}")
    if view.opened_at is not None and view.resolved_at is not None and view.resolved_at >= view.opened_at:
        verb = "resolved by hand" if view.resolver and view.resolved_by is None else "recovered"
        timings.append(f"{verb} after {minutes_text(view.resolved_at - view.opened_at)}")
    if timings:
        lines.append(" · ".join(timings))
    return lines


def _missing_details(details_error: str, error_message: str | None) -> list[Block]:
    """In place of the nodes: why DLF's details are missing, and DLF's own error message from the list row."""
    notes = [
        section(
            ":warning: *Details could not be fetched from DLF* — failed nodes and logs are not shown: "
            + escape_truncated(details_error, DETAILS_ERROR_LIMIT)
        )
    ]
    if error_message:
        notes.append(section("*DLF's error message*\n" + escape_truncated(error_message, ERROR_MESSAGE_LIMIT)))
    return notes


def _person(user: str) -> str:
    """A user id as a mention (`U123` → `<@U123>`); anything else shown escaped, pinging no one."""
    return mention(f"<@{user}>") or mention(user) or code(user, 60)


def mention_text(mentions: Sequence[str]) -> str:
    """Mentions for mrkdwn: valid tokens as they are, anything else visibly escaped (so a mistake is seen)."""
    valid = valid_mentions(mentions, MAX_MENTIONS)
    invalid = [code(token, 60) for token in mentions if mention(token) is None][:3]
    return " ".join([*valid, *invalid])


def ping_prefix(mentions: Sequence[str]) -> str:
    """The mentions that ping, for the start of a fallback text."""
    valid = valid_mentions(mentions, MAX_MENTIONS)
    return " ".join(valid) + " " if valid else ""


def ended(summary: Instance | InstanceSummary) -> str:
    """` (ended <date>)` when the instance has an end time."""
    end = summary.end_time
    return f" (ended {date_token(end)})" if end is not None and end > 0 else ""


__all__ = [
    "STATE_ACKNOWLEDGED",
    "STATE_OPEN",
    "STATE_RESOLVED",
    "IncidentView",
    "RerunView",
    "ended",
    "mention_text",
    "ping_prefix",
    "render_incident_card",
]
