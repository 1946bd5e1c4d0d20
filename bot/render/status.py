"""How DLF's status values read in Slack: an emoji and a word for each known value, the value itself otherwise.

DLF adds status values over time, so an unknown one is never an error: it is shown verbatim with a neutral emoji.
"""

from __future__ import annotations

from dataclasses import dataclass

NEUTRAL_EMOJI = ":grey_question:"


@dataclass(frozen=True)
class StatusLook:
    """How one status value is shown; `known` is False for values DLF's documentation does not list."""

    emoji: str
    word: str
    known: bool = True


_INSTANCE = {
    "success": StatusLook(":white_check_mark:", "succeeded"),
    "fail": StatusLook(":x:", "failed"),
    "running": StatusLook(":arrows_counterclockwise:", "running"),
    "waiting": StatusLook(":hourglass_flowing_sand:", "waiting"),
    "running-exception": StatusLook(":warning:", "running with an exception"),
    "pause": StatusLook(":double_vertical_bar:", "paused"),
    "manual-stop": StatusLook(":black_square_for_stop:", "stopped manually"),
    "forceSuccess": StatusLook(":heavy_check_mark:", "forced to success"),
    "ignoreSuccess": StatusLook(":heavy_minus_sign:", "failure ignored"),
    "freeze": StatusLook(":snowflake:", "frozen"),
    "skip-by-depend": StatusLook(":fast_forward:", "skipped by a dependency"),
    "waiting-confirm": StatusLook(":raised_hand:", "waiting for confirmation"),
}

_NODE = {
    "success": StatusLook(":white_check_mark:", "succeeded"),
    "fail": StatusLook(":x:", "failed"),
    "running": StatusLook(":arrows_counterclockwise:", "running"),
    "waiting": StatusLook(":hourglass_flowing_sand:", "waiting"),
    "skip": StatusLook(":fast_forward:", "skipped"),
    "pause": StatusLook(":double_vertical_bar:", "paused"),
    "manual-stop": StatusLook(":black_square_for_stop:", "stopped"),
}

# Order of node statuses in summaries and lists: what needs attention first, what went well last.
NODE_ORDER = ("fail", "running", "pause", "manual-stop", "waiting", "skip", "success")
# Order of node statuses in the summary line ("12 nodes: 10 succeeded, 1 failed, 1 skipped"); unknown ones last.
SUMMARY_ORDER = ("success", "fail", "skip", "running", "waiting", "pause", "manual-stop")
# Node statuses that mean the node will not change any more (progress of a running instance).
FINISHED_NODE_STATUSES = frozenset({"success", "fail", "skip", "manual-stop"})
# Instance statuses during which the clock is still running.
RUNNING_INSTANCE_STATUSES = frozenset({"running", "running-exception"})


def instance_look(status: str) -> StatusLook:
    """Emoji and word for an instance status (unknown values verbatim)."""
    return _INSTANCE.get(status) or StatusLook(NEUTRAL_EMOJI, status, known=False)


def node_look(status: str) -> StatusLook:
    """Emoji and word for a node status (unknown values verbatim)."""
    return _NODE.get(status) or StatusLook(NEUTRAL_EMOJI, status, known=False)


def node_rank(status: str) -> int:
    """Sort key: known statuses in `NODE_ORDER`, unknown ones after the attention-needing ones, before `skip`."""
    if status in NODE_ORDER:
        return NODE_ORDER.index(status) * 2
    return NODE_ORDER.index("waiting") * 2 + 1
