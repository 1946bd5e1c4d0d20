"""An answer whose response_url fails: tried once more on 5xx or a network error, then sent with chat.postEphemeral;
when even that fails, the log says which command's answer was lost (never the response_url itself)."""

from __future__ import annotations

import asyncio
import logging

import pytest
from botwire import CHANNEL, USER, BotUnderTest

from bot.render.limits import problems


async def _ephemeral_answer(bot: BotUnderTest, timeout: float = 15.0) -> dict:
    await bot.fake.wait_for_calls("chat.postEphemeral", timeout=timeout)
    (answer,) = bot.fake.ephemerals
    return answer


def _response_url_outcomes(bot: BotUnderTest, response_id: str) -> list[str]:
    return [c.outcome for c in bot.fake.calls_to("response_url") if c.params.get("response_id") == response_id]


async def test_a_response_url_that_answers_404_is_not_retried_and_the_card_arrives_privately(
    bot: BotUnderTest,
) -> None:
    bot.fake.faults.server_error("response_url", n=5, status=404)

    await bot.command("instance job_batch 34765", "r1")
    answer = await _ephemeral_answer(bot)

    assert (answer["channel"], answer["user"]) == (CHANNEL, USER)
    assert "job_batch" in answer["text"] and "34765" in answer["text"]
    assert problems({"text": answer["text"], "blocks": answer["blocks"]}) == []
    assert _response_url_outcomes(bot, "r1") == ["http:404"]


async def test_a_response_url_that_fails_once_with_500_gets_the_card_on_the_second_try(bot: BotUnderTest) -> None:
    bot.fake.faults.server_error("response_url", n=1, status=500)

    await bot.command("instance job_batch 34765", "r1")
    (card,) = await bot.fake.wait_for_responses("r1", timeout=15)

    assert "34765" in card["text"]
    assert _response_url_outcomes(bot, "r1") == ["http:500", "ok"]
    assert bot.fake.ephemerals == []


# slack_sdk's webhook client retries a reset connection once by itself: each of our two tries is two resets.
@pytest.mark.parametrize(("fault", "n"), [("server_error", 2), ("reset", 4)])
async def test_a_response_url_down_twice_falls_back_to_chat_post_ephemeral(
    bot: BotUnderTest, fault: str, n: int
) -> None:
    getattr(bot.fake.faults, fault)("response_url", n=n)

    await bot.command("instance job_batch 34765", "r1")
    answer = await _ephemeral_answer(bot)

    assert "34765" in answer["text"]
    assert len(_response_url_outcomes(bot, "r1")) == n


async def test_when_the_fallback_fails_too_the_lost_answer_is_logged_without_the_response_url(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
) -> None:
    bot.fake.faults.server_error("response_url", n=5, status=404)
    bot.fake.faults.channel_error(CHANNEL, "channel_not_found")

    with caplog.at_level(logging.INFO):
        await bot.command("instance job_batch 34765", "r1")
        await bot.fake.wait_for_calls("chat.postEphemeral", timeout=15)
        for _ in range(100):
            if any(r.levelno == logging.ERROR for r in caplog.records):
                break
            await asyncio.sleep(0.05)

    (lost,) = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert "/dlf instance" in lost and "channel_not_found" in lost and "HTTP 404" in lost
    assert bot.fake.response_url("r1") not in caplog.text
