"""App Home through signed events and clicks: the open incidents of the channels of the subscriptions the user
created, and those subscriptions, each with a button opening its channel; Refresh reads it again (SQLite, and
PostgreSQL where configured)."""

from __future__ import annotations

import json
from typing import Any

from botwire import USER, running_bot

from bot.render.actions import HOME_OPEN, HOME_REFRESH, HOME_UNWATCH
from bot.render.limits import problems
from bot.store import Store
from slack_fake import FakeSlack


async def seed(url: str) -> None:
    store = await Store.open(url)
    try:
        async with store.transaction() as tx:
            for channel, target in (("C0DATA", "job_batch"), ("C0ETL", "etl_*"), ("C0DATA", "report_sales_hourly")):
                await tx.subscriptions.subscribe(
                    channel=channel, profile="default", target=target, created_by=USER, is_pattern="*" in target
                )
            await tx.subscriptions.subscribe(channel="C0OTHER", profile="default", target="x_job", created_by="U0BOB")
            opened, _ = await tx.incidents.open_or_get(
                channel="C0DATA", profile="default", job_name="job_batch", instance_id=34765, root_key="alert:1"
            )
            acked, _ = await tx.incidents.open_or_get(
                channel="C0ETL", profile="default", job_name="etl_orders", instance_id=40001, root_key="alert:2"
            )
            await tx.incidents.try_acknowledge(acked.id, by="U0CAROL")
            done, _ = await tx.incidents.open_or_get(
                channel="C0DATA", profile="default", job_name="report_sales_hourly", instance_id=40010, root_key="a:3"
            )
            await tx.incidents.try_resolve(done.id, by=USER, reason="manual")
            await tx.incidents.open_or_get(
                channel="C0OTHER", profile="default", job_name="x_job", instance_id=9, root_key="alert:4"
            )
    finally:
        await store.aclose()


def sections(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]


async def open_home(bot: Any) -> dict[str, Any]:
    await bot.event({"type": "app_home_opened", "user": USER, "channel": "D0HOME", "tab": "home", "event_ts": "1.2"})
    (call,) = await bot.fake.wait_for_calls("views.publish")
    assert call.params["user_id"] == USER
    return dict(call.params["view"])


def unwatch_values(view: dict[str, Any]) -> list[str]:
    return [
        str(b["accessory"]["value"]) for b in view["blocks"] if b.get("accessory", {}).get("action_id") == HOME_UNWATCH
    ]


def validate(view: dict[str, Any]) -> None:
    # A Home view has no fallback text; the rest of the message rules hold for its blocks.
    assert problems({"text": "home", "blocks": view["blocks"]}) == []


async def test_home_shows_the_users_incidents_and_subscriptions_with_their_buttons(
    sandbox: Any, fake_slack: FakeSlack, migrated_database_url: str
) -> None:
    await seed(migrated_database_url)
    async with running_bot(sandbox, fake_slack, database_url=migrated_database_url) as bot:
        view = await open_home(bot)
    validate(view)
    texts = sections(view)
    incidents = [t for t in texts if "latest instance" in t]
    assert len(incidents) == 2  # resolved ones and other people's channels are not shown
    assert incidents[0].startswith("<#C0ETL> · :eyes: *acknowledged* by <@U0CAROL> · job `etl_orders` · 1 failure")
    assert incidents[1].startswith("<#C0DATA> · :red_circle: *open* · job `job_batch` · 1 failure")
    subscriptions = [t for t in texts if "when it fails" in t]
    assert [t.split(" · ")[0] for t in subscriptions] == [
        "<#C0DATA> job `job_batch`",
        "<#C0ETL> every job matching `etl_*`",
        "<#C0DATA> job `report_sales_hourly`",
    ]
    assert "x_job" not in json.dumps(view)
    links = [b["accessory"]["url"] for b in view["blocks"] if b.get("accessory", {}).get("action_id") == HOME_OPEN]
    assert links == ["https://slack.com/app_redirect?channel=C0ETL", "https://slack.com/app_redirect?channel=C0DATA"]
    assert len(unwatch_values(view)) == 3  # one per subscription
    assert "watch" in json.dumps(view)  # the help overview follows


