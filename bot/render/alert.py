"""Watcher messages about one job: the alert card (updated in place as the incident moves), the thread replies
("failed again", "resolved") and the outcome of a one-off instance follow.

The alert card is the incident card (`bot.render.incident_card`): the instance card (failed nodes first, log paths)
with a line on top saying what happened, whom it concerns (mentions) and where the incident stands (open,
acknowledged, resolved). Mentions are passed through only when they are well-formed user or user-group tokens;
anything else is shown escaped and pings no one.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.dlf.models import FINISHED_INSTANCE_STATUSES, Instance, InstanceSummary
from bot.render.blocks import Block, context, section
from bot.render.digest import render_digest
from bot.render.incident_card import IncidentView, ended, mention_text, ping_prefix, render_incident_card
from bot.render.instance_card import (
    failed_node_text,
    fallback_text,
    instance_buttons,
    instance_context,
    instance_head,
    instance_nodes,
)
from bot.render.message import Message
from bot.render.mrkdwn import and_more, code, date_token, escape_truncated, one_line, plural
from bot.render.rerun_replies import render_recovered

JOB_LIMIT = 160
REPLY_FAILED_DETAILS = 3


def render_alert(
    instance: Instance,
    *,
    now_ms: int,
    profile: str | None = None,
    mentions: Sequence[str] = (),
    event: str = "failure",
    failure_count: int = 1,
    state: str = "open",
    acknowledged_by: str | None = None,
    resolved_by: Instance | InstanceSummary | None = None,
) -> Message:
    """The alert card for a failed instance (`render_incident_card` of the incident it opens or stands for).
    `failure_count` > 1 says how many failures in a row; `resolved_by` (the successful instance) or `state` say
    where the incident stands. Redrawn in place as it changes."""
    view = IncidentView(
        instance=instance,
        state=state,
        acknowledged_by=acknowledged_by,
        failure_count=failure_count,
        event=event,
        resolved_by=resolved_by,
    )
    return render_incident_card(view, now_ms=now_ms, profile=profile, mentions=mentions)


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
    state: str = "open",
    acknowledged_by: str | None = None,
) -> Message:
    """The alert card when DLF would not give the instance's details: what the instance list said (job, instance,
    status, times, DLF's `errorMessage`) and why the details (nodes, logs) are missing. `instance` is built from
    the list row, so it has no nodes."""
    view = IncidentView(
        instance=instance,
        state=state,
        acknowledged_by=acknowledged_by,
        failure_count=failure_count,
        event=event,
        details_error=details_error,
        error_message=error_message,
    )
    return render_incident_card(view, now_ms=now_ms, profile=profile, mentions=mentions)


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
        f"{plural(failure_count, 'failure')} in a row{ended(instance)}."
    )
    who = mention_text(mentions)
    if who:
        line += f"\ncc {who}"
    blocks = [section(line), *_failed_details(instance, now_ms=now_ms, limit=REPLY_FAILED_DETAILS)]
    blocks.extend(instance_buttons(instance, profile=profile, shareable=False))
    text = (
        f"{ping_prefix(mentions)}{one_line(instance.job_name, JOB_LIMIT)} failed again "
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
    opened_at: int | None = None,
    failure_count: int = 1,
    rerun_by: str | None = None,
) -> Message:
    """Thread reply when the incident resolves: the failed instance's rerun succeeded (`reason="rerun"`) or a later
    instance did (`"later_success"`).

    With the incident's `opened_at` (the watcher and the rerun follower always have it) the reply says how long it
    lasted and what ended it — "recovered after 42 min, 3 failures, by <@U0ALICE>'s rerun" or "… by instance
    40112" (`bot.render.rerun_replies.render_recovered`): the same words whichever path saw the success first."""
    if opened_at is not None and reason in ("rerun", "later_success"):
        return render_recovered(
            job_name=recovered_by.job_name,
            opened_at=opened_at,
            now_ms=now_ms,
            failure_count=failure_count,
            reason=reason,
            rerun_by=rerun_by,
            instance_id=recovered_by.instance_id,
        )
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
    line += ended(recovered_by) + "."
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
    who = mention_text(mentions)
    if who:
        line += f"\ncc {who}"
    title, timing = instance_head(instance, now_ms=now_ms)
    blocks = [
        title,
        section(line),
        timing,
        *instance_nodes(instance, now_ms=now_ms),
        instance_context(now_ms=now_ms, profile=profile),
    ]
    blocks.extend(instance_buttons(instance, profile=profile, shareable=False))
    return Message(text=fallback_text(instance, prefix=ping_prefix(mentions)), blocks=blocks)


__all__ = [
    "render_alert",
    "render_digest",
    "render_follow_outcome",
    "render_recovery",
    "render_repeat_failure",
    "render_summary_alert",
]
