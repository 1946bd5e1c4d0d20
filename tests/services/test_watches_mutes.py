"""`/dlf watches` shows the channel's mutes and when they end, read from the store (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.commands.model import WatchCommand, WatchesCommand
from bot.render.limits import problems
from bot.services.subscriptions import ChannelWatches, SubscriptionService
from bot.slack.answers import subscription_message
from bot.store import Store

HOUR_MS = 3_600_000
NOW = 1_800_000_000_000


class _NoDlf:
    async def job_exists(self, job_name: str) -> bool:
        raise AssertionError("watches and patterns ask DLF nothing")

    async def get_instance(self, job_name: str, instance_id: int) -> Any:
        raise AssertionError("watches and patterns ask DLF nothing")


@pytest.fixture
async def store(migrated_database_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(migrated_database_url, clock=lambda: NOW)
    try:
        yield opened
    finally:
        await opened.aclose()


async def test_watches_lists_mutes_with_their_end_and_marks_ended_ones(store: Store) -> None:
    service = SubscriptionService(store=store, clients={"default": _NoDlf()})
    await service.watch(WatchCommand(target="etl_*", is_pattern=True), channel_id="C1", user_id="U1")
    async with store.transaction() as tx:
        await tx.mutes.mute(
            channel="C1", profile="default", job_name="etl_orders", until_at=NOW + 4 * HOUR_MS, by="U0BOB"
        )
        await tx.mutes.mute(channel="C1", profile="default", job_name="etl_forever", until_at=None, by="U0BOB")
        ended, _ = await tx.mutes.mute(
            channel="C1", profile="default", job_name="etl_old", until_at=NOW - HOUR_MS, by="U0CAROL"
        )
        await tx.mutes.count_suppressed(ended.id, 3)
        await tx.mutes.mute(channel="C2", profile="default", job_name="elsewhere", until_at=None, by="U0BOB")

    outcome = await service.handle(WatchesCommand(), channel_id="C1", user_id="U1", team_id=None)
    assert isinstance(outcome, ChannelWatches)
    assert [m.job_name for m in outcome.mutes] == ["etl_forever", "etl_old", "etl_orders"]
    message = subscription_message(outcome)
    assert problems(message) == []
    mutes = next(b["text"]["text"] for b in message.blocks if "Muted here" in b.get("text", {}).get("text", ""))
    assert mutes.splitlines() == [
        "*Muted here*",
        "• :mute: `etl_forever` muted until `/dlf unmute` by <@U0BOB>",
        (
            "• :speaker: `etl_old`: mute ended <!date^1799996400^{date_short_pretty} {time}|2027-01-15 07:00 UTC>"
            " by <@U0CAROL> · 3 failures held back — alerts are posted again"
        ),
        "• :mute: `etl_orders` muted until <!date^1800014400^{date_short_pretty} {time}|2027-01-15 12:00 UTC> by <@U0BOB>",
    ]
    assert message.text == "This channel has 1 DLF subscription, 2 jobs muted"


async def test_mutes_are_shown_even_without_subscriptions(store: Store) -> None:
    service = SubscriptionService(store=store, clients={"default": _NoDlf()})
    async with store.transaction() as tx:
        await tx.mutes.mute(channel="C1", profile="default", job_name="job_batch", until_at=None, by="U0BOB")
    message = subscription_message(await service.handle(WatchesCommand(), channel_id="C1", user_id="U1", team_id=None))
    assert "watches no DLF job yet" in message.blocks[0]["text"]["text"]
    assert "`job_batch` muted until `/dlf unmute`" in str(message.blocks)
