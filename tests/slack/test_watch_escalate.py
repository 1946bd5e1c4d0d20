"""`/dlf watch job --escalate 30m` / `--escalate off`, through signed Slack requests: stored on the subscription
(what the poll cycle uses when the job's next incident opens), said in the answer and in `/dlf watches`."""

from __future__ import annotations

from typing import Any

from botwire import CHANNEL, running_bot

from bot.render.limits import problems
from bot.store import Store
from slack_fake import FakeSlack


async def test_watch_escalate_is_stored_and_said(sandbox: Any, fake_slack: FakeSlack, sqlite_url: str) -> None:
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        await bot.command("watch job_batch --escalate 30m", "e1")
        (thirty,) = await bot.fake.wait_for_responses("e1")
        await bot.command("watch job_batch --mention <@U0ONCALL|oncall>", "e2")  # a repeat keeps --escalate
        (kept,) = await bot.fake.wait_for_responses("e2")
        await bot.command("watch etl_orders_daily --escalate off", "e3")
        (off,) = await bot.fake.wait_for_responses("e3")
        await bot.command("watches", "e4")
        (listed,) = await bot.fake.wait_for_responses("e4")
    for answer in (thirty, kept, off, listed):
        assert problems(answer) == []
        assert "does not do it yet" not in answer["text"] + str(answer.get("blocks"))
    assert "reminder after 30 min unacknowledged" in str(thirty["blocks"])
    assert "reminder after 30 min unacknowledged" in str(kept["blocks"])
    assert "no escalation reminder" in str(off["blocks"])
    assert "reminder after 30 min unacknowledged" in str(listed["blocks"])
    store = await Store.open(sqlite_url)
    try:
        async with store.transaction() as tx:
            found = {s.target: s.escalate_after_s for s in await tx.subscriptions.list_for_channel(CHANNEL)}
    finally:
        await store.aclose()
    assert found == {"job_batch": 1800, "etl_orders_daily": 0}
