"""The command surface as a new user meets it, through signed requests to the running bot: a mention that does not
start with the bot's name is still a command, and a subcommand the parser knows but this version does not do yet
says so plainly (and changes nothing) instead of showing help or crashing."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import pytest
from botwire import CHANNEL, USER, running_bot

from bot.render.actions import INSTANCE_REFRESH
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


@pytest.mark.parametrize(
    "value",
    [
        '{"job": "../../jobs", "instance": 34765}',
        '{"job": "' + "j" * 1900 + '", "instance": 34765}',
        '{"job": "job_batch/../x", "instance": 34765}',
        '{"job": "job%2Fbatch", "instance": 34765}',
        '{"job": "job_batch", "instance": 34765, "profile": "../prod"}',
    ],
    ids=["dot-dot-path", "1900-characters", "slash", "url-encoded", "bad-profile"],
)
async def test_a_button_value_the_parser_would_refuse_never_reaches_dlf(bot: Any, value: str) -> None:
    await bot.click(INSTANCE_REFRESH, value, "r1")
    (answer,) = await bot.fake.wait_for_responses("r1", timeout=15)
    assert answer["response_type"] == "ephemeral" and "can no longer read" in answer["text"]
    assert "reference" not in answer["text"]
    assert len(bot.dlf.sandbox.calls) == 0


# A code span whose content draws nothing: what the user would see as "``".
_CODE_SPAN = re.compile(r"`([^`]*)`")
_DRAWS_NOTHING = re.compile(
    r"[\s\u00ad\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2060-\u2064\u2800\u3164\ufeff\uffa0]*"
)


@pytest.mark.parametrize(
    "text",
    [
        "\u200b\u200b",  # zero-width spaces
        "\u3164",  # a Hangul filler: a "letter" that draws nothing
        "\u2800 instance job_batch 34765",  # the braille blank
        "help \u200b",
        "instance \u200b 34765",
        "instance job_batch \u2060",
        "watch \u3164",
        "watch job_batch --mention \u200b",
        "watch job_batch --profile=",
    ],
)
async def test_invisible_or_empty_words_are_said_in_words_not_echoed_as_empty_code(bot: Any, text: str) -> None:
    answer = (await bot.command(text, "r1")).json()
    assert answer["response_type"] == "ephemeral"
    shown = [answer["text"]] + [block["text"]["text"] for block in answer["blocks"] if "text" in block]
    assert "invisible" in shown[0] or "⟨nothing⟩" in shown[0]
    for line in shown:
        assert not any(_DRAWS_NOTHING.fullmatch(span) for span in _CODE_SPAN.findall(line)), line
    assert len(bot.dlf.sandbox.calls) == 0


async def test_watches_with_a_profile_is_honoured_through_slack(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        await bot.command("watch job_batch", "r0")
        await bot.fake.wait_for_responses("r0", timeout=15)

        await bot.command("watches --profile default", "r1")
        (listed,) = await bot.fake.wait_for_responses("r1", timeout=15)
        assert "job_batch" in str(listed["blocks"]) and "of profile default" in listed["text"]

        await bot.command("watches --profile nope", "r2")
        (refused,) = await bot.fake.wait_for_responses("r2", timeout=15)
        assert "`nope` is not configured" in str(refused["blocks"]) and "`default`" in str(refused["blocks"])
        assert "job_batch" not in str(refused["blocks"])


async def test_watching_an_instance_that_ended_long_ago_says_how_it_ended(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        await bot.command("watch job_batch 34765", "r1")
        (answer,) = await bot.fake.wait_for_responses("r1", timeout=15)
        assert "has already ended" in str(answer["blocks"]) and "failed" in str(answer["blocks"])
        assert "you will hear" not in str(answer).lower() and "will hear how" not in str(answer)

        await bot.command("watches", "r2")
        (listed,) = await bot.fake.wait_for_responses("r2", timeout=15)
        assert "watches no DLF job yet" in listed["text"]  # no follow was made


def _mention(text: str) -> dict[str, Any]:
    return {"type": "app_mention", "channel": CHANNEL, "user": USER, "ts": "1700000000.000400", "text": text}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("hey <@U0FAKEBOT> instance job_batch 34765", "34765"), ("hey <@U0FAKEBOT> bogus", "not a /dlf subcommand")],
)
async def test_a_mention_whose_thread_reply_fails_still_answers_its_author(
    bot: Any, caplog: pytest.LogCaptureFixture, text: str, expected: str
) -> None:
    # The mention's message is not in the fake's history: a reply in its thread gets `thread_not_found`.
    caplog.set_level(logging.INFO)
    await bot.event(_mention(text))

    (private,) = await bot.fake.wait_for_calls("chat.postEphemeral", timeout=15)
    assert private.outcome == "ok" and private.params["user"] == USER and expected in private.params["text"]
    assert [call.outcome for call in bot.fake.calls_to("chat.postMessage")] == ["error:thread_not_found"]
    await asyncio.sleep(0.2)
    (line,) = [r for r in caplog.records if "could not go in its thread" in r.getMessage()]
    assert "thread_not_found" in line.getMessage() and line.exc_info is None and "\n" not in line.getMessage()
    assert not [r for r in caplog.records if "unsupported" in r.getMessage() or r.levelno >= logging.ERROR]


async def test_a_mention_answer_that_cannot_be_sent_anywhere_is_one_log_line(
    bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    bot.fake.faults.channel_error(CHANNEL, "not_in_channel")
    await bot.event(_mention("<@U0FAKEBOT> instance job_batch 34765"))

    await bot.fake.wait_for_calls("chat.postEphemeral", timeout=15)
    await asyncio.sleep(0.2)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None
    assert "was lost" in errors[0].getMessage() and "not_in_channel" in errors[0].getMessage()


async def test_a_crash_answering_a_mention_is_one_calm_line_in_its_thread(
    sandbox: Any, fake_slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        async def get_instance(self, job_name: str, instance_id: int) -> Any:
            raise RuntimeError("boom")

    async with running_bot(sandbox, fake_slack, instances=Broken()) as bot:
        bot.fake.messages[CHANNEL] = [{"type": "message", "ts": "1700000000.000400", "text": "x", "user": USER}]
        await bot.event(_mention("<@U0FAKEBOT> instance job_batch 34765"))
        (reply,) = await bot.fake.wait_for_calls("chat.postMessage", timeout=15)
        assert reply.outcome == "ok" and "reference" in reply.params["text"]
        assert reply.params.get("thread_ts") == "1700000000.000400"
    assert not [r for r in caplog.records if "unsupported" in r.getMessage()]


async def _watch_answer(bot: Any, text: str, response_id: str) -> dict[str, Any]:
    await bot.command(text, response_id)
    (answer,) = await bot.fake.wait_for_responses(response_id, timeout=15)
    return answer


async def test_the_readmes_mention_of_a_handle_typed_as_text_is_resolved_through_slack(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    fake_slack.add_user_group("S0ONCALL", "oncall", name="On-call")
    fake_slack.add_user_group("S0OLD", "retired", disabled=True)
    fake_slack.add_user("U0ALICE", "alice", display_name="Alice W")
    for number in range(450):  # more than two pages of users.list
        fake_slack.add_user(f"U{number:04d}X", f"user{number}", display_name=f"Person {number}")
    fake_slack.add_user("U0BOB", "bob.k", display_name="bobby")
    fake_slack.add_user("U0GONE", "gone", deleted=True)
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        group = await _watch_answer(bot, "watch 'etl_*' --mention @oncall", "r1")
        assert "<!subteam^S0ONCALL>" in str(group["blocks"])
        assert len(bot.fake.calls_to("usergroups.list")) == 1 and bot.fake.calls_to("users.list") == []

        by_display_name = await _watch_answer(bot, "watch job_batch --mention @Bobby", "r2")
        assert "<@U0BOB>" in str(by_display_name["blocks"])
        users_calls = len(bot.fake.calls_to("users.list"))
        assert users_calls == 3  # 453 people, 200 a page

        by_username = await _watch_answer(bot, "watch etl_orders_daily --mention @alice", "r3")
        assert "<@U0ALICE>" in str(by_username["blocks"])
        # Read once for the burst: the cache answered the third command.
        assert len(bot.fake.calls_to("users.list")) == users_calls and len(bot.fake.calls_to("usergroups.list")) == 1

        watches = await _watch_answer(bot, "watches", "r4")
        assert "<!subteam^S0ONCALL>" in str(watches["blocks"]) and "<@U0BOB>" in str(watches["blocks"])

        for handle in ("@nobody", "@retired", "@gone"):
            unknown = await _watch_answer(bot, f"watch job_batch --mention {handle}", f"r-{handle}")
            shown = str(unknown["blocks"])
            assert f"`{handle}` is not a user group" in shown and "&lt;@U…&gt;" in shown, shown
            assert "Nothing was changed" in shown

        watches = await _watch_answer(bot, "watches", "r5")
        assert "<@U0BOB>" in str(watches["blocks"])  # the refused re-watch left the mention as it was


async def test_a_handle_slack_cannot_look_up_is_refused_saying_why(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.faults.api_error("usergroups.list", "missing_scope")
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        answer = await _watch_answer(bot, "watch job_batch --mention @oncall", "r1")
        shown = str(answer["blocks"])
        assert "could not look `@oncall` up" in shown and "usergroups:read" in shown and "Nothing was changed" in shown
        watches = await _watch_answer(bot, "watches", "r2")
        assert "watches no DLF job yet" in watches["text"]
    (line,) = [r for r in caplog.records if "--mention handle" in r.getMessage()]
    assert "missing_scope" in line.getMessage() and line.exc_info is None


async def test_a_broadcast_is_never_a_subscriptions_mention(bot: Any) -> None:
    answer = (await bot.command("watch job_batch --mention @channel", "r1")).json()
    assert "notify everyone" in answer["text"]
    assert bot.fake.calls_to("usergroups.list") == [] and len(bot.dlf.sandbox.calls) == 0
