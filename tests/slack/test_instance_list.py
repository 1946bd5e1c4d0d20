"""`/dlf instances` over HTTP: signed slash commands and clicks through the real app, DLF in the sandbox."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botwire import BotUnderTest

from bot.render.actions import INSTANCES_OPEN, INSTANCES_PAGE, decode_instance_ref, decode_list_page
from bot.render.limits import problems

JOB = "hourly_etl"
MINUTE_MS = 60_000


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def now_ms() -> int:
    return int(time.time() * 1000)


def seed_instances(bot: BotUnderTest, count: int, *, job: str = JOB) -> list[int]:
    """`count` instances of `job`, one every 10 minutes back from now: every third failed. Newest first."""
    state = bot.dlf.sandbox.state
    state.add_job(job)
    now = now_ms()
    ids = []
    for k in range(count):
        plan = now - (k + 1) * 10 * MINUTE_MS
        status = "fail" if k % 3 == 0 else "success"
        ids.append(state.add_instance(job, status=status, plan_time=plan, at=plan + 5 * MINUTE_MS))
    return ids


def open_buttons(message: dict[str, Any]) -> list[int]:
    """The instance ids of the Open buttons, top to bottom."""
    return [
        decode_instance_ref(block["accessory"]["value"]).instance_id
        for block in message["blocks"]
        if block.get("accessory", {}).get("action_id") == INSTANCES_OPEN
    ]


def page_button(message: dict[str, Any], which: str) -> str | None:
    for block in message["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["action_id"] == f"{INSTANCES_PAGE}.{which}":
                return str(element["value"])
    return None


async def test_the_jobs_instances_newest_first_paged_with_an_open_button_each(bot: BotUnderTest) -> None:
    ids = seed_instances(bot, 23)
    response = await bot.command(f"instances {JOB} --since 6h", "r1")
    assert response.status_code == 200 and response.text == ""
    (first,) = await bot.fake.wait_for_responses("r1")
    assert first["response_type"] == "ephemeral" and problems(first) == []
    assert open_buttons(first) == ids[:10]
    summary = dumps(first["blocks"][1])
    assert "23 instances planned since" in summary and "1–10 shown" in summary
    assert ":x: *failed*" in dumps(first["blocks"][2]) and "· ran 1m 0s" in dumps(first["blocks"][2])
    assert page_button(first, "newer") is None
    assert bot.dlf.sandbox.calls.count("list_instances") == 1
    (call,) = [c for c in bot.dlf.sandbox.calls if c.operation == "list_instances"]
    assert call.query["jobName"] == JOB and call.query["preciseQuery"] == "true"

    older = page_button(first, "older")
    assert older is not None
    await bot.click(f"{INSTANCES_PAGE}.older", older, "r2")
    (second,) = await bot.fake.wait_for_responses("r2")
    assert second["replace_original"] is True  # the private list turns its page
    assert open_buttons(second) == ids[10:20]
    assert "11–20 shown" in dumps(second["blocks"][1])
    last_value = page_button(second, "older")
    assert last_value is not None and page_button(second, "newer") is not None

    await bot.click(f"{INSTANCES_PAGE}.older", last_value, "r3")
    (third,) = await bot.fake.wait_for_responses("r3")
    assert open_buttons(third) == ids[20:]
    assert page_button(third, "older") is None
    newer = page_button(third, "newer")
    assert newer is not None and decode_list_page(newer).page == 1


async def test_a_later_instance_does_not_shift_the_pages(bot: BotUnderTest) -> None:
    ids = seed_instances(bot, 12)
    await bot.command(f"instances {JOB} --since 6h", "r1")
    (first,) = await bot.fake.wait_for_responses("r1")
    bot.dlf.sandbox.state.add_instance(JOB, status="running", plan_time=now_ms())  # after the list was made
    older = page_button(first, "older")
    assert older is not None
    await bot.click(f"{INSTANCES_PAGE}.older", older, "r2")
    (second,) = await bot.fake.wait_for_responses("r2")
    assert open_buttons(second) == ids[10:]


async def test_open_shows_the_instances_card_privately_below_the_list(bot: BotUnderTest) -> None:
    ids = seed_instances(bot, 3)
    await bot.command(f"instances {JOB}", "r1")
    (listing,) = await bot.fake.wait_for_responses("r1")
    value = next(b["accessory"]["value"] for b in listing["blocks"] if "accessory" in b)
    await bot.click(INSTANCES_OPEN, value, "r2")
    (card,) = await bot.fake.wait_for_responses("r2")
    assert card["response_type"] == "ephemeral" and card["replace_original"] is False
    assert f"instance {ids[0]}" in card["text"] and problems(card) == []
    assert bot.dlf.sandbox.calls.count("show_instance") == 1


async def test_status_filter_keeps_only_those_instances(bot: BotUnderTest) -> None:
    ids = seed_instances(bot, 9)
    await bot.command(f"instances {JOB} --status fail --since 6h", "r1")
    (listing,) = await bot.fake.wait_for_responses("r1")
    assert open_buttons(listing) == [ids[0], ids[3], ids[6]]
    assert "3 failed instances planned since" in dumps(listing["blocks"])
    (call,) = [c for c in bot.dlf.sandbox.calls if c.operation == "list_instances"]
    assert call.query["status"] == "fail"


async def test_a_job_without_instances_in_the_window_says_how_to_look_further(bot: BotUnderTest) -> None:
    bot.dlf.sandbox.state.add_job("quiet_job")
    await bot.command("instances quiet_job --since 1h", "r1")
    (answer,) = await bot.fake.wait_for_responses("r1")
    assert "No instances of job `quiet_job` planned since" in answer["blocks"][0]["text"]["text"]
    assert answer["blocks"][1]["elements"][0]["text"] == "`--since 2h` looks further back (at most 7 days)."
    assert problems(answer) == []


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("--status fail --since 6h", "`--since 12h` looks further back (at most 7 days)."),  # fail given: not again
        ("--since 2d", "`--since 4d` looks further back (at most 7 days)."),  # twice the window
        ("--since 4d", "`--since 7d` looks further back (at most 7 days)."),  # twice would pass DLF's 7 days
        ("--status running --since 7d", None),  # nothing further back, and a status was given: no hint
        ("--since 7d", None),  # no instances at all: `--status fail` would narrow nothing
    ],
)
async def test_the_hint_of_an_empty_list_follows_what_was_typed(
    bot: BotUnderTest, typed: str, hint: str | None
) -> None:
    bot.dlf.sandbox.state.add_job("quiet_job")
    await bot.command(f"instances quiet_job {typed}", "r1")
    (answer,) = await bot.fake.wait_for_responses("r1")
    hints = [b["elements"][0]["text"] for b in answer["blocks"] if b["type"] == "context"]
    assert hints == ([hint] if hint else [])
    assert "--since 2d" not in dumps(answer["blocks"]) or typed == "--since 2d"


async def test_an_unknown_job_gets_the_same_answer_as_slash_instance(bot: BotUnderTest) -> None:
    await bot.command("instances no_such_job", "r1")
    (answer,) = await bot.fake.wait_for_responses("r1")
    assert "DLF has no job named `no_such_job`" in answer["text"]


async def test_dlf_throttling_is_one_clear_line(bot: BotUnderTest) -> None:
    seed_instances(bot, 2)
    bot.dlf.sandbox.faults.throttle(n=10, retry_after=0.01)
    await bot.command(f"instances {JOB}", "r1")
    (answer,) = await bot.fake.wait_for_responses("r1")
    assert "DLF is throttling requests right now" in answer["text"] and problems(answer) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("instances", "needs a job name"),
        ("instances a/b", "slash"),
        ("instances job_batch --since 8d", "7 days"),
        ("instances job_batch --status broken", "--status"),
    ],
)
async def test_bad_input_says_how_to_write_it_and_asks_dlf_nothing(bot: BotUnderTest, text: str, expected: str) -> None:
    answer = (await bot.command(text, "r1")).json()
    assert expected in answer["text"] + dumps(answer["blocks"])
    assert "/dlf instances" in dumps(answer["blocks"])  # the usage
    assert len(bot.dlf.sandbox.calls) == 0


@pytest.mark.parametrize(
    "value",
    [
        pytest.param('{"job":"../../jobs","instance":1}', id="path-job"),
        pytest.param(json.dumps({"job": "j" * 1900, "instance": 1}), id="long-job"),
        pytest.param('{"job":"job_batch","instance":0}', id="zero-id"),
        pytest.param("not json", id="junk"),
    ],
)
async def test_a_forged_open_value_is_refused_before_dlf(bot: BotUnderTest, value: str) -> None:
    await bot.click(INSTANCES_OPEN, value, "r1")
    (answer,) = await bot.fake.wait_for_responses("r1")
    assert "belongs to a card the bot can no longer read" in answer["text"]
    assert len(bot.dlf.sandbox.calls) == 0


@pytest.mark.parametrize(
    "value",
    [
        pytest.param({"page": 1, "since": 0, "until": 1, "job": "../x"}, id="path-job"),
        pytest.param({"page": 1, "since": 0, "until": 8 * 86_400_000, "job": "job_batch"}, id="window-too-long"),
        pytest.param({"page": 1, "since": 0, "until": 1, "job": "job_batch", "status": "any"}, id="odd-status"),
        pytest.param({"page": -1, "since": 0, "until": 1, "job": "job_batch"}, id="negative-page"),
        pytest.param({"page": 1, "since": 0, "job": "job_batch"}, id="no-end"),
    ],
)
async def test_a_forged_page_value_is_refused_before_dlf(bot: BotUnderTest, value: dict[str, Any]) -> None:
    await bot.click(f"{INSTANCES_PAGE}.older", json.dumps(value), "r1")
    (answer,) = await bot.fake.wait_for_responses("r1")
    assert "belongs to a card the bot can no longer read" in answer["text"]
    assert len(bot.dlf.sandbox.calls) == 0
