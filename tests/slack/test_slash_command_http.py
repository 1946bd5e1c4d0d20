"""`/dlf` over HTTP: signed requests through the real Bolt app, cards on the fake response_url, DLF in the sandbox."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botwire import USER, BotUnderTest, button_value, running_bot

from bot.render.actions import INSTANCE_REFRESH, INSTANCE_SHARE
from bot.render.limits import problems
from dlf_sandbox import SANDBOX_CREDENTIALS


async def test_instance_command_acks_first_then_the_card_arrives(bot: BotUnderTest) -> None:
    bot.dlf.sandbox.faults.latency_ms = 1500  # DLF is slow: the ack must not wait for it
    response = await bot.command("instance job_batch 34765", "r1")
    assert response.status_code == 200
    assert response.text == ""  # an empty ack: Slack shows no timeout error
    assert bot.fake.responses_for("r1") == []  # ordering: acknowledged before the card exists

    (card,) = await bot.fake.wait_for_responses("r1")
    assert card["response_type"] == "ephemeral"
    assert "job_batch" in card["text"] and "34765" in card["text"]
    assert problems(card) == []
    assert bot.dlf.sandbox.calls.count("show_instance") == 1


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="unsigned"),
        pytest.param({"secret": "not-the-signing-secret"}, id="wrong-signature"),
        pytest.param({"timestamp": int(time.time()) - 600}, id="stale-timestamp"),
    ],
)
async def test_unverified_requests_get_401_and_reach_nothing(bot: BotUnderTest, headers: dict) -> None:
    body = bot.command_body("instance job_batch 34765", "r1")
    sent = {} if not headers else bot.signed_headers(body, **headers)
    sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
    response = await bot.http.post(f"{bot.url}/slack/events", content=body, headers=sent)
    assert response.status_code == 401
    assert len(bot.dlf.sandbox.calls) == 0
    assert bot.fake.calls == []


async def test_tampered_body_is_refused(bot: BotUnderTest) -> None:
    body = bot.command_body("instance job_batch 34765", "r1")
    headers = bot.signed_headers(body)
    tampered = body.replace("34765", "34766")
    response = await bot.http.post(f"{bot.url}/slack/events", content=tampered, headers=headers)
    assert response.status_code == 401
    assert len(bot.dlf.sandbox.calls) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("instance job_batch abc", "not a number"),
        ("instance a/b 1", "slash"),
        ("instance %2F 1", "%"),
        ("instnace job_batch 34765", "instance"),
        ("instance job_batch", "needs an instance id"),
    ],
)
async def test_bad_input_is_answered_in_the_ack_and_nothing_goes_to_dlf(
    bot: BotUnderTest, text: str, expected: str
) -> None:
    response = await bot.command(text, "r1")
    assert response.status_code == 200
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    assert expected in answer["text"] + str(answer["blocks"])
    assert problems(answer) == []
    assert len(bot.dlf.sandbox.calls) == 0


async def test_help_alone_and_by_topic(bot: BotUnderTest) -> None:
    overview = (await bot.command("", "r1")).json()
    for subcommand in ("instance", "watch", "unwatch", "watches"):
        assert subcommand in str(overview["blocks"])
    assert problems(overview) == []
    topic = (await bot.command("help instance", "r1")).json()
    assert "instance" in topic["text"] + str(topic["blocks"])
    assert len(bot.dlf.sandbox.calls) == 0


async def _one_line(bot: BotUnderTest, text: str, response_id: str) -> dict:
    assert (await bot.command(text, response_id)).status_code == 200
    (answer,) = await bot.fake.wait_for_responses(response_id)
    assert problems(answer) == []
    assert answer["response_type"] == "ephemeral"
    return answer


async def test_instance_not_found(bot: BotUnderTest) -> None:
    answer = await _one_line(bot, "instance job_batch 999999", "r1")
    assert "999999" in answer["text"]


async def test_job_not_found(bot: BotUnderTest) -> None:
    answer = await _one_line(bot, "instance no_such_job 1", "r1")
    assert "no_such_job" in answer["text"]


async def test_dlf_failures_get_one_clear_line_each_and_leak_nothing(bot: BotUnderTest) -> None:
    faults = bot.dlf.sandbox.faults
    faults.throttle(n=10, retry_after=0.01)
    throttled = await _one_line(bot, "instance job_batch 34765", "throttled")
    faults.clear()
    faults.server_error(n=10, status=503)
    down = await _one_line(bot, "instance job_batch 34765", "down")
    faults.clear()
    faults.malformed(n=10, kind="not_json")
    malformed = await _one_line(bot, "instance job_batch 34765", "malformed")
    faults.clear()
    answers = {"throttled": throttled, "down": down, "malformed": malformed}
    assert len({answer["text"] for answer in answers.values()}) == 3  # each failure has its own explanation
    assert "throttl" in throttled["text"].lower() or "too many" in throttled["text"].lower()
    for answer in answers.values():
        assert "\n" not in answer["text"]
        assert SANDBOX_CREDENTIALS.sk not in str(answer)
    # the card is still there for the asking once DLF recovers
    card = await _one_line(bot, "instance job_batch 34765", "recovered")
    assert "34765" in card["text"]


async def test_bad_credentials(sandbox: Any, fake_slack: Any) -> None:
    async with running_bot(sandbox, fake_slack, sk="wrong-secret-key-value") as bot:
        answer = await _one_line(bot, "instance job_batch 34765", "r1")
    assert "wrong-secret-key-value" not in str(answer)
    assert "credential" in answer["text"].lower()


async def test_refresh_replaces_the_card(bot: BotUnderTest) -> None:
    await bot.command("instance etl_orders_daily 40001", "r1")
    (card,) = await bot.fake.wait_for_responses("r1")
    value = button_value(card, INSTANCE_REFRESH)

    response = await bot.click(INSTANCE_REFRESH, value, "r2")
    assert response.status_code == 200
    (refreshed,) = await bot.fake.wait_for_responses("r2")
    assert refreshed["replace_original"] is True
    assert "etl_orders_daily" in refreshed["text"]
    assert problems(refreshed) == []
    assert bot.dlf.sandbox.calls.count("show_instance") == 2


async def test_refresh_never_overwrites_a_message_in_the_channel(bot: BotUnderTest) -> None:
    # an alert card or a shared card: its Refresh answers the clicker privately and leaves the message alone
    await bot.command("instance job_batch 34765", "r1")
    (card,) = await bot.fake.wait_for_responses("r1")
    await bot.click(INSTANCE_REFRESH, button_value(card, INSTANCE_REFRESH), "r2", ephemeral=False)
    (answer,) = await bot.fake.wait_for_responses("r2")
    assert answer["replace_original"] is False
    assert answer["response_type"] == "ephemeral"
    assert "job_batch" in answer["text"]
    button_value(answer, INSTANCE_SHARE)  # the private copy can be shared


async def test_refresh_failure_keeps_the_card_and_says_why(bot: BotUnderTest) -> None:
    await bot.command("instance job_batch 34765", "r1")
    (card,) = await bot.fake.wait_for_responses("r1")
    bot.dlf.sandbox.faults.server_error(n=10, status=503)
    await bot.click(INSTANCE_REFRESH, button_value(card, INSTANCE_REFRESH), "r2")
    (answer,) = await bot.fake.wait_for_responses("r2")
    assert answer["replace_original"] is False
    assert answer["response_type"] == "ephemeral"


async def test_share_posts_in_channel_and_removes_the_private_card(bot: BotUnderTest) -> None:
    await bot.command("instance job_batch 34765", "r1")
    (card,) = await bot.fake.wait_for_responses("r1")
    await bot.click(INSTANCE_SHARE, button_value(card, INSTANCE_SHARE), "r2")
    shared, deleted = await bot.fake.wait_for_responses("r2", count=2)
    assert shared["response_type"] == "in_channel"
    assert shared["replace_original"] is False
    assert f"<@{USER}>" in str(shared["blocks"])  # says who shared it
    with pytest.raises(AssertionError):
        button_value(shared, INSTANCE_SHARE)  # a shared card has nothing left to share
    assert deleted["delete_original"] is True


async def test_forged_button_value_is_refused_without_a_dlf_call(bot: BotUnderTest) -> None:
    await bot.click(INSTANCE_REFRESH, '{"job": "..", "instance": 1}', "r1")
    (answer,) = await bot.fake.wait_for_responses("r1")
    assert answer["response_type"] == "ephemeral"
    assert len(bot.dlf.sandbox.calls) == 0


async def test_metrics_and_health(bot: BotUnderTest) -> None:
    await bot.command("instance job_batch abc", "r1")
    health = await bot.http.get(f"{bot.url}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    metrics = await bot.http.get(f"{bot.url}/metrics")
    assert 'dlf_bot_commands_total{outcome="usage",subcommand="invalid"} 1.0' in metrics.text
