"""A request Slack delivers twice is handled once: an Events API retry by its event_id (across replicas, through the
store), a replayed slash command or button click by its signature. A repeat the user makes is a new request."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from botwire import CHANNEL, USER, BotUnderTest, running_bot
from prometheus_client import generate_latest

from bot.render.actions import INSTANCE_REFRESH, InstanceRef, encode_instance_ref
from slack_fake import FakeSlack

MENTION = {
    "type": "app_mention",
    "channel": CHANNEL,
    "user": USER,
    "ts": "1700000000.000300",
    "text": "<@U0FAKEBOT> instance job_batch 34765",
}


def _thread(bot: BotUnderTest) -> None:
    bot.fake.messages[CHANNEL] = [{"type": "message", "ts": MENTION["ts"], "text": "x", "user": USER}]


async def _answers_settle(bot: BotUnderTest, method: str, count: int) -> list[Any]:
    """Wait for `count` calls of `method`, then for the bot to have finished with everything it was given (a
    further, unexpected answer would be on its way by then: the check of the request key comes before any work)."""
    calls = await bot.fake.wait_for_calls(method, count=count, timeout=15)
    probe = f"probe-{time.monotonic_ns()}"
    await bot.command("instance job_batch 34765", probe)
    await bot.fake.wait_for_responses(probe, timeout=15)
    return calls


async def _counted(bot: BotUnderTest, sample: str, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while sample not in generate_latest(bot.registry).decode():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_an_event_redelivered_by_slack_is_answered_once(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        _thread(bot)
        first = await bot.event(MENTION, event_id="Ev0REDELIVERED1")
        # Slack's retries carry the same event_id, a new signature and X-Slack-Retry-Num.
        retries = [await bot.event(MENTION, event_id="Ev0REDELIVERED1", retry=n) for n in (1, 2, 3)]
        assert {r.status_code for r in [first, *retries]} == {200}
        await _answers_settle(bot, "chat.postMessage", 1)
        assert len(bot.fake.calls_to("chat.postMessage")) == 1
        assert bot.dlf.sandbox.calls.count("show_instance") == 2  # the mention's and the probe's
        # Each retry is recognised (and counted) once its key check returns; they run after the ack, in any order.
        assert await _counted(bot, 'dlf_bot_redeliveries_total{kind="event"} 3.0')
        assert len(bot.fake.calls_to("chat.postMessage")) == 1
        # Another event (its own id) is answered as usual.
        await bot.event(MENTION)
        await bot.fake.wait_for_calls("chat.postMessage", count=2, timeout=15)


async def test_a_redelivery_reaching_another_replica_is_recognised(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    async with (
        running_bot(sandbox, fake_slack, database_url=sqlite_url) as one,
        running_bot(sandbox, fake_slack, database_url=sqlite_url) as other,
    ):
        _thread(one)
        # Both replicas receive the event at once (the first delivery timed out at Slack's end while being handled).
        await asyncio.gather(
            one.event(MENTION, event_id="Ev0TWOREPLICAS"), other.event(MENTION, event_id="Ev0TWOREPLICAS", retry=1)
        )
        await _answers_settle(one, "chat.postMessage", 1)
        await _answers_settle(other, "chat.postMessage", 1)
        assert len(fake_slack.calls_to("chat.postMessage")) == 1


async def test_a_replayed_slash_command_is_handled_once(bot_with_store: BotUnderTest) -> None:
    bot = bot_with_store
    body = bot.command_body("instance job_batch 34765", "replayed")
    headers = bot.signed_headers(body)
    # The same signed request twice within the signature's window: a replay (Slack never retries a command).
    for _ in range(2):
        assert (await bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)).status_code == 200
    probe = f"probe-{time.monotonic_ns()}"
    await bot.command("instance job_batch 34765", probe)
    await bot.fake.wait_for_responses(probe, timeout=15)
    assert len(bot.fake.responses_for("replayed")) == 1
    assert bot.dlf.sandbox.calls.count("show_instance") == 2  # the command's and the probe's


async def test_a_command_sent_again_is_a_new_request_and_answered_again(bot_with_store: BotUnderTest) -> None:
    bot = bot_with_store
    # The user types it again (or Slack's client resubmits): a new signature, even with the same fields.
    stamp = int(time.time())
    await bot.command("instance job_batch 34765", "again", timestamp=stamp)
    await bot.fake.wait_for_responses("again", timeout=15)
    await bot.command("instance job_batch 34765", "again", timestamp=stamp - 1)
    await bot.fake.wait_for_responses("again", count=2, timeout=15)


async def test_a_replayed_button_click_is_handled_once_and_a_double_click_twice(bot_with_store: BotUnderTest) -> None:
    bot = bot_with_store
    value = encode_instance_ref(InstanceRef(job="job_batch", instance_id=34765))
    assert value is not None
    payload = {
        "type": "block_actions",
        "user": {"id": USER},
        "team": {"id": "T0FAKE"},
        "api_app_id": "A0DLFBOT",
        "container": {
            "type": "message",
            "message_ts": "1700000000.000100",
            "channel_id": CHANNEL,
            "is_ephemeral": True,
        },
        "channel": {"id": CHANNEL},
        "trigger_id": "1.2.3",
        "response_url": bot.fake.response_url("clicked"),
        "actions": [
            {
                "action_id": INSTANCE_REFRESH,
                "block_id": "b1",
                "value": value,
                "type": "button",
                "action_ts": "1700000001.000000",
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)})
    headers = bot.signed_headers(body)
    for _ in range(2):
        assert (await bot.http.post(f"{bot.url}/slack/events", content=body, headers=headers)).status_code == 200
    await bot.fake.wait_for_responses("clicked", timeout=15)
    # A double click is two requests from Slack (each its own trigger_id and action_ts, so its own signature): both
    # are handled here; making an action itself idempotent is the action's business (issue 8: a key per action in
    # the same request_keys table).
    for n in (2, 3):
        payload["trigger_id"] = f"1.2.{n}"
        payload["actions"][0]["action_ts"] = f"170000000{n}.000000"  # type: ignore[index]
        clicked = urlencode({"payload": json.dumps(payload)})
        await bot.http.post(f"{bot.url}/slack/events", content=clicked, headers=bot.signed_headers(clicked))
    await bot.fake.wait_for_responses("clicked", count=3, timeout=15)
    probe = f"probe-{time.monotonic_ns()}"
    await bot.command("instance job_batch 34765", probe)
    await bot.fake.wait_for_responses(probe, timeout=15)
    assert len(bot.fake.responses_for("clicked")) == 3


@pytest.fixture
async def bot_with_store(sandbox: Any, fake_slack: FakeSlack, sqlite_url: str) -> Any:
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        yield bot
