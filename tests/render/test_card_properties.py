"""Property tests: any instance DLF could send renders to a message Slack accepts, with nothing untrusted unescaped
and no node silently dropped."""

from __future__ import annotations

import re

from hostile import INJECTED, instances
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.dlf.models import Instance
from bot.render.instance_card import CARD_TEXT_BUDGET, NODE_IN_DETAIL, NODE_IN_LIST, JOB_IN_TEXT, render_instance
from bot.render.limits import problems, total_text
from bot.render.message import Message
from bot.render.mrkdwn import code, one_line

PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_DETAIL = re.compile(r"^:x: \*(`[^`]*`|_\(empty\)_)\* failed")
_LINE = re.compile(r"^:[a-z_]+: (`[^`]*`|_\(empty\)_)")
_MORE = re.compile(r"^…and ([\d,]+) more")


def mrkdwn_texts(message: Message) -> list[str]:
    texts = [message.text]
    for block in message.blocks:
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]:
            if isinstance(obj, dict) and obj.get("type") == "mrkdwn":
                texts.append(obj["text"])
    return texts


def shown_and_hidden_nodes(message: Message, instance: Instance) -> tuple[int, int]:
    """Count nodes the card shows (checking each shown name is one of the instance's) and nodes it says it hides."""
    detail_forms = {code(node.node_name, NODE_IN_DETAIL) for node in instance.nodes}
    line_forms = {code(node.node_name, NODE_IN_LIST) for node in instance.nodes}
    shown = hidden = 0
    node_blocks = [block for block in message.blocks[3:] if block["type"] == "section"]
    for block in node_blocks:
        for line in block["text"]["text"].split("\n"):
            if detail := _DETAIL.match(line):
                assert detail.group(1) in detail_forms
                shown += 1
            elif more := _MORE.match(line):
                hidden += int(more.group(1).replace(",", ""))
            elif entry := _LINE.match(line):
                assert entry.group(1) in line_forms
                shown += 1
    return shown, hidden


@PROPERTY_SETTINGS
@given(instance=instances(), now_ms=st.integers(min_value=0, max_value=2**62), profile=st.none() | st.text(max_size=80))
def test_any_instance_renders_a_valid_safe_complete_card(instance: Instance, now_ms: int, profile: str | None) -> None:
    message = render_instance(instance, now_ms=now_ms, profile=profile)
    assert problems(message) == []
    assert total_text(message) <= CARD_TEXT_BUDGET
    for text in mrkdwn_texts(message):
        for token in INJECTED:
            assert token not in text
    # The job name survives escaped, or cut with "…", in the notification text.
    assert message.text.startswith(one_line(instance.job_name or "(unnamed job)", JOB_IN_TEXT) + " instance ")
    # Every node is either shown or counted in an "…and N more".
    shown, hidden = shown_and_hidden_nodes(message, instance)
    assert shown + hidden == len(instance.nodes)
    # The header is plain_text and names the instance.
    assert f"· instance {instance.instance_id} ·" in message.blocks[0]["text"]["text"]
