"""Watcher messages about one job: the alert card (updated in place as the incident moves), the thread replies
("failed again", "resolved") and the outcome of a one-off instance follow.

The alert card is the instance card (failed nodes first, log paths) with a line on top saying what happened, whom
it concerns (mentions) and where the incident stands (open, acknowledged, resolved). Mentions are passed through
only when they are well-formed user or user-group tokens; anything else is shown escaped and pings no one.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.dlf.models import FINISHED_INSTANCE_STATUSES, Instance, InstanceSummary
from bot.render.blocks import Block, context, section
from bot.render.digest import render_digest
from bot.render.instance_card import (
    failed_node_text,
    fallback_text,
    instance_buttons,
    instance_context,
    instance_head,
    instance_nodes,
)
from bot.render.message import Message
from bot.render.mrkdwn import (
    and_more,
    code,
    date_token,
    escape_truncated,
    mention,
    one_line,
    plural,
    valid_mentions,
)

MAX_MENTIONS = 10
JOB_LIMIT = 160
REPLY_FAILED_DETAILS = 3
_EVENT_LINES = {
    "failure": ":rotating_light: *Failure alert*",
    "running-exception": ":warning: *Running with an exception*",
}
_STATE_LINES = {
    "open": "Open",
    "acknowledged": ":eyes: Acknowledged",
    "resolved": ":white_check_mark: Resolved",
}


def _mention_text(mentions: Sequence[str]) -> str:
    """Mentions for mrkdwn: valid tokens as they are, anything else visibly escaped (so a mistake is seen)."""
    valid = valid_mentions(mentions, MAX_MENTIONS)
    invalid = [code(token, 60) for token in mentions if mention(token) is None][:3]
    return " ".join([*valid, *invalid])


def _ping_prefix(mentions: Sequence[str]) -> str:
    valid = valid_mentions(mentions, MAX_MENTIONS)
    return " ".join(valid) + " " if valid else ""


def _ended(summary: Instance | InstanceSummary) -> str:
    end = summary.end_time
    return f" (ended {date_token(end)})" if end is not None and end > 0 else ""


def render_alert(
    instance: Instance,
    *,
    now_ms: int,
    profile: str | None = None,
    mentions: Sequence[str] = (),
    event: str = "failure",
    failure_count: int = 1,
    state: str = "open",
    resolved_by: Instance | InstanceSummary | None = None,
) -> Message:
    """The alert card for a failed instance. `failure_count` > 1 says how many failures in a row; `resolved_by`
    (the successful instance) or `state` say where the incident stands. Redrawn in place as it changes."""
    if resolved_by is not None:
        state = "resolved"
    headline = _alert_headline(
        instance, mentions=mentions, event=event, failure_count=failure_count, state=state, resolved_by=resolved_by
    )
    return _alert_card(
        instance, headline=headline, middle=instance_nodes(instance, now_ms=now_ms), now_ms=now_ms, profile=profile,
        mentions=mentions, state=state,
    )


def _alert_headline(
    instance: Instance,
    *,
    mentions: Sequence[str],
    event: str,
    failure_count: int,
    state: str,
    resolved_by: Instance | InstanceSummary | None,
) -> Block:
    """What happened and where the incident stands, with who is asked to look."""
    headline = _EVENT_LINES.get(event, f":rotating_light: *Alert* ({code(event, 40)})")
    parts = [headline]
    if failure_count > 1:
        parts.append(f"failed {failure_count:,} times in a row (latest instance shown)")
    parts.append(_STATE_LINES.get(state, code(state, 40)))
    lines = [" · ".join(parts)]
    if resolved_by is not None:
        if resolved_by.instance_id == instance.instance_id:
            lines.append(f"The rerun of instance {resolved_by.instance_id} succeeded{_ended(resolved_by)}.")
        else:
            lines.append(f"A later instance, {resolved_by.instance_id}, succeeded{_ended(resolved_by)}.")
    who = _mention_text(mentions)
    if who and state != "resolved":
        lines.append(f"cc {who}")
    return section("\n".join(lines))


def _alert_card(
    instance: Instance,
    *,
    headline: Block,
    middle: Sequence[Block],
    now_ms: int,
    profile: str | None,
    mentions: Sequence[str],
    state: str,
) -> Message:
    """Header, headline, timing fields, `middle` (the nodes, or why they are missing), context and Refresh."""
    title, timing = instance_head(instance, now_ms=now_ms)
    blocks = [title, headline, timing, *middle, instance_context(now_ms=now_ms, profile=profile)]
    blocks.extend(instance_buttons(instance, profile=profile, shareable=False))
    if state == "resolved":
        text = "Resolved: " + fallback_text(instance)
    else:
        text = fallback_text(instance, prefix=_ping_prefix(mentions))
    return Message(text=text, blocks=blocks)


DETAILS_ERROR_LIMIT = 300
ERROR_MESSAGE_LIMIT = 1500


def render_summary_alert(
    instance: Instance,
    *,
    details_error: str,
    now_ms: int,
    error_message: str | None = None,
    profile: str | None = None,
    mentions: Sequence[str] = (),
    event: str = "failure",
    failure_count: int = 1,
) -> Message:
    """The alert card when DLF would not give the instance's details: what the instance list said (job, instance,
    status, times, DLF's `errorMessage`) and why the details (nodes, logs) are missing. `instance` is built from
    the list row, so it has no nodes."""
    notes = [
        section(
            ":warning: *Details could not be fetched from DLF* — failed nodes and logs are not shown: "
            + escape_truncated(details_error, DETAILS_ERROR_LIMIT)
        )
    ]
    if error_message:
        notes.append(section("*DLF's error message*\n" + escape_truncated(error_message, ERROR_MESSAGE_LIMIT)))
    headline = _alert_headline(
        instance, mentions=mentions, event=event, failure_count=failure_count, state="open", resolved_by=None
    )
    return _alert_card(
        instance, headline=headline, middle=notes, now_ms=now_ms, profile=profile, mentions=mentions, state="open"
    )


def _failed_details(instance: Instance, *, now_ms: int, limit: int) -> list[Block]:
    failed = [node for node in instance.nodes if node.status == "fail"]
    blocks = [section(failed_node_text(node, now_ms=now_ms)) for node in failed[:limit]]
    if len(failed) > limit:
        blocks.append(section(and_more(len(failed) - limit, "failed nodes") + " — on the card above"))
    return blocks


def render_repeat_failure(
    instance: Instance,
    *,
    failure_count: int,
    now_ms: int,
    profile: str | None = None,
    mentions: Sequence[str] = (),
) -> Message:
    """Thread reply when the job fails again while its incident is open: which instance, how many in a row, and
    its first failed nodes."""
    job = code(instance.job_name, JOB_LIMIT)
    line = (
        f":repeat: Failed again: instance {instance.instance_id} of {job} — "
        f"{plural(failure_count, 'failure')} in a row{_ended(instance)}."
    )
    who = _mention_text(mentions)
    if who:
        line += f"\ncc {who}"
    blocks = [section(line), *_failed_details(instance, now_ms=now_ms, limit=REPLY_FAILED_DETAILS)]
    blocks.extend(instance_buttons(instance, profile=profile, shareable=False))
    text = (
        f"{_ping_prefix(mentions)}{one_line(instance.job_name, JOB_LIMIT)} failed again "
        f"(instance {instance.instance_id}, {failure_count:,} in a row)"
    )
    return Message(text=text, blocks=blocks)


def render_recovery(
    recovered_by: Instance | InstanceSummary,
    *,
    failed_instance_id: int,
    reason: str,
    now_ms: int,
    profile: str | None = None,
) -> Message:
    """Thread reply when the incident resolves: the failed instance's rerun succeeded (`reason="rerun"`) or a later
    instance did (`"later_success"`)."""
    job = code(recovered_by.job_name, JOB_LIMIT)
    if reason == "rerun":
        line = f":white_check_mark: Resolved: the rerun of instance {failed_instance_id} of {job} succeeded"
    elif reason == "later_success":
        line = (
            f":white_check_mark: Resolved: a later instance of {job}, {recovered_by.instance_id}, succeeded "
            f"after instance {failed_instance_id} failed"
        )
    else:
        line = (
            f":white_check_mark: Resolved ({escape_truncated(reason, 80)}): instance {recovered_by.instance_id} "
            f"of {job} succeeded"
        )
    line += _ended(recovered_by) + "."
    text = f"Resolved: {one_line(recovered_by.job_name, JOB_LIMIT)} instance {recovered_by.instance_id} succeeded"
    return Message(text=text, blocks=[section(line), context(f"as of {date_token(now_ms)}")])


def render_follow_outcome(
    instance: Instance,
    *,
    now_ms: int,
    profile: str | None = None,
    mentions: Sequence[str] = (),
) -> Message:
    """The outcome of a one-off follow (`/dlf watch job 123`): how the instance ended, then its card.

    An instance that has not finished (a running exception the follow asked for) is said as such: the follow goes on.
    """
    job = code(instance.job_name, JOB_LIMIT)
    if instance.status not in FINISHED_INSTANCE_STATUSES:
        line = (
            f":warning: The instance you follow hit a running exception: {instance.instance_id} of {job}."
            " Still following it until it ends."
        )
    else:
        flag = ":checkered_flag:" if instance.status == "success" else ":rotating_light:"
        line = f"{flag} The instance you followed ended: {instance.instance_id} of {job}"
    who = _mention_text(mentions)
    if who:
        line += f"\ncc {who}"
    title, timing = instance_head(instance, now_ms=now_ms)
    blocks = [title, section(line), timing, *instance_nodes(instance, now_ms=now_ms),
              instance_context(now_ms=now_ms, profile=profile)]
    blocks.extend(instance_buttons(instance, profile=profile, shareable=False))
    return Message(text=fallback_text(instance, prefix=_ping_prefix(mentions)), blocks=blocks)


__all__ = [
    "render_alert",
    "render_digest",
    "render_follow_outcome",
    "render_recovery",
    "render_repeat_failure",
    "render_summary_alert",
]
