"""The instance card: golden files per fixture, and the behaviours users rely on, asserted directly."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from render_fixtures import (
    FIXTURE_NAMES,
    NOW_MS,
    check_golden,
    fixture_body,
    load_instance,
)

from bot.dlf.models import Instance
from bot.render.actions import INSTANCE_REFRESH, INSTANCE_SHARE, decode_instance_ref
from bot.render.instance_card import CARD_TEXT_BUDGET, render_instance
from bot.render.limits import problems, total_text


def all_text(blocks: list[dict]) -> str:
    """Every text in the blocks, joined (for "is it shown" assertions)."""
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("text"), str):
                found.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(blocks)
    return "\n".join(found)


def buttons(blocks: list[dict]) -> dict[str, dict]:
    return {
        element["action_id"]: element for block in blocks if block["type"] == "actions" for element in block["elements"]
    }


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_card_matches_golden_and_is_valid(name: str) -> None:
    message = render_instance(load_instance(name), now_ms=NOW_MS, profile="prod")
    assert problems(message) == []
    assert total_text(message) <= CARD_TEXT_BUDGET
    check_golden(f"instance_{name}", message.to_dict())


def test_seed_instance_card_reads_right() -> None:
    message = render_instance(load_instance("seed"), now_ms=NOW_MS)
    header = message.blocks[0]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": ":x: job_batch · instance 34765 · failed", "emoji": True},
    }
    assert message.text == "job_batch instance 34765 failed"
    text = all_text(message.blocks)
    # Times as date tokens: each reader sees their own time zone.
    assert "*Planned*\n<!date^1551425326^{date_short_pretty} {time}|2019-03-01 07:28 UTC>" in text
    # Duration from start/end (60 s), not executeTime (1 ms) — and the disagreement is shown.
    assert "*Duration*\n1m 0s" in text
    assert "executeTime says 1 ms" in text
    # Status fail with no failed node: a plain sentence instead of an empty list.
    assert "DLF reports this instance failed, but none of its nodes failed" in text
    assert "*2 nodes:* 2 succeeded" in text


def test_failed_nodes_come_first_with_type_retries_timing_and_log() -> None:
    message = render_instance(load_instance("failed_nodes"), now_ms=NOW_MS)
    sections = [block["text"]["text"] for block in message.blocks if block["type"] == "section" and "text" in block]
    assert sections[0].startswith("*12 nodes:* 10 succeeded, 1 failed, 1 skipped")
    failed = sections[1]
    assert failed.startswith(":x: *`merge_customers`* failed · `DWS SQL`")
    assert "retries: 3" in failed
    assert "ran 1m 0s" in failed
    assert "log: `obs://dlf-log/job_nightly_dws/2025-11-26 07_00_00.000/merge_customers/error.job`" in failed
    assert sections[2].startswith("*Other nodes*\n:fast_forward: `publish_marts` · skipped")
    assert "*Scheduled as*\nbackfill" in all_text(message.blocks)
    assert message.text == "job_nightly_dws instance 775533 failed: 1 of 12 nodes failed"


def test_running_instance_shows_progress_and_time_so_far() -> None:
    message = render_instance(load_instance("running"), now_ms=NOW_MS)
    text = all_text(message.blocks)
    assert message.blocks[0]["text"]["text"] == ":arrows_counterclockwise: etl_orders_daily · instance 880001 · running"
    assert "Progress: 7 of 12 nodes finished" in text
    assert "*Ended*\nstill running" in text
    assert "*Duration*\n9m 58s so far" in text
    assert "`load_dws` · running · `DWS SQL` · 9m 10s so far" in text


def test_succeeded_instance_has_no_failure_wording() -> None:
    message = render_instance(load_instance("succeeded"), now_ms=NOW_MS)
    text = all_text(message.blocks)
    assert message.blocks[0]["text"]["text"].startswith(":white_check_mark: report_weekly")
    assert "*Duration*\n2h 3m" in text
    assert "executeTime" not in text  # it agrees with the times, so nothing to point out
    assert "*Scheduled as*\nmanual" in text
    assert "failed" not in text


def test_unknown_status_and_type_are_shown_verbatim_with_a_neutral_emoji() -> None:
    message = render_instance(load_instance("unknown_status"), now_ms=NOW_MS)
    text = all_text(message.blocks)
    assert (
        message.blocks[0]["text"]["text"]
        == ":grey_question: job_from_the_future · instance 4242 · quantum-superposition"
    )
    assert "*Scheduled as*\ntype 9" in text
    assert "*Operator override*\nforced to success, failure ignored" in text
    assert "1 `entangled`" in text
    assert message.text == "job_from_the_future instance 4242 quantum-superposition: 1 of 2 nodes failed"


def test_zero_nodes_and_missing_times() -> None:
    empty_fail = all_text(render_instance(load_instance("zero_nodes_failed"), now_ms=NOW_MS).blocks)
    assert "DLF reports this instance failed, but it lists no nodes" in empty_fail
    waiting = render_instance(load_instance("missing_times"), now_ms=NOW_MS)
    text = all_text(waiting.blocks)
    assert "*Planned*\n—" in text and "*Started*\nnot started" in text and "*Duration*\n—" in text
    assert problems(waiting) == []


def test_five_thousand_nodes_fit_and_say_how_many_are_hidden() -> None:
    instance = load_instance("large_5000_nodes")
    assert len(instance.nodes) == 5000
    message = render_instance(instance, now_ms=NOW_MS)
    assert problems(message) == []
    assert len(message.blocks) <= 50
    text = all_text(message.blocks)
    counts = Counter(node.status for node in instance.nodes)
    assert counts["fail"] > 8  # more than the card details: the rest must be counted, not dropped
    assert (
        f"*5,000 nodes:* {counts['success']:,} succeeded, {counts['fail']} failed, {counts['skip']:,} skipped" in text
    )
    assert "more failed nodes" in text and "more nodes" in text


def test_hostile_names_are_escaped_or_cut_never_raw() -> None:
    body = fixture_body("hostile_names")
    message = render_instance(Instance.model_validate(body), now_ms=NOW_MS)
    assert problems(message) == []
    mrkdwn = [
        obj["text"]
        for block in message.blocks
        for obj in [block.get("text"), *block.get("fields", []), *block.get("elements", [])]
        if isinstance(obj, dict) and obj.get("type") == "mrkdwn"
    ]
    joined = "\n".join([*mrkdwn, message.text])
    assert "`tick`" not in joined  # a backtick in a name cannot open or close a code span
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U024BE7LH>", "<https://evil.example|click>", "<b>"):
        assert raw not in joined
    assert "&lt;!channel&gt;" in message.text
    # The header is plain_text (never parsed for mentions) and within its 150 characters, cut with "…".
    header = message.blocks[0]["text"]["text"]
    assert len(header) <= 150 and "…" in header and header.endswith("· instance 9223372036854775807 · failed")


def test_refresh_and_share_buttons_carry_the_instance() -> None:
    message = render_instance(load_instance("seed"), now_ms=NOW_MS, profile="prod")
    found = buttons(message.blocks)
    assert set(found) == {INSTANCE_REFRESH, INSTANCE_SHARE}
    ref = decode_instance_ref(found[INSTANCE_REFRESH]["value"])
    assert (ref.job, ref.instance_id, ref.profile) == ("job_batch", 34765, "prod")
    shared = render_instance(load_instance("seed"), now_ms=NOW_MS, shareable=False, shared_by="<@U123ABC>")
    assert set(buttons(shared.blocks)) == {INSTANCE_REFRESH}
    assert "shared by <@U123ABC>" in all_text(shared.blocks)


def test_a_job_name_too_long_for_a_button_value_drops_the_buttons_not_the_card() -> None:
    body = json.loads(json.dumps(fixture_body("seed")))
    body["jobName"] = "j" * 2500
    message = render_instance(Instance.model_validate(body), now_ms=NOW_MS)
    assert problems(message) == []
    assert buttons(message.blocks) == {}
