"""`nodes` and `logs` in an alert's thread: every node of the incident's latest instance (paged), and the log paths
of its failed nodes. Pure; DLF's names and paths are escaped."""

from __future__ import annotations

from bot.dlf.models import Instance, Node
from bot.render.blocks import Block, context, section
from bot.render.message import Message
from bot.render.mrkdwn import code, escape_truncated, plural, slack_len
from bot.render.status import node_look

NODES_PER_PAGE = 25
LOGS_SHOWN = 12
NAME_LIMIT = 80
PATH_LIMIT = 300
SECTION_BUDGET = 2800  # a section holds 3000 characters
STATUS_LIMIT = 30


def _name(instance: Instance) -> str:
    """The job's name for a fallback text (escaped: Slack parses the text too)."""
    return escape_truncated(instance.job_name, NAME_LIMIT)


def _sections(lines: list[str]) -> list[Block]:
    """`lines` in as few sections as fit Slack's 3000 characters each."""
    blocks: list[Block] = []
    current: list[str] = []
    for line in lines:
        if current and slack_len("\n".join([*current, line])) > SECTION_BUDGET:
            blocks.append(section("\n".join(current)))
            current = []
        current.append(line)
    if current:
        blocks.append(section("\n".join(current)))
    return blocks


def _node_line(node: Node) -> str:
    # The cards' words for DLF's statuses ("succeeded", "failed"); a status DLF added since, verbatim.
    look = node_look(node.status)
    status = look.word if look.known else code(node.status, STATUS_LIMIT)
    return f"{look.emoji} {code(node.node_name, NAME_LIMIT)} · {status}"


def render_nodes(instance: Instance, *, page: int = 1) -> Message:
    """Page `page` of the instance's nodes, in DLF's order, with their status."""
    nodes = instance.nodes
    head = f"Instance {code(str(instance.instance_id))} of {code(instance.job_name, NAME_LIMIT)}"
    if not nodes:
        return Message(text=f"{_name(instance)}: no nodes", blocks=[section(f"{head} has no nodes DLF reports.")])
    pages = (len(nodes) + NODES_PER_PAGE - 1) // NODES_PER_PAGE
    page = min(max(1, page), pages)
    shown = nodes[(page - 1) * NODES_PER_PAGE : page * NODES_PER_PAGE]
    lines = [_node_line(node) for node in shown]
    blocks = [section(f"{head}: {plural(len(nodes), 'node')}, page {page} of {pages}"), *_sections(lines)]
    if page < pages:
        blocks.append(context(f"`nodes {page + 1}` shows the next page."))
    return Message(text=f"{_name(instance)}: nodes, page {page} of {pages}", blocks=blocks)


def render_logs(instance: Instance) -> Message:
    """The log paths of the instance's failed nodes (DLF keeps them in OBS)."""
    failed = [node for node in instance.nodes if node.status == "fail"]
    head = f"Instance {code(str(instance.instance_id))} of {code(instance.job_name, NAME_LIMIT)}"
    if not failed:
        return Message(text=f"{_name(instance)}: no failed node", blocks=[section(f"{head} has no failed node.")])
    lines = [
        f":x: {code(node.node_name, NAME_LIMIT)}: {code(node.log_path, PATH_LIMIT) if node.log_path else 'DLF gives no log path'}"
        for node in failed[:LOGS_SHOWN]
    ]
    more = [context(f"…and {len(failed) - LOGS_SHOWN} more failed nodes.")] if len(failed) > LOGS_SHOWN else []
    return Message(
        text=f"{_name(instance)}: logs of the failed nodes",
        blocks=[section(f"{head}: logs of the failed nodes"), *_sections(lines), *more],
    )


__all__ = ["NODES_PER_PAGE", "render_logs", "render_nodes"]
