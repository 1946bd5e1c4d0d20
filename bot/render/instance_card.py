"""The instance card: what `/dlf instance <job> <id>` answers and what alerts are built from.

Layout: header (status emoji, job, instance, status) · timing fields · node summary · failed nodes in detail · the
other nodes compactly · context (profile, when rendered) · Refresh / Share buttons. Whatever the instance — 0 or
6,000 nodes, hostile names, unknown statuses, missing or absurd times — the result stays within Slack's limits:
at most ~25 blocks and a text budget (`CARD_TEXT_BUDGET`) well below the size Slack refuses.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bot.dlf.models import INSTANCE_TYPES, Instance, Node
from bot.render import actions as action_ids
from bot.render.blocks import Block, actions, button, context, fields, header, section
from bot.render.layout import pack_lines
from bot.render.message import Message
from bot.render.mrkdwn import (
    code,
    date_token,
    human_duration,
    mention,
    one_line,
    plural,
    slack_len,
    truncate,
)
from bot.render.status import (
    FINISHED_NODE_STATUSES,
    RUNNING_INSTANCE_STATUSES,
    SUMMARY_ORDER,
    instance_look,
    node_look,
    node_rank,
)

HEADER_LIMIT = 150
CARD_TEXT_BUDGET = 8000
FAILED_DETAIL_BUDGET = 3500
MAX_FAILED_DETAILS = 8
OTHER_NODES_BUDGET = 2500
MAX_UNKNOWN_STATUSES = 5
# Lengths allotted to untrusted pieces (escaped, including code-span backticks).
JOB_IN_TEXT = 160
STATUS_IN_TEXT = 60
NODE_IN_DETAIL = 160
NODE_IN_LIST = 90
TYPE_IN_TEXT = 40
LOG_PATH_IN_DETAIL = 500
# executeTime is trusted only when it agrees with end − start within this much (the seed says 1 ms for a 60 s run).
_EXECUTE_TIME_TOLERANCE_MS = 1000
_LINE_BREAKS = re.compile(r"\s+")


@dataclass(frozen=True)
class _Span:
    """A measured duration; `so_far` when the clock is still running."""

    ms: int
    so_far: bool = False

    def text(self) -> str:
        return human_duration(self.ms) + (" so far" if self.so_far else "")


def _time(value: int | None) -> int | None:
    """DLF sends 0 or nothing for times that have not happened; both mean absent."""
    return value if value is not None and value > 0 else None


def _span(start: int | None, end: int | None, *, running: bool, now_ms: int) -> _Span | None:
    start, end = _time(start), _time(end)
    if start is None:
        return None
    if end is not None:
        return _Span(end - start) if end >= start else None
    if running and now_ms >= start:
        return _Span(now_ms - start, so_far=True)
    return None


def _when(value: int | None, absent: str = "—") -> str:
    value = _time(value)
    return date_token(value) if value is not None else absent


def header_text(instance: Instance) -> str:
    """`:x: job_batch · instance 34765 · failed`, within the header's 150 characters (long job names cut)."""
    look = instance_look(instance.status)
    status = _LINE_BREAKS.sub(" ", truncate(look.word, STATUS_IN_TEXT))
    fixed = f"{look.emoji}  · instance {instance.instance_id} · {status}"
    job = _LINE_BREAKS.sub(" ", instance.job_name) or "(unnamed job)"
    job = truncate(job, HEADER_LIMIT - slack_len(fixed))
    return f"{look.emoji} {job} · instance {instance.instance_id} · {status}"


def fallback_text(instance: Instance, *, prefix: str = "") -> str:
    """Notification text: `job_batch instance 34765 failed` (escaped), with the failed-node count when known."""
    look = instance_look(instance.status)
    failed = sum(1 for node in instance.nodes if node.status == "fail")
    text = (
        f"{prefix}{one_line(instance.job_name or '(unnamed job)', JOB_IN_TEXT)} "
        f"instance {instance.instance_id} {one_line(look.word, STATUS_IN_TEXT)}"
    )
    if failed:
        text += f": {failed:,} of {plural(len(instance.nodes), 'node')} failed"
    return text


def _duration_field(instance: Instance, now_ms: int) -> str:
    running = instance.status in RUNNING_INSTANCE_STATUSES
    span = _span(instance.start_time, instance.end_time, running=running, now_ms=now_ms)
    reported = instance.execute_time if instance.execute_time is not None and instance.execute_time >= 0 else None
    if span is None:
        if reported is not None:
            return f"*Duration*\n{human_duration(reported)} (as DLF reports it)"
        return "*Duration*\n—"
    text = f"*Duration*\n{span.text()}"
    if not span.so_far and reported is not None and abs(reported - span.ms) > _EXECUTE_TIME_TOLERANCE_MS:
        text += f"\n_DLF's executeTime says {human_duration(reported)}_"
    return text


