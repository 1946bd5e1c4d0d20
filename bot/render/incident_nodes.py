"""`nodes` and `logs` in an alert's thread: every node of the incident's latest instance (paged), and the log paths
of its failed nodes. Pure; DLF's names and paths are escaped."""

from __future__ import annotations

from bot.dlf.models import Instance
from bot.render.blocks import context, section
from bot.render.message import Message
from bot.render.mrkdwn import code, plural

NODES_PER_PAGE = 25
NAME_LIMIT = 120
PATH_LIMIT = 400
_STATUS_ICONS = {"success": ":white_check_mark:", "fail": ":x:", "running": ":arrows_counterclockwise:"}


def render_nodes(instance: Instance, *, page: int = 1) -> Message:
    """Page `page` of the instance's nodes, in DLF's order, with their status."""
    nodes = instance.nodes
    head = f"Instance {code(str(instance.instance_id))} of {code(instance.job_name, NAME_LIMIT)}"
    if not nodes:
        return Message(text=f"{instance.job_name}: no nodes", blocks=[section(f"{head} has no nodes DLF reports.")])
    pages = (len(nodes) + NODES_PER_PAGE - 1) // NODES_PER_PAGE
    page = min(max(1, page), pages)
    shown = nodes[(page - 1) * NODES_PER_PAGE : page * NODES_PER_PAGE]
    lines = [
        f"{_STATUS_ICONS.get(node.status, ':white_circle:')} {code(node.node_name, NAME_LIMIT)} · {code(node.status, 30)}"
        for node in shown
    ]
    blocks = [section(f"{head}: {plural(len(nodes), 'node')}, page {page} of {pages}"), section("\n".join(lines))]
    if page < pages:
        blocks.append(context(f"`nodes {page + 1}` shows the next page."))
    return Message(text=f"{instance.job_name}: nodes, page {page} of {pages}", blocks=blocks)


def render_logs(instance: Instance) -> Message:
    """The log paths of the instance's failed nodes (DLF keeps them in OBS)."""
    failed = [node for node in instance.nodes if node.status == "fail"]
    head = f"Instance {code(str(instance.instance_id))} of {code(instance.job_name, NAME_LIMIT)}"
    if not failed:
        return Message(text=f"{instance.job_name}: no failed node", blocks=[section(f"{head} has no failed node.")])
    lines = [
        f":x: {code(node.node_name, NAME_LIMIT)}: {code(node.log_path, PATH_LIMIT) if node.log_path else 'DLF gives no log path'}"
        for node in failed[:NODES_PER_PAGE]
    ]
    more = [context(f"…and {len(failed) - NODES_PER_PAGE} more failed nodes.")] if len(failed) > NODES_PER_PAGE else []
    return Message(
        text=f"{instance.job_name}: logs of the failed nodes",
        blocks=[section(f"{head}: logs of the failed nodes"), section("\n".join(lines)), *more],
    )


__all__ = ["NODES_PER_PAGE", "render_logs", "render_nodes"]