async def test_refresh_reads_the_home_again_for_the_clicking_user(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        first = await open_home(bot)
        assert "You have not set up any" in json.dumps(first)
        await seed(sqlite_url)
        await bot.click(HOME_REFRESH, "refresh", "h1", ephemeral=False)
        calls = await bot.fake.wait_for_calls("views.publish", count=2)
    refreshed = calls[1].params["view"]
    validate(refreshed)
    assert calls[1].params["user_id"] == USER
    assert "job_batch" in json.dumps(refreshed) and "You have not set up any" not in json.dumps(refreshed)


async def test_the_open_channel_link_click_is_acknowledged_and_does_nothing(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        response = await bot.click(HOME_OPEN, "", "h1", ephemeral=False)
    assert response.status_code == 200
    assert [c.method for c in fake_slack.calls if c.method != "auth.test"] == []


async def test_home_without_a_store_still_shows_what_the_bot_does(sandbox: Any, fake_slack: FakeSlack) -> None:
    async with running_bot(sandbox, fake_slack) as bot:
        view = await open_home(bot)
    validate(view)
    assert "Your subscriptions" not in json.dumps(view) and "watch" in json.dumps(view)


async def test_unwatch_on_home_removes_the_users_own_subscription_audited(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    await seed(sqlite_url)
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        first = await open_home(bot)
        value = unwatch_values(first)[0]
        await bot.click(HOME_UNWATCH, value, "h1", ephemeral=False)
        calls = await bot.fake.wait_for_calls("views.publish", count=2)
    after = calls[1].params["view"]
    validate(after)
    subscriptions = [t for t in sections(after) if "when it fails" in t]
    assert [t.split(" · ")[0] for t in subscriptions] == [
        "<#C0ETL> every job matching `etl_*`",
        "<#C0DATA> job `report_sales_hourly`",
    ]
    store = await Store.open(sqlite_url)
    try:
        async with store.transaction() as tx:
            remaining = [s.target for s in await tx.subscriptions.list_for_channel("C0DATA")]
            entry = (await tx.audit.recent())[0]
    finally:
        await store.aclose()
    assert remaining == ["report_sales_hourly"]
    assert (entry.actor, entry.action, entry.channel, entry.target, entry.outcome) == (
        USER,
        "unwatch",
        "C0DATA",
        "job_batch",
        "ok",
    )


async def test_unwatch_with_a_forged_value_removes_nothing_and_is_audited(
    sandbox: Any, fake_slack: FakeSlack, sqlite_url: str
) -> None:
    await seed(sqlite_url)
    store = await Store.open(sqlite_url)
    try:
        async with store.transaction() as tx:
            (others,) = await tx.subscriptions.list_for_channel("C0OTHER")
    finally:
        await store.aclose()
    async with running_bot(sandbox, fake_slack, database_url=sqlite_url) as bot:
        await bot.click(HOME_UNWATCH, str(others.id), "h1", ephemeral=False)
        await bot.click(HOME_UNWATCH, "1; DROP TABLE subscriptions", "h2", ephemeral=False)
        await bot.fake.wait_for_calls("views.publish", count=2)
    store = await Store.open(sqlite_url)
    try:
        async with store.transaction() as tx:
            still = await tx.subscriptions.list_for_channel("C0OTHER")
            entries = await tx.audit.recent()
    finally:
        await store.aclose()
    assert [s.id for s in still] == [others.id]
    (refused,) = [e for e in entries if e.outcome == "refused"]
    assert (refused.actor, refused.channel, refused.target) == (USER, "C0OTHER", "x_job")
    assert refused.details == {"via": "home", "subscription_id": others.id, "reason": "created by someone else"}