def _field_texts(instance: Instance, now_ms: int) -> list[str]:
    running = instance.status in RUNNING_INSTANCE_STATUSES
    items = [
        f"*Planned*\n{_when(instance.plan_time)}",
        f"*Started*\n{_when(instance.start_time, 'not started')}",
        f"*Ended*\n{_when(instance.end_time, 'still running' if running else '—')}",
        _duration_field(instance, now_ms),
    ]
    if instance.instance_type is not None:
        kind = INSTANCE_TYPES.get(instance.instance_type, f"type {instance.instance_type}")
        items.append(f"*Scheduled as*\n{kind}")
    overrides = [
        label
        for flag, label in ((instance.force_success, "forced to success"), (instance.ignore_success, "failure ignored"))
        if flag
    ]
    if overrides:
        items.append("*Operator override*\n" + ", ".join(overrides))
    return items


def _status_counts(nodes: Sequence[Node]) -> str:
    counts = Counter(node.status for node in nodes)
    known = [(status, counts[status]) for status in SUMMARY_ORDER if status in counts]
    unknown = sorted(
        ((status, count) for status, count in counts.items() if status not in SUMMARY_ORDER),
        key=lambda item: (-item[1], item[0]),
    )
    parts = [f"{count:,} {node_look(status).word}" for status, count in known]
    parts += [f"{count:,} {code(status, STATUS_IN_TEXT)}" for status, count in unknown[:MAX_UNKNOWN_STATUSES]]
    hidden = unknown[MAX_UNKNOWN_STATUSES:]
    if hidden:
        parts.append(
            f"{sum(count for _, count in hidden):,} in {plural(len(hidden), 'other status', 'other statuses')}"
        )
    return ", ".join(parts)


def summary_text(instance: Instance) -> str:
    """`*12 nodes:* 10 succeeded, 1 failed, 1 skipped` plus progress, DLF's own count and the no-failed-node case."""
    nodes = instance.nodes
    lines = []
    if nodes:
        lines.append(f"*{plural(len(nodes), 'node')}:* {_status_counts(nodes)}")
    else:
        lines.append("*No nodes* listed by DLF for this instance.")
    if instance.total is not None and instance.total != len(nodes):
        lines.append(f"_DLF counts {plural(instance.total, 'node')}; {len(nodes):,} listed._")
    if instance.status in RUNNING_INSTANCE_STATUSES and nodes:
        finished = sum(1 for node in nodes if node.status in FINISHED_NODE_STATUSES)
        lines.append(f":hourglass_flowing_sand: Progress: {finished:,} of {plural(len(nodes), 'node')} finished")
    if instance.status == "fail" and not any(node.status == "fail" for node in nodes):
        which = "none of its nodes failed" if nodes else "it lists no nodes"
        lines.append(
            f":warning: DLF reports this instance failed, but {which}. The cause is likely outside the nodes "
            "(a dependency, the schedule or the job's settings): check the job's log in DataArts Factory."
        )
    return "\n".join(lines)


def _node_timing(node: Node, *, now_ms: int) -> str:
    span = _span(node.start_time, node.end_time, running=node.status == "running", now_ms=now_ms)
    parts = []
    if _time(node.start_time) is not None:
        parts.append(f"started {_when(node.start_time)}")
    if span is not None:
        parts.append(("running for " if span.so_far else "ran ") + span.text())
    elif _time(node.end_time) is not None:
        parts.append(f"ended {_when(node.end_time)}")
    return " · ".join(parts) or "no timing from DLF"


def failed_node_text(node: Node, *, now_ms: int) -> str:
    """One failed node in detail: name, type, retries, timing and log path, all untrusted parts escaped in code."""
    first = f":x: *{code(node.node_name, NODE_IN_DETAIL)}* failed"
    if node.type:
        first += f" · {code(node.type, TYPE_IN_TEXT)}"
    second = []
    if node.retry_times is not None:
        second.append(f"retries: {node.retry_times:,}")
    second.append(_node_timing(node, now_ms=now_ms))
    log = f"log: {code(node.log_path, LOG_PATH_IN_DETAIL)}" if node.log_path else "no log path from DLF"
    return "\n".join((first, " · ".join(second), log))


