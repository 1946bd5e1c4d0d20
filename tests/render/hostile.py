"""Hypothesis strategies for hostile DLF data: names from an alphabet of mrkdwn's special characters and mention
tokens, random and unknown statuses, missing or absurd times, 0 to 6,000 nodes."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from bot.dlf.models import INSTANCE_STATUSES, NODE_STATUSES, Instance

# Tokens that would mention, link or format if they reached mrkdwn raw.
INJECTED = (
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U024BE7LH>",
    "<!subteam^S0123ABC>",
    "<#C0123ABC>",
    "<https://evil.example|click me>",
    "<!date^1^{date}|x>",
)
ALPHABET = st.sampled_from(
    list("<>&*_~`|^!@#:;/.\\\n\t abcXYZ019-") + ["é", "节点", "任务", "😀", "👩‍💻", "\u200d", "&amp;", "\ud800"]
)
hostile_text = st.lists(ALPHABET | st.sampled_from(INJECTED), max_size=40).map("".join) | st.text(max_size=300)
long_names = st.integers(min_value=129, max_value=400).map(lambda n: ("<!channel>*_&`任务😀" * 40)[:n])
names = hostile_text | long_names
# DLF names the models accept (bot/dlf/identifiers.py refuses what no URL could name: empty and dot names).
job_names = names.filter(lambda name: name not in ("", ".", ".."))
times = (
    st.none()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.integers(min_value=1_500_000_000_000, max_value=1_800_000_000_000)
)
instance_statuses = st.sampled_from(INSTANCE_STATUSES) | hostile_text
node_statuses = st.sampled_from(NODE_STATUSES) | st.sampled_from(["unknown", "fail", "fail"]) | hostile_text


@st.composite
def node_bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {"nodeName": draw(names), "status": draw(node_statuses)}
    for key in ("startTime", "endTime", "planTime"):
        value = draw(times)
        if value is not None:
            body[key] = value
    for key, strategy in (
        ("type", names),
        ("logPath", names),
        ("retryTimes", st.integers(min_value=0, max_value=2**31)),
    ):
        if draw(st.booleans()):
            body[key] = draw(strategy)
    return body


@st.composite
def instances(draw: st.DrawFn, *, max_nodes: int = 6000) -> Instance:
    """An instance whose nodes repeat a few drawn templates (renamed) up to `max_nodes` nodes."""
    templates = draw(st.lists(node_bodies(), min_size=1, max_size=6))
    count = draw(st.integers(min_value=0, max_value=12) | st.integers(min_value=0, max_value=max_nodes))
    nodes = [
        {**templates[index % len(templates)], "nodeName": templates[index % len(templates)]["nodeName"] + f"#{index}"}
        for index in range(count)
    ]
    body: dict[str, Any] = {
        "jobName": draw(job_names),
        "instanceId": draw(st.integers(min_value=0, max_value=2**63 - 1)),
        "status": draw(instance_statuses),
        "nodes": nodes,
        "forceSuccess": draw(st.booleans()),
        "ignoreSuccess": draw(st.booleans()),
    }
    for key in ("planTime", "startTime", "endTime", "executeTime", "instanceType", "total"):
        value = draw(st.none() | st.integers(min_value=-(2**31), max_value=2**31) | times)
        if value is not None:
            body[key] = value
    return Instance.model_validate(body)


# Valid mention tokens use ids that never occur in INJECTED, so a test can tell a passed-through mention from a leak.
VALID_MENTIONS = ("<@UMENTION1>", "<@WMENTION2|bob>", "<!subteam^SMENTION3|@oncall>")
mentions = st.sampled_from(VALID_MENTIONS) | hostile_text
