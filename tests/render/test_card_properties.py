"""Property tests: any instance DLF could send renders to a message Slack accepts, with nothing untrusted unescaped
and no node silently dropped."""

from __future__ import annotations

import re
from collections.abc import Iterable

from hostile import INJECTED, hostile_text, instances, job_names, mentions, names, times
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.dlf.models import Instance, InstanceSummary
from bot.errors import (
    DlfError,
    DlfNotFound,
    DlfRequestRejected,
    DlfThrottled,
    UnknownSubcommand,
)
from bot.render.alert import (
    render_alert,
    render_follow_outcome,
    render_recovery,
    render_repeat_failure,
)
from bot.render.digest import render_digest
from bot.render.errors import render_command_error, render_crash, render_dlf_error
from bot.render.help import render_help
from bot.render.instance_card import (
    CARD_TEXT_BUDGET,
    JOB_IN_TEXT,
    NODE_IN_DETAIL,
    NODE_IN_LIST,
    render_instance,
)
from bot.render.limits import problems, total_text
from bot.render.message import Message
from bot.render.mrkdwn import code, one_line, valid_mentions
from bot.render.watches import (
    SubscriptionView,
    render_subscribed,
    render_unsubscribed,
    render_watches,
)

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
    assert_safe(message)
    assert total_text(message) <= CARD_TEXT_BUDGET
    # The job name survives escaped, or cut with "…", in the notification text.
    assert message.text.startswith(one_line(instance.job_name or "(unnamed job)", JOB_IN_TEXT) + " instance ")
    # Every node is either shown or counted in an "…and N more".
    shown, hidden = shown_and_hidden_nodes(message, instance)
    assert shown + hidden == len(instance.nodes)
    # The header is plain_text and names the instance.
    assert f"· instance {instance.instance_id} ·" in message.blocks[0]["text"]["text"]


def assert_safe(message: Message, mentioned: Iterable[str | None] = ()) -> None:
    """Valid for Slack, and no injected token from untrusted text reaches mrkdwn raw — except well-formed mention
    tokens the caller passed as mentions, which pass through by design."""
    assert problems(message) == []
    allowed = set(valid_mentions([token for token in mentioned if token is not None], limit=10**6))
    for text in mrkdwn_texts(message):
        for token in INJECTED:
            if token not in allowed:
                assert token not in text


summaries = st.builds(
    InstanceSummary,
    job_name=job_names,
    instance_id=st.integers(min_value=0, max_value=2**63 - 1),
    status=st.just("fail"),
    end_time=times,
)
subscriptions = st.builds(
    SubscriptionView,
    target=names,
    is_pattern=st.booleans(),
    instance_id=st.none() | st.integers(min_value=0, max_value=2**63 - 1),
    events=st.lists(st.sampled_from(["failure", "running-exception", "success"]) | hostile_text, max_size=4).map(tuple),
    mention=st.none() | mentions,
    state=st.sampled_from(["active", "broken"]) | hostile_text,
    broken_reason=st.none() | st.sampled_from(["not_in_channel", "is_archived"]) | hostile_text,
    profile=st.none() | names,
)


@PROPERTY_SETTINGS
@given(
    instance=instances(max_nodes=400),
    mention_tokens=st.lists(mentions, max_size=12),
    failure_count=st.integers(min_value=1, max_value=10**6),
    state=st.sampled_from(["open", "acknowledged", "resolved"]) | hostile_text,
    event=st.sampled_from(["failure", "running-exception"]) | hostile_text,
    resolved_by=st.none() | summaries,
)
def test_watcher_messages_about_any_instance_are_valid_and_safe(
    instance: Instance,
    mention_tokens: list[str],
    failure_count: int,
    state: str,
    event: str,
    resolved_by: InstanceSummary | None,
) -> None:
    now_ms = 1764141000000
    assert_safe(
        render_alert(
            instance,
            now_ms=now_ms,
            profile="prod",
            mentions=mention_tokens,
            event=event,
            failure_count=failure_count,
            state=state,
            resolved_by=resolved_by,
        ),
        mention_tokens,
    )
    assert_safe(
        render_repeat_failure(instance, failure_count=failure_count, now_ms=now_ms, mentions=mention_tokens),
        mention_tokens,
    )
    assert_safe(render_follow_outcome(instance, now_ms=now_ms, mentions=mention_tokens), mention_tokens)
    if resolved_by is not None:
        assert_safe(render_recovery(resolved_by, failed_instance_id=instance.instance_id, reason=state, now_ms=now_ms))


@PROPERTY_SETTINGS
@given(failures=st.lists(summaries, max_size=300), mention_tokens=st.lists(mentions, max_size=5))
def test_any_digest_is_valid_and_safe(failures: list[InstanceSummary], mention_tokens: list[str]) -> None:
    message = render_digest(failures, now_ms=1764141000000, mentions=mention_tokens)
    assert_safe(message, mention_tokens)
    assert message.blocks[0]["text"]["text"].startswith(f":rotating_light: {len(failures):,} failure")


@PROPERTY_SETTINGS
@given(subs=st.lists(subscriptions, max_size=120), already=st.booleans(), removed=st.booleans())
def test_any_subscription_message_is_valid_and_safe(subs: list[SubscriptionView], already: bool, removed: bool) -> None:
    assert_safe(render_watches(subs), [sub.mention for sub in subs])
    for sub in subs[:3]:
        assert_safe(render_subscribed(sub, already=already), [sub.mention])
        assert_safe(
            render_unsubscribed(sub.target, is_pattern=sub.is_pattern, instance_id=sub.instance_id, removed=removed)
        )


@PROPERTY_SETTINGS
@given(
    message=hostile_text,
    usage_text=st.none() | hostile_text,
    suggestion=st.none() | st.sampled_from(["watch", "instance"]),
    job=st.none() | names,
    instance_id=st.none() | st.integers(min_value=0, max_value=2**63 - 1),
    code_=st.none() | hostile_text,
    request_id=st.none() | hostile_text,
    retry_after=st.none() | st.floats(allow_nan=True, allow_infinity=True),
    topic=st.none() | hostile_text,
)
def test_any_error_or_help_message_is_valid_and_safe(
    message: str,
    usage_text: str | None,
    suggestion: str | None,
    job: str | None,
    instance_id: int | None,
    code_: str | None,
    request_id: str | None,
    retry_after: float | None,
    topic: str | None,
) -> None:
    assert_safe(render_command_error(UnknownSubcommand(message, word=message, suggestion=suggestion, usage=usage_text)))
    details = {"code": code_, "request_id": request_id, "status_code": 400}
    for err in (
        DlfNotFound(message, kind="instance", **details),
        DlfNotFound(message, kind="job", **details),
        DlfThrottled(message, retry_after=retry_after, **details),
        DlfRequestRejected(message, **details),
        DlfError(message, **details),
    ):
        assert_safe(render_dlf_error(err, job=job, instance_id=instance_id))
    assert_safe(render_crash(message or "x"))
    assert_safe(render_help(topic))
