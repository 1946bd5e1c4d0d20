"""`/dlf audit` over HTTP: operators only (named or by user group, checked with the fake Slack), the channel's
entries newest first and paged, from a real store (SQLite, and PostgreSQL where configured)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botwire import BOT_TOKEN, CHANNEL, USER, running_bot

from bot.render.actions import AUDIT_PAGE, decode_list_page
from bot.render.limits import problems
from bot.services.operators import Operators
from bot.slack.web_client import build_web_client
from bot.store import Store
from slack_fake import FakeSlack

ONCALL = "S0ONCALL"


def operators(fake: FakeSlack, *ids: str) -> Operators:
    assert fake.base_url is not None
    return Operators(everywhere=ids, slack=build_web_client(token=BOT_TOKEN, base_url=fake.base_url))


def text_of(message: dict[str, Any]) -> str:
    return message["text"] + "\n" + json.dumps(message["blocks"], ensure_ascii=False)


def older_value(message: dict[str, Any]) -> str | None:
    for block in message["blocks"]:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["action_id"] == AUDIT_PAGE:
                return str(element["value"])
    return None


async def test_without_operators_configured_the_answer_says_how_to_enable_them(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        await bot.command("audit", "a1")
        (answer,) = await bot.fake.wait_for_responses("a1")
    assert "none are configured for this channel" in text_of(answer)
    assert "DLF_BOT_OPERATORS" in text_of(answer) and "`channels:`" in text_of(answer)
    assert problems(answer) == []


async def test_a_non_operator_is_told_who_may(sandbox: Any, fake_slack: FakeSlack, sqlite_url: str) -> None:
    fake_slack.seed_usergroup(ONCALL, ["U0BOB"])
    async with running_bot(
        sandbox, fake_slack, database_url=sqlite_url, operators=operators(fake_slack, "U0BOSS", ONCALL)
    ) as bot:
        await bot.command("audit", "a1")
        (answer,) = await bot.fake.wait_for_responses("a1")
    assert (
        "Only the bot's operators may read the audit trail in this channel: <@U0BOSS>, <!subteam^S0ONCALL>"
        in text_of(answer)
    )
    assert problems(answer) == []


async def test_a_group_slack_cannot_read_refuses_and_says_so(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    async with running_bot(
        sandbox, fake_slack, database_url=sqlite_url, operators=operators(fake_slack, "S0UNKNOWN")
    ) as bot:
        await bot.command("audit", "a1")
        (answer,) = await bot.fake.wait_for_responses("a1")
    assert "could not check the user group <!subteam^S0UNKNOWN>" in text_of(answer)


async def test_an_operator_by_user_group_sees_the_channels_watch_and_unwatch_newest_first(
    sandbox: Any, fake_slack: FakeSlack, migrated_database_url: str
) -> None:
    fake_slack.seed_usergroup(ONCALL, [USER])
    async with running_bot(
        sandbox, fake_slack, database_url=migrated_database_url, operators=operators(fake_slack, ONCALL)
    ) as bot:
        await bot.command("watch job_batch", "w1")
        await bot.fake.wait_for_responses("w1")
        await bot.command("unwatch job_batch", "w2")
        await bot.fake.wait_for_responses("w2")
        store = await Store.open(migrated_database_url)
        try:
            async with store.transaction() as tx:  # another channel's entry is not this channel's business
                await tx.audit.record(actor="U0BOB", action="watch", channel="C0OTHER", target="job_batch")
        finally:
            await store.aclose()
        await bot.command("audit job_batch --since 1h", "a1")
        (answer,) = await bot.fake.wait_for_responses("a1")
    assert problems(answer) == []
    rows = [b["text"]["text"] for b in answer["blocks"] if b["type"] == "section"]
    assert len(rows) == 2
    assert f"<@{USER}> · *unwatch* · `job_batch` · :white_check_mark: ok" in rows[0]
    assert f"<@{USER}> · *watch* · `job_batch` · :white_check_mark: ok" in rows[1]
    assert "profile `default`" in rows[1]  # the details, escaped in code spans
    assert "C0OTHER" not in text_of(answer) and "U0BOB" not in text_of(answer)
    assert older_value(answer) is None


async def test_the_audit_pages_by_the_last_entry_shown(sandbox: Any, fake_slack: FakeSlack, sqlite_url: str) -> None:
    store = await Store.open(sqlite_url)
    try:
        async with store.transaction() as tx:
            for n in range(20):
                await tx.audit.record(
                    actor=USER, action="ack", channel=CHANNEL, target=f"job_{n:02d}", outcome="ok", details={"n": n}
                )
    finally:
        await store.aclose()
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url, operators=operators(fake_slack, USER)) as bot:
        await bot.command("audit", "a1")
        (first,) = await bot.fake.wait_for_responses("a1")
        value = older_value(first)
        assert value is not None and decode_list_page(value).page == 1
        await bot.click(AUDIT_PAGE, value, "a2")
        (second,) = await bot.fake.wait_for_responses("a2")
    targets = [json.dumps(b) for b in first["blocks"] if b["type"] == "section"]
    assert len(targets) == 15 and "job_19" in targets[0] and "job_05" in targets[-1]
    rest = [json.dumps(b) for b in second["blocks"] if b["type"] == "section"]
    assert len(rest) == 5 and "job_04" in rest[0] and "job_00" in rest[-1]
    assert second["replace_original"] is True and older_value(second) is None
    assert "entries 16–20" in text_of(second)


async def test_a_forged_older_value_is_refused(sandbox: Any, fake_slack: FakeSlack, sqlite_url: str) -> None:
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url, operators=operators(fake_slack, USER)) as bot:
        for n, value in enumerate(
            [{"page": 1, "since": 0, "job": "../x", "before": 5}, {"page": 1, "since": 0}, "junk"]
        ):
            await bot.click(AUDIT_PAGE, value if isinstance(value, str) else json.dumps(value), f"f{n}")
            (answer,) = await bot.fake.wait_for_responses(f"f{n}")
            assert "belongs to a card the bot can no longer read" in answer["text"]


async def test_a_non_operator_clicking_older_is_refused_too(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    async with running_bot(
        sandbox, fake_slack, database_url=sqlite_url, operators=operators(fake_slack, "U0BOSS")
    ) as bot:
        await bot.click(AUDIT_PAGE, json.dumps({"page": 1, "since": 0, "before": 99}), "a1")
        (answer,) = await bot.fake.wait_for_responses("a1")
    assert "Only the bot's operators may read the audit trail" in text_of(answer)


@pytest.mark.parametrize(("text", "expected"), [("audit --since 100d", "90"), ("audit a/b", "slash")])
async def test_bad_input_says_how_to_write_it(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str, text: str, expected: str
) -> None:
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        answer = (await bot.command(text, "a1")).json()
    assert expected in text_of(answer) and "/dlf audit" in text_of(answer)


async def test_a_mention_in_the_channel_does_not_post_the_audit_for_everyone(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url, operators=operators(fake_slack, USER)) as bot:
        await bot.event(
            {"type": "app_mention", "user": USER, "channel": CHANNEL, "text": "<@U0FAKEBOT> audit", "ts": "1.000100"}
        )
        (call,) = await bot.fake.wait_for_calls("chat.postMessage")
    assert "type `/dlf audit`" in call.params["text"]
    assert "Audit trail" not in json.dumps(call.params.get("blocks"))


async def test_the_details_read_as_words_times_as_dates_and_values_escaped(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url, operators=operators(fake_slack, USER)) as bot:
        for n, text in enumerate(["watch job_batch --escalate 2m", "mute job_batch 4h", "unmute job_batch"]):
            await bot.command(text, f"c{n}")
            await bot.fake.wait_for_responses(f"c{n}")
        store = await Store.open(sqlite_url)
        try:
            async with store.transaction() as tx:
                await tx.audit.record(
                    actor=USER, action="rerun", channel=CHANNEL, target="job_batch", details={"reply": "<!here> `x`"}
                )
        finally:
            await store.aclose()
        await bot.command("audit", "a1")
        (answer,) = await bot.fake.wait_for_responses("a1")
    assert problems(answer) == []
    rerun, unmute, mute, watch = [b["text"]["text"].split("\n")[1] for b in answer["blocks"] if b["type"] == "section"]
    assert "reminder after 2 min unacknowledged" in watch and "new subscription" in watch
    assert "escalate_after_s" not in watch and "True" not in watch
    assert mute.startswith("via `slash` · profile `default` · until <!date^") and "|20" in mute
    assert unmute == "via `slash` · profile `default` · held back 0 · was muted"
    assert rerun == "reply `&lt;!here&gt; ˋxˋ`"  # untrusted: escaped in its code span