def node_line(node: Node, *, now_ms: int) -> str:
    """One node compactly: emoji, name, status (when not success), type, duration."""
    look = node_look(node.status)
    parts = [f"{look.emoji} {code(node.node_name, NODE_IN_LIST)}"]
    if node.status != "success":
        parts.append(look.word if look.known else code(node.status, STATUS_IN_TEXT))
    if node.type:
        parts.append(code(node.type, TYPE_IN_TEXT))
    span = _span(node.start_time, node.end_time, running=node.status == "running", now_ms=now_ms)
    if span is not None:
        parts.append(span.text())
    return " · ".join(parts)


def instance_body(instance: Instance, *, now_ms: int) -> list[Block]:
    """The card's blocks without context and buttons: header, fields, summary, nodes."""
    return [*instance_head(instance, now_ms=now_ms), *instance_nodes(instance, now_ms=now_ms)]


def instance_head(instance: Instance, *, now_ms: int) -> list[Block]:
    """The card's header and its timing fields (alerts put their headline between the two)."""
    return [header(header_text(instance)), fields(_field_texts(instance, now_ms))]


def instance_nodes(instance: Instance, *, now_ms: int) -> list[Block]:
    """The node summary, failed nodes in detail, then the rest compactly."""
    blocks = [section(summary_text(instance))]
    failed = [node for node in instance.nodes if node.status == "fail"]
    others = sorted(
        (node for node in instance.nodes if node.status != "fail"),
        key=lambda node: node_rank(node.status),
    )
    used = 0
    detailed = 0
    for node in failed[:MAX_FAILED_DETAILS]:
        text = failed_node_text(node, now_ms=now_ms)
        if used + slack_len(text) > FAILED_DETAIL_BUDGET:
            break
        blocks.append(section(text))
        used += slack_len(text)
        detailed += 1
    rest_budget = OTHER_NODES_BUDGET
    if detailed < len(failed):
        remaining = [node_line(node, now_ms=now_ms) for node in failed[detailed:]]
        more_failed = pack_lines(
            remaining, heading="*More failed nodes*", budget=rest_budget // 2, max_sections=1, noun="failed nodes"
        )
        blocks.extend(section(text) for text in more_failed)
        rest_budget -= sum(slack_len(text) for text in more_failed)
    if others:
        heading = "*Other nodes*" if failed else "*Nodes*"
        lines = [node_line(node, now_ms=now_ms) for node in others]
        blocks.extend(section(text) for text in pack_lines(lines, heading=heading, budget=rest_budget, noun="nodes"))
    return blocks


def instance_buttons(instance: Instance, *, profile: str | None, shareable: bool) -> list[Block]:
    """Refresh (and Share, for ephemeral cards) — omitted when the job name is too long to fit a button value."""
    value = action_ids.encode_instance_ref(
        action_ids.InstanceRef(job=instance.job_name, instance_id=instance.instance_id, profile=profile)
    )
    if value is None:
        return []
    elements = [button("Refresh", action_id=action_ids.INSTANCE_REFRESH, value=value)]
    if shareable:
        elements.append(button("Share in channel", action_id=action_ids.INSTANCE_SHARE, value=value))
    return [actions(elements)]


def instance_context(*, now_ms: int, profile: str | None, shared_by: str | None = None) -> Block:
    """`Profile `prod` · as of <date>` (and who shared the card)."""
    parts = []
    if profile is not None:
        parts.append(f"DLF profile {code(profile, 60)}")
    parts.append(f"as of {date_token(now_ms)}")
    shared = mention(shared_by)
    if shared:
        parts.append(f"shared by {shared}")
    return context(" · ".join(parts))


def render_instance(
    instance: Instance,
    *,
    now_ms: int,
    profile: str | None = None,
    shareable: bool = True,
    shared_by: str | None = None,
) -> Message:
    """The card for one instance (see the module docstring). `shareable` adds "Share in channel" (ephemeral cards);
    `shared_by` (a user mention token) says who shared a card into the channel."""
    blocks = instance_body(instance, now_ms=now_ms)
    blocks.append(instance_context(now_ms=now_ms, profile=profile, shared_by=shared_by))
    blocks.extend(instance_buttons(instance, profile=profile, shareable=shareable))
    return Message(text=fallback_text(instance), blocks=blocks)


__all__ = [
    "CARD_TEXT_BUDGET",
    "fallback_text",
    "header_text",
    "instance_body",
    "instance_buttons",
    "instance_context",
    "instance_head",
    "instance_nodes",
    "pack_lines",
    "render_instance",
    "summary_text",
]
