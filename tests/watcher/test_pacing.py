"""Each channel paced at Slack's rate through `channel_pace` (shared by replicas), updates off the post budget, and the
delivery loop waking when a channel becomes due. Real SQLite file and PostgreSQL; the fake Slack over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.render.limits import problems
from bot.store import Store, create_engine, wall_clock_ms
from bot.store.testing import ManualClock
from bot.watcher.deliver import OutboxDeliverer, make_delivery_client
from slack_fake import FakeSlack

TOKEN = "xoxb-pacing-test"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start_ms=wall_clock_ms())


@pytest.fixture
async def store(migrated_database_url: str, clock: ManualClock) -> AsyncIterator[Store]:
    opened = Store(engine=create_engine(migrated_database_url), clock=clock)
    yield opened
    await opened.aclose()


def card(text: str) -> dict[str, Any]:
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}]}


async def enqueue(
    store: Store, key: str, channel: str = "C1", *, kind: str = "alert", parent: str | None = None
) -> None:
    async with store.transaction() as tx:
        await tx.outbox.enqueue(key=key, channel=channel, kind=kind, payload=card(key), parent_key=parent)


def keys_in(fake: FakeSlack, channel: str) -> list[str]:
    return [m["metadata"]["event_payload"]["key"] for m in fake.channel_messages(channel) if m.get("metadata")]


async def test_a_channel_gets_its_next_post_only_after_its_pace_and_a_card_update_does_not_wait_for_it(
    store: Store, clock: ManualClock
) -> None:
    fake = FakeSlack(validator=problems)
    async with fake.serve() as base_url:
        sender = OutboxDeliverer(
            store=store, slack=make_delivery_client(token=TOKEN, base_url=base_url), holder="r1", pace_s=1.0
        )
        await enqueue(store, "alert:1")
        await enqueue(store, "update:1", kind="update", parent="alert:1")
        await enqueue(store, "alert:2")
        await enqueue(store, "other:1", channel="C2")

        first = await sender.deliver_once()  # alert:1 and other:1
        clock.advance(0.1)
        update = await sender.deliver_once()  # the card update goes at once: chat.update has its own limit
        clock.advance(0.5)
        too_soon = await sender.deliver_once()  # alert:2 waits: C1 had a post 0.6 s ago
        clock.advance(0.4)
        paced = await sender.deliver_once()

    assert (first.sent, update.sent, too_soon.claimed, paced.sent) == (2, 1, 0, 1)
    assert keys_in(fake, "C1") == ["alert:1", "alert:2"]
    assert [c.method for c in fake.calls] == ["chat.postMessage"] * 2 + ["chat.update", "chat.postMessage"]


async def test_a_429_holds_the_whole_channel_for_every_replica(store: Store, clock: ManualClock) -> None:
    fake = FakeSlack(validator=problems)
    async with fake.serve() as base_url:
        one = OutboxDeliverer(
            store=store, slack=make_delivery_client(token=TOKEN, base_url=base_url), holder="r1", pace_s=1.0
        )
        two = OutboxDeliverer(
            store=store, slack=make_delivery_client(token=TOKEN, base_url=base_url), holder="r2", pace_s=1.0
        )
        fake.faults.ratelimit("chat.postMessage", n=1, retry_after=30)
        await enqueue(store, "alert:1")
        await enqueue(store, "alert:2")
        await one.deliver_once()
        clock.advance(29)
        async with store.transaction() as tx:
            # Even a row that is due on its own (say, one queued again) gets no post while the channel is held.
            await tx.outbox.release((await tx.outbox.get("alert:1")).id, next_attempt_at=tx.now)  # type: ignore[union-attr]
        held = await two.deliver_once()
        clock.advance(1)
        after = await two.deliver_once()

    assert (held.claimed, after.sent) == (0, 1)
    assert keys_in(fake, "C1") == ["alert:1"]


async def test_the_delivery_loop_keeps_each_channel_at_slacks_rate_without_a_single_429(
    migrated_database_url: str,
) -> None:
    # Real time: the fake Slack answers 429 to a post less than 1 s after the previous one in the same channel.
    # The loop must sleep until each channel is due (not poll blindly, not discover the rate by 429s).
    fake = FakeSlack(validator=problems, post_interval_per_channel=1.0)
    async with fake.serve() as base_url:
        store = Store(engine=create_engine(migrated_database_url))
        try:
            for n in range(4):
                for channel in ("C1", "C2", "C3"):
                    await enqueue(store, f"{channel}:{n}", channel)
            sender = OutboxDeliverer(
                store=store,
                slack=make_delivery_client(token=TOKEN, base_url=base_url),
                holder="r1",
                pace_s=1.0,
                idle_s=5.0,
            )
            stop = asyncio.Event()
            task = asyncio.create_task(sender.run(stop))
            await fake.wait_for_calls("chat.postMessage", count=12, timeout=30)
            stop.set()
            await asyncio.wait_for(task, timeout=10)
        finally:
            await store.aclose()

    assert [c.outcome for c in fake.calls_to("chat.postMessage")] == ["ok"] * 12
    assert all(keys_in(fake, c) == [f"{c}:{n}" for n in range(4)] for c in ("C1", "C2", "C3"))


async def test_one_claim_takes_at_most_its_limit_of_channel_heads(store: Store) -> None:
    # The deliverer bounds its rows in flight by the claim's limit (on PostgreSQL an UPDATE .. IN (subquery with
    # LIMIT) could claim more: the subquery may run again per row).
    for n in range(10):
        await enqueue(store, f"alert:{n}", f"C{n}")
    async with store.transaction() as tx:
        claimed = await tx.outbox.claim_heads(holder="r", limit=3, claim_ttl_ms=60_000)
    assert [r.key for r in claimed] == ["alert:0", "alert:1", "alert:2"]
