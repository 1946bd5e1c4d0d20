"""What the poll cycle says in an incident's thread: a rerun's progress (one reply, edited in place), how the rerun
ended, the recovery, the escalation reminder, and what a mute held back. Pure.

The texts of the incident actions (who acknowledged, who asked for a rerun and what DLF answered) are in
`bot.render.incident_replies`; these are the cycle's, what happens after DLF took the rerun:

    rerun: 3 of 7 nodes done                                     (the progress reply, edited as nodes finish)
    The rerun of instance 40111 failed again: failed node `load`.
    recovered after 42 min, 3 failures, by <@U0ALICE>'s rerun      (or "by instance 40112")
    Still open after 15 min and nobody has acknowledged it. cc <!subteam^S0ONCALL>

User ids are shown as mentions only when they are well-formed tokens; job and node names are untrusted and escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.dlf.models import Instance, Node
from bot.render.blocks import context, section
from bot.render.message import Message
from bot.render.mrkdwn import and_more, code, date_token, mention, one_line, plural

JOB_LIMIT = 160
NODE_LIMIT = 120
MAX_FAILED_NODES = 5
MINUTE_MS = 60_000


def minutes_text(ms: int) -> str:
    """A duration a person reads in a thread: `under a minute`, `42 min`, `2 h 5 min`, `3 d 4 h`."""
    minutes = max(ms, 0) // MINUTE_MS
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days:,} d {hours} h" if hours else f"{days:,} d"


def person(user: str | None) -> str:
    """A Slack user id (or mention token) as a mention; anything else shown escaped, pinging no one."""
    if not user:
        return "someone"
    return mention(f"<@{user}>") or mention(user) or code(user, 60)


def progress_of(instance: Instance) -> tuple[int, int]:
    """(nodes done, nodes in all) of a running instance: done = succeeded or skipped."""
    done = sum(1 for node in instance.nodes if node.status in ("success", "skip"))
    return done, len(instance.nodes)


# How the one progress reply ends, once the rerun's instance has: its icon and word.
_ENDINGS = {
    "success": (":white_check_mark:", "finished"),
    "fail": (":x:", "failed"),
    "manual-stop": (":octagonal_sign:", "stopped"),
}
_UNFINISHED = ("running", "waiting", "running-exception")


def progress_key(instance: Instance) -> str:
    """The progress as stored on the incident (`Incidents.set_rerun_progress`): "3/7", and "3/7 success" once the
    instance has ended (so the reply's last edit says how)."""
    done, total = progress_of(instance)
    ended = "" if instance.status in _UNFINISHED else f" {instance.status}"
    return f"{done}/{total}{ended}"


def render_rerun_progress(instance: Instance, *, by: str | None, now_ms: int) -> Message:
    """The ONE progress reply of a rerun, edited in place as its nodes finish."""
    done, total = progress_of(instance)
    job = code(instance.job_name, JOB_LIMIT)
    if instance.status in _UNFINISHED:
        icon, word = ":arrows_counterclockwise:", "rerun"
    else:
        icon, ending = _ENDINGS.get(instance.status, (":grey_question:", "ended"))
        word = f"rerun {ending}"
    if total:
        line = f"{icon} {word}: {done} of {plural(total, 'node')} done"
    else:
        line = f"{icon} {word}" + (": running" if instance.status in _UNFINISHED else "")
    line += f" — instance {instance.instance_id} of {job}, asked for by {person(by)}"
    running = [node for node in instance.nodes if node.status == "running"]
    if running:
        line += f"\nnow running: {code(running[0].node_name, NODE_LIMIT)}"
    text = f"rerun of {one_line(instance.job_name, JOB_LIMIT)} {instance.instance_id}: {done} of {total} nodes done"
    if instance.status not in _UNFINISHED:
        text += f" — {word.removeprefix('rerun ')}"
    return Message(text=text, blocks=[section(line), context(f"as of {date_token(now_ms)}")])


def _failed_nodes(nodes: Sequence[Node]) -> str:
    failed = [node for node in nodes if node.status == "fail"]
    if not failed:
        return ""
    names = ", ".join(code(node.node_name, NODE_LIMIT) for node in failed[:MAX_FAILED_NODES])
    if len(failed) > MAX_FAILED_NODES:
        names += " " + and_more(len(failed) - MAX_FAILED_NODES)
    word = "failed node" if len(failed) == 1 else "failed nodes"
    return f": {word} {names}"


def render_rerun_ended(instance: Instance, *, by: str | None, failure_count: int) -> Message:
    """How a rerun that did not succeed ended: failed again (with its failed nodes and the count), stopped, or
    another status DLF gave it (shown as it is)."""
    job = code(instance.job_name, JOB_LIMIT)
    plain = one_line(instance.job_name, JOB_LIMIT)
    who = f"{person(by)}'s rerun"
    if instance.status == "fail":
        line = (
            f":x: {who} of instance {instance.instance_id} of {job} failed again"
            f"{_failed_nodes(instance.nodes)} — {plural(failure_count, 'failure')} in a row."
        )
        text = f"The rerun of {plain} {instance.instance_id} failed again"
    elif instance.status == "manual-stop":
        line = f":octagonal_sign: {who} of instance {instance.instance_id} of {job} was stopped before it finished."
        text = f"The rerun of {plain} {instance.instance_id} was stopped"
    else:
        line = (
            f":grey_question: {who} of instance {instance.instance_id} of {job} ended as {code(instance.status, 40)}."
        )
        text = f"The rerun of {plain} {instance.instance_id} ended ({one_line(instance.status, 40)})"
    return Message(text=text, blocks=[section(line)])


def render_rerun_not_started(*, job_name: str, instance_id: int, by: str | None, waited_ms: int) -> Message:
    """A rerun whose start DLF never showed (the answer was lost, or the bot stopped between asking and hearing)."""
    line = (
        f":grey_question: {person(by)}'s rerun of instance {instance_id} of {code(job_name, JOB_LIMIT)} was not seen "
        f"to start in DLF within {minutes_text(waited_ms)}. Nothing is being followed; ask for it again if it is "
        "still needed."
    )
    text = f"The rerun of {one_line(job_name, JOB_LIMIT)} {instance_id} was not seen to start"
    return Message(text=text, blocks=[section(line)])


def recovered_text(
    *,
    opened_at: int | None,
    now_ms: int,
    failure_count: int,
    reason: str,
    rerun_by: str | None,
    instance_id: int,
) -> str:
    """`recovered after 42 min, 3 failures, by <@U0ALICE>'s rerun` / `… by instance 40112` / `… by a rerun`."""
    parts = [f"recovered after {minutes_text(now_ms - opened_at)}" if opened_at is not None else "recovered"]
    parts.append(plural(failure_count, "failure"))
    if reason == "rerun":
        how = f"by {person(rerun_by)}'s rerun" if rerun_by else f"by a rerun of instance {instance_id}"
    else:
        how = f"by instance {instance_id}"
    return ", ".join([*parts, how])


def render_recovered(
    *,
    job_name: str,
    opened_at: int | None,
    now_ms: int,
    failure_count: int,
    reason: str,
    rerun_by: str | None,
    instance_id: int,
) -> Message:
    """The recovery reply: how long the incident lasted, how many failures it had and what ended it."""
    what = recovered_text(
        opened_at=opened_at,
        now_ms=now_ms,
        failure_count=failure_count,
        reason=reason,
        rerun_by=rerun_by,
        instance_id=instance_id,
    )
    line = f":white_check_mark: {code(job_name, JOB_LIMIT)} {what}."
    text = f"{one_line(job_name, JOB_LIMIT)} {what}"
    return Message(text=text, blocks=[section(line), context(f"as of {date_token(now_ms)}")])


def render_escalation(
    *, job_name: str, instance_id: int, opened_at: int, now_ms: int, mention_target: str | None
) -> Message:
    """The one reminder of an incident nobody acknowledged in time, mentioning the subscription's target."""
    target = mention(mention_target) if mention_target else None
    line = (
        f":alarm_clock: Still open after {minutes_text(now_ms - opened_at)} and nobody has acknowledged it: "
        f"instance {instance_id} of {code(job_name, JOB_LIMIT)}."
    )
    if target:
        line += f"\ncc {target}"
    prefix = f"{target} " if target else ""
    text = f"{prefix}{one_line(job_name, JOB_LIMIT)} is still open and not acknowledged"
    return Message(text=text, blocks=[section(line)])


def render_held_back(*, job_name: str, failure_count: int) -> Message:
    """Said under a card posted late because a mute held it back: the failures it gathered meanwhile."""
    line = (
        f":mute: This card was held back while {code(job_name, JOB_LIMIT)} was muted here; "
        f"{plural(failure_count, 'failure')} so far."
    )
    return Message(text=f"{one_line(job_name, JOB_LIMIT)} was muted: the card was held back", blocks=[section(line)])


__all__ = [
    "minutes_text",
    "person",
    "progress_key",
    "progress_of",
    "recovered_text",
    "render_escalation",
    "render_held_back",
    "render_recovered",
    "render_rerun_ended",
    "render_rerun_not_started",
    "render_rerun_progress",
]
