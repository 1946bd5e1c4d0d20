"""The command surface as a new user meets it, through signed requests to the running bot: a mention that does not
start with the bot's name is still a command, and a subcommand the parser knows but this version does not do yet
says so plainly (and changes nothing) instead of showing help or crashing."""

from __future__ import annotations

from typing import Any

import pytest
from botwire import CHANNEL, USER, running_bot

from slack_fake import FakeSlack


async def test_a_mention_anywhere_in_the_message_is_a_command(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        bot.fake.messages[CHANNEL] = [{"type": "message", "ts": "1700000000.000400", "text": "x", "user": USER}]
        await bot.event(
            {
                "type": "app_mention",
                "channel": CHANNEL,
                "user": USER,
                "ts": "1700000000.000400",
                "text": "hey <@U0FAKEBOT> instance job_batch 34765",
            }
        )
        (reply,) = await bot.fake.wait_for_calls("chat.postMessage", count=1, timeout=15)
        assert reply.params.get("thread_ts") == "1700000000.000400"
        assert "34765" in str(reply.params.get("text"))
        assert "not a /dlf subcommand" not in str(reply.params)


@pytest.mark.parametrize("text", ["mute job_batch 4h", "unmute job_batch", "watch job_batch --escalate 30m"])
async def test_a_subcommand_not_active_yet_says_so_and_changes_nothing(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str, text: str
) -> None:
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        ack = await bot.command(text, "r1")
        assert ack.status_code == 200
        (answer,) = await bot.fake.wait_for_responses("r1", timeout=15)
        assert "does not do it yet" in answer["text"] and "Nothing was changed" in answer["text"]
        assert "reference" not in answer["text"]
        assert bot.dlf.sandbox.calls.count("show_job") == 0  # a watch checks the job first: nothing asked
