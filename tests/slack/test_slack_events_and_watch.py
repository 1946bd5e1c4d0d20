"""Mentions, the App Home, subscription commands on a real store, and what happens when things go wrong."""

from __future__ import annotations

import asyncio
from typing import Any

from botwire import CHANNEL, USER, BotUnderTest, running_bot

from bot.dlf.models import Instance
from bot.render.limits import problems
from slack_fake import BOT_USER_ID, FakeSlack


async def test_mention_in_a_thread_answers_in_that_thread(bot: BotUnderTest) -> None:
    event = {
        "type": "app_mention",
        "user": USER,
        "channel": CHANNEL,
        "ts": "1700000100.000200",
        "thread_ts": "1700000000.000100",
        "text": f"<@{BOT_USER_ID}> instance job_batch 34765",
        "event_ts": "1700000100.000200",
    }
    # Slack's thread exists in the fake so the reply can be filed under it.
    bot.fake.messages[CHANNEL] = [{"type": "message", "ts": "1700000000.000100", "text": "alert", "user": "U0X"}]
    assert (await bot.event(event)).status_code == 200
    (call,) = await bot.fake.wait_for_calls("chat.postMessage")
    assert call.outcome == "ok"
    assert call.params["thread_ts"] == "1700000000.000100"
    assert "job_batch" in call.params["text"]
    assert problems(call.params) == []


async def test_mention_with_bad_input_gets_the_usage_in_thread(bot: BotUnderTest) -> None:
    event = {
        "type": "app_mention",
        "user": USER,
        "channel": CHANNEL,
        "ts": "1700000200.000100",
        "text": f"<@{BOT_USER_ID}> instance job_batch",
        "event_ts": "1700000200.000100",
    }
    bot.fake.messages[CHANNEL] = [{"type": "message", "ts": "1700000200.000100", "text": "x", "user": USER}]
    await bot.event(event)
    (call,) = await bot.fake.wait_for_calls("chat.postMessage")
    assert call.params["thread_ts"] == "1700000200.000100"
    assert "needs an instance id" in call.params["text"]
    assert len(bot.dlf.sandbox.calls) == 0


async def test_app_home_shows_help(bot: BotUnderTest) -> None:
    await bot.event(
        {"type": "app_home_opened", "user": USER, "channel": "D0HOME", "tab": "home", "event_ts": "1700000300.000100"}
    )
    (call,) = await bot.fake.wait_for_calls("views.publish")
    assert call.params["user_id"] == USER
    assert call.params["view"]["type"] == "home"
    assert "watch" in str(call.params["view"]["blocks"])


async def test_watch_unwatch_watches_through_slack(sandbox: Any, fake_slack: FakeSlack, sqlite_url: str) -> None:
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        await bot.command("watch job_batch --mention <@U0ONCALL|oncall>", "w1")
        (subscribed,) = await bot.fake.wait_for_responses("w1")
        await bot.command("watch no_such_job", "w2")
        (refused,) = await bot.fake.wait_for_responses("w2")
        await bot.command("watches", "w3")
        (listed,) = await bot.fake.wait_for_responses("w3")
        await bot.command("unwatch job_batch", "w4")
        (removed,) = await bot.fake.wait_for_responses("w4")
    for answer in (subscribed, refused, listed, removed):
        assert answer["response_type"] == "ephemeral"
        assert problems(answer) == []
    assert "job_batch" in listed["text"] + str(listed["blocks"])
    assert "no_such_job" in refused["text"]
    assert subscribed["text"] != refused["text"]


async def test_watch_without_a_store_says_so(bot: BotUnderTest) -> None:
    await bot.command("watches", "w1")
    (answer,) = await bot.fake.wait_for_responses("w1")
    assert "not available" in answer["text"]


class _BrokenDlf:
    """A DLF client that fails in a way no DlfError describes (a bug), to exercise the error hook."""

    async def get_instance(self, job_name: str, instance_id: int) -> Instance:
        raise RuntimeError("bug: secret-ish detail that must stay in the log")


async def test_unexpected_errors_give_a_reference_and_stay_in_the_log(
    sandbox: Any, fake_slack: FakeSlack, caplog: Any
) -> None:
    async with running_bot(sandbox, fake_slack, instances=_BrokenDlf()) as bot:
        assert (await bot.command("instance job_batch 34765", "c1")).status_code == 200
        (answer,) = await bot.fake.wait_for_responses("c1")
    assert "secret-ish" not in str(answer)
    crash_logs = [record for record in caplog.records if getattr(record, "reference", None)]
    assert len(crash_logs) == 1 and crash_logs[0].exc_info is not None
    assert crash_logs[0].reference in answer["text"]  # the user can quote what the log holds


async def test_a_response_slack_refuses_is_logged_and_counted(sandbox: Any, caplog: Any) -> None:
    refusing = FakeSlack(validator=lambda message: ["everything is refused in this test"])
    async with refusing.serve(), running_bot(sandbox, refusing) as bot:
        await bot.command("instance job_batch 34765", "x1")
        await refusing.wait_for_calls("response_url")

        def logged() -> bool:
            return any("response_url failed: HTTP 400" in record.getMessage() for record in caplog.records)

        # The metric is counted when the response_url refuses; the log line follows the chat.postEphemeral fallback.
        for _ in range(250):
            metrics = (await bot.http.get(f"{bot.url}/metrics")).text
            if "dlf_bot_respond_failures_total 1.0" in metrics and logged():
                break
            await asyncio.sleep(0.02)
    assert "dlf_bot_respond_failures_total 1.0" in metrics
    assert logged()


async def test_an_unreachable_response_url_is_logged_not_a_crash(bot: BotUnderTest, caplog: Any) -> None:
    bot.fake.faults.reset("response_url", n=10)
    await bot.command("instance job_batch 34765", "x1")
    for _ in range(500):
        if "dlf_bot_respond_failures_total 1.0" in (await bot.http.get(f"{bot.url}/metrics")).text:
            break
        await asyncio.sleep(0.02)
    assert any("response_url failed" in record.getMessage() for record in caplog.records)
    assert not [record for record in caplog.records if getattr(record, "reference", None)]  # not treated as a bug
