"""The outbox deliverer against the fake Slack Web API, on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands.model import WatchCommand
from bot.dlf.auth import AkSk
from bot.dlf.client import DlfClient
from bot.dlf.config import DlfConfig
from bot.render.detached import DETACHED_REPLY_LINE
from bot.render.limits import problems
from bot.services.subscriptions import SubscriptionService, WatchResult
from bot.slack.answers import subscription_message
from bot.store import Store, create_engine, wall_clock_ms
from bot.store.testing import (
    ManualClock,
)
from bot.watcher.deliver import OutboxDeliverer, make_delivery_client
from bot.watcher.outbox import OUTBOX_EVENT_TYPE
from dlf_sandbox import SANDBOX_CREDENTIALS, Sandbox
from slack_fake import FakeSlack

TOKEN = "xoxb-deliver-test"


@pytest.fixture
def clock() -> ManualClock:
    # Slack's ts comes from the wall clock and history is searched from the row's creation time: start there.
    return ManualClock(start_ms=wall_clock_ms())


@pytest.fixture
async def store(migrated_database_url: str, clock: ManualClock) -> AsyncIterator[Store]:
    opened = Store(engine=create_engine(migrated_database_url), clock=clock)
    yield opened
    await opened.aclose()


@pytest.fixture
async def slack() -> AsyncIterator[tuple[FakeSlack, AsyncWebClient]]:
    fake = FakeSlack(validator=problems)
    async with fake.serve() as base_url:
        yield fake, make_delivery_client(token=TOKEN, base_url=base_url, timeout=5)


def deliverer(store: Store, client: AsyncWebClient, **options: Any) -> OutboxDeliverer:
    return OutboxDeliverer(store=store, slack=client, holder="test-replica", pace_s=0, idle_s=0, **options)


def card(text: str) -> dict[str, Any]:
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}],
        "metadata": {"job": "job_a"},
    }


async def enqueue(
    store: Store,
    key: str,
    channel: str = "C1",
    *,
    kind: str = "alert",
    parent: str | None = None,
    text: str | None = None,
) -> None:
    async with store.transaction() as tx:
        await tx.outbox.enqueue(key=key, channel=channel, kind=kind, payload=card(text or key), parent_key=parent)


def posted(fake: FakeSlack, method: str = "chat.postMessage") -> list[dict[str, Any]]:
    return [c.params for c in fake.calls if c.method == method and c.outcome == "ok"]


def keys_in(fake: FakeSlack, channel: str) -> list[str]:
    return [m["metadata"]["event_payload"]["key"] for m in fake.messages.get(channel, []) if m.get("metadata")]


async def test_an_alert_its_thread_reply_and_its_card_update_arrive_in_place(store: Store, slack) -> None:
    fake, client = slack
    async with store.transaction() as tx:
        await tx.incidents.open_or_get(
            channel="C1", profile="default", job_name="job_a", instance_id=1, root_key="alert:1"
        )
    await enqueue(store, "alert:1")
    await enqueue(store, "reply:1", kind="thread_reply", parent="alert:1", text="failed again")
    await enqueue(store, "update:1", kind="update", parent="alert:1", text="2 failures")

    report = await deliverer(store, client).drain()

    assert report.sent == 3
    (root, reply) = fake.messages["C1"]
    assert root["metadata"] == {"event_type": OUTBOX_EVENT_TYPE, "event_payload": {"job": "job_a", "key": "alert:1"}}
    assert reply["thread_ts"] == root["ts"] and reply["text"] == "failed again"
    assert root["text"] == "2 failures" and "edited" in root  # the card was updated in place
    async with store.transaction() as tx:
        incident = await tx.incidents.by_message("C1", root["ts"])
        reply_row = await tx.outbox.get("reply:1")
    assert incident is not None and incident.root_key == "alert:1"
    assert reply_row is not None and (reply_row.sent_ts, reply_row.sent_thread_ts) == (reply["ts"], root["ts"])


async def test_429_with_retry_after_then_ok_delivers_once_after_the_wait(store: Store, slack, clock) -> None:
    fake, client = slack
    fake.faults.ratelimit("chat.postMessage", n=1, retry_after=7)
    await enqueue(store, "alert:1")
    sender = deliverer(store, client)

    first = await sender.deliver_once()
    clock.advance(6)
    too_soon = await sender.deliver_once()
    clock.advance(1)
    after = await sender.deliver_once()

    assert (first.retry, too_soon.claimed, after.sent) == (1, 0, 1)
    assert keys_in(fake, "C1") == ["alert:1"]
    async with store.transaction() as tx:
        row = await tx.outbox.get("alert:1")
    assert row is not None and (row.status, row.attempts) == ("sent", 2)


async def test_5xx_and_connection_resets_for_a_while_then_recovery_delivers_every_alert_once(
    store: Store, slack, clock
) -> None:
    fake, client = slack
    fake.faults.server_error("chat.postMessage", n=2, status=503)
    fake.faults.reset("chat.postMessage", n=2)
    fake.faults.server_error("conversations.history", n=1, status=500)  # the duplicate check can fail too
    for i in range(3):
        await enqueue(store, f"alert:{i}", channel=f"C{i}")
    sender = deliverer(store, client, concurrency=1)

    for _ in range(12):
        await sender.deliver_once()
        clock.advance(300)  # past any back-off

    assert [keys_in(fake, f"C{i}") for i in range(3)] == [["alert:0"], ["alert:1"], ["alert:2"]]
    async with store.transaction() as tx:
        assert await tx.outbox.pending_count() == 0


async def test_backoff_grows_while_slack_keeps_failing_and_the_row_is_never_dropped(store: Store, slack, clock) -> None:
    fake, client = slack
    fake.faults.server_error("chat.postMessage", n=4, status=500)
    await enqueue(store, "alert:1")
    sender = deliverer(store, client)
    waits = []
    for _ in range(4):
        await sender.deliver_once()
        async with store.transaction() as tx:
            row = await tx.outbox.get("alert:1")
        assert row is not None and row.status == "pending" and row.last_error == "http_500"
        waits.append(row.next_attempt_at - clock())
        clock.now_ms = row.next_attempt_at
    await sender.deliver_once()

    assert waits == sorted(waits) and waits[0] < waits[-1]
    assert keys_in(fake, "C1") == ["alert:1"]


async def test_channel_not_found_breaks_the_channels_subscriptions_and_stops_retrying(
    store: Store, slack, clock, caplog: pytest.LogCaptureFixture
) -> None:
    fake, client = slack
    async with store.transaction() as tx:
        await tx.subscriptions.subscribe(channel="CGONE", profile="default", target="job_a", created_by="U1")
        await tx.subscriptions.subscribe(channel="C2", profile="default", target="job_a", created_by="U1")
    fake.faults.channel_error("CGONE", "channel_not_found")
    await enqueue(store, "alert:gone", channel="CGONE")
    await enqueue(store, "alert:ok", channel="C2")
    sender = deliverer(store, client)

    with caplog.at_level(logging.WARNING, logger="bot.watcher.deliver"):
        report = await sender.drain()
    calls_after_first = len(fake.calls)
    clock.advance(3600)
    later = await sender.drain()

    assert (report.broken, report.sent, later.claimed) == (1, 1, 0)
    assert len(fake.calls) == calls_after_first  # not retried
    async with store.transaction() as tx:
        gone = await tx.subscriptions.list_for_channel("CGONE")
        fine = await tx.subscriptions.list_for_channel("C2")
        row = await tx.outbox.get("alert:gone")
    assert [(s.state, s.broken_reason) for s in gone] == [("broken", "channel_not_found")]
    assert [s.state for s in fine] == ["active"]
    assert row is not None and (row.status, row.last_error) == ("failed_permanent", "channel_not_found")
    assert "CGONE" in caplog.text and "channel_not_found" in caplog.text


async def test_a_message_slack_rejects_is_not_retried_and_is_logged_loudly(
    store: Store, clock, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeSlack(validator=lambda message: ["header too long"] if "BAD" in message.get("text", "") else [])
    async with fake.serve() as base_url:
        client = make_delivery_client(token=TOKEN, base_url=base_url)
        await enqueue(store, "alert:bad", text="BAD card")
        await enqueue(store, "alert:next", text="good card")
        with caplog.at_level(logging.ERROR, logger="bot.watcher.deliver"):
            report = await deliverer(store, client).drain()

    assert (report.rejected, report.sent) == (1, 1)
    assert keys_in(fake, "C1") == ["alert:next"]  # the channel is not held up behind the bad row
    assert "alert:bad" in caplog.text and "invalid_blocks" in caplog.text and "header too long" in caplog.text


async def test_a_crash_between_slacks_ok_and_the_database_write_does_not_post_twice(store: Store, slack, clock) -> None:
    fake, client = slack
    await enqueue(store, "alert:1")
    await enqueue(store, "reply:1", kind="thread_reply", parent="alert:1")
    # A deliverer claims both rows and posts them; Slack says ok; the process dies before recording anything.
    async with store.transaction() as tx:
        claimed = await tx.outbox.claim_heads(holder="crashed-replica", limit=10, claim_ttl_ms=120_000)
        assert [r.key for r in claimed] == ["alert:1"]
        reply_row = await tx.outbox.claim_key("reply:1", holder="crashed-replica", claim_ttl_ms=120_000)
        assert reply_row is not None
    root = await client.chat_postMessage(
        channel="C1", text="alert:1", metadata={"event_type": OUTBOX_EVENT_TYPE, "event_payload": {"key": "alert:1"}}
    )
    reply = await client.chat_postMessage(
        channel="C1",
        text="reply:1",
        thread_ts=root["ts"],
        metadata={"event_type": OUTBOX_EVENT_TYPE, "event_payload": {"key": "reply:1"}},
    )
    posts_before = len(posted(fake))

    clock.advance(121)  # the dead replica's claims expire
    report = await deliverer(store, client).drain()

    assert report.recovered == 2
    assert len(posted(fake)) == posts_before  # nothing posted again
    async with store.transaction() as tx:
        alert_row = await tx.outbox.get("alert:1")
        reply_row = await tx.outbox.get("reply:1")
    assert alert_row is not None and (alert_row.status, alert_row.sent_ts) == ("sent", root["ts"])
    assert reply_row is not None and (reply_row.sent_ts, reply_row.sent_thread_ts) == (reply["ts"], root["ts"])


async def test_a_crash_before_slack_answered_posts_after_checking_history(store: Store, slack, clock) -> None:
    fake, client = slack
    await enqueue(store, "alert:1")
    async with store.transaction() as tx:
        await tx.outbox.claim_heads(holder="crashed-replica", limit=10, claim_ttl_ms=120_000)
    clock.advance(121)

    report = await deliverer(store, client).drain()

    assert report.sent == 1
    assert [c.method for c in fake.calls] == ["conversations.history", "chat.postMessage"]
    assert keys_in(fake, "C1") == ["alert:1"]


async def test_one_channels_backlog_and_back_off_do_not_hold_up_another(store: Store, slack, clock) -> None:
    fake, client = slack
    for i in range(3):
        await enqueue(store, f"busy:{i}", channel="CBUSY")
    await enqueue(store, "quiet:0", channel="CQUIET")
    fake.faults.ratelimit("chat.postMessage", n=1, retry_after=30)  # the first post (CBUSY's) is refused
    sender = deliverer(store, client, concurrency=1)

    first = await sender.deliver_once()
    await enqueue(store, "quiet:1", channel="CQUIET")
    second = await sender.deliver_once()

    assert (first.retry, first.sent, second.sent) == (1, 1, 1)
    assert keys_in(fake, "CQUIET") == ["quiet:0", "quiet:1"]
    assert keys_in(fake, "CBUSY") == []
    clock.advance(30)
    for _ in range(3):
        await sender.deliver_once()  # one per channel per pass: paced
    assert keys_in(fake, "CBUSY") == ["busy:0", "busy:1", "busy:2"]  # in order


async def test_a_reply_waits_for_its_parent_card(store: Store, slack, clock) -> None:
    fake, client = slack
    fake.faults.server_error("chat.postMessage", n=1)
    await enqueue(store, "digest:1")
    await enqueue(store, "alert:in-thread", kind="thread_reply", parent="digest:1")
    sender = deliverer(store, client)

    first = await sender.deliver_once()
    assert (first.retry, keys_in(fake, "C1")) == (1, [])
    clock.advance(300)
    await sender.drain()

    root, reply = fake.messages["C1"]
    assert keys_in(fake, "C1") == ["digest:1", "alert:in-thread"]
    assert reply["thread_ts"] == root["ts"]


async def test_two_deliverers_on_one_database_send_each_row_once(
    store: Store, migrated_database_url: str, clock
) -> None:
    fake = FakeSlack(validator=problems)
    other = Store(engine=create_engine(migrated_database_url), clock=clock)
    try:
        async with fake.serve() as base_url:
            for i in range(30):
                await enqueue(store, f"alert:{i}", channel=f"C{i % 6}")
            one = OutboxDeliverer(
                store=store,
                slack=make_delivery_client(token=TOKEN, base_url=base_url),
                holder="replica-1",
                pace_s=0,
                idle_s=0,
            )
            two = OutboxDeliverer(
                store=other,
                slack=make_delivery_client(token=TOKEN, base_url=base_url),
                holder="replica-2",
                pace_s=0,
                idle_s=0,
            )
            await asyncio.gather(one.drain(), two.drain())
            await one.drain()
    finally:
        await other.aclose()

    sent = [k for c in range(6) for k in keys_in(fake, f"C{c}")]
    assert sorted(sent) == sorted(f"alert:{i}" for i in range(30))  # all of them, none twice


async def test_run_delivers_until_stopped_and_survives_a_failing_pass(store: Store, slack) -> None:
    fake, client = slack
    sender = OutboxDeliverer(store=store, slack=client, holder="r", pace_s=0.01, idle_s=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(sender.run(stop))
    await enqueue(store, "alert:1")
    sender.wake()
    await fake.wait_for_calls("chat.postMessage", count=1, timeout=10)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert keys_in(fake, "C1") == ["alert:1"]


async def test_a_retry_in_a_public_channel_the_bot_is_not_in_joins_it_reads_its_history_and_posts_once(
    store: Store, slack, clock, caplog: pytest.LogCaptureFixture
) -> None:
    # The bot posts through chat:write.public without being a member: conversations.history refuses it
    # (not_in_channel), chat.postMessage works. A 500 on the first post (maybe posted, maybe not) forces the check.
    fake, client = slack
    async with store.transaction() as tx:
        await tx.subscriptions.subscribe(channel="CPUB", profile="default", target="job_a", created_by="U1")
    fake.faults.not_a_member("CPUB")
    fake.faults.server_error("chat.postMessage", n=1, status=500)
    await enqueue(store, "alert:1", channel="CPUB")
    sender = deliverer(store, client)

    first = await sender.deliver_once()
    clock.advance(300)
    with caplog.at_level(logging.INFO, logger="bot.watcher.deliver"):
        second = await sender.drain()

    assert (first.retry, second.sent, second.broken) == (1, 1, 0)
    assert keys_in(fake, "CPUB") == ["alert:1"]
    assert [c.outcome for c in fake.calls_to("conversations.history")] == ["error:not_in_channel", "ok"]
    assert [c.outcome for c in fake.calls_to("conversations.join")] == ["ok"]
    async with store.transaction() as tx:
        subs = await tx.subscriptions.list_for_channel("CPUB")
        row = await tx.outbox.get("alert:1")
    assert [s.state for s in subs] == ["active"]
    assert row is not None and row.status == "sent"
    assert "joined public channel CPUB" in caplog.text


async def test_a_message_in_doubt_in_a_channel_the_bot_cannot_join_is_held_never_posted_until_it_can_read(
    store: Store, slack, clock
) -> None:
    # The post timed out (it may have reached Slack) and the bot may not join the channel (no channels:join):
    # its history stays unreadable, so the message is held — never posted on a guess — until someone invites
    # the bot. A later alert of the same channel waits behind it, in order.
    fake, client = slack
    async with store.transaction() as tx:
        await tx.subscriptions.subscribe(channel="CPUB", profile="default", target="job_a", created_by="U1")
    fake.faults.not_a_member("CPUB")
    fake.faults.refuse_join("CPUB", "missing_scope")
    fake.faults.reset("chat.postMessage", n=1)
    await enqueue(store, "alert:1", channel="CPUB")
    await enqueue(store, "alert:2", channel="CPUB")
    sender = deliverer(store, client)

    outcomes = []
    for _ in range(8):
        report = await sender.deliver_once()
        outcomes.append("in_doubt" if report.in_doubt else "retry" if report.retry else "sent" if report.sent else "-")
        clock.advance(300)
    async with store.transaction() as tx:
        held = await tx.outbox.get("alert:1")
        snapshot = await tx.outbox.snapshot()

    assert keys_in(fake, "CPUB") == []
    assert outcomes == ["retry"] + ["in_doubt"] * 7
    assert held is not None and held.status == "pending" and held.in_doubt_since is not None
    assert "missing_scope" in (held.last_error or "")
    assert snapshot.in_doubt == 1
    async with store.transaction() as tx:
        assert [s.state for s in await tx.subscriptions.list_for_channel("CPUB")] == ["active"]

    fake.faults.clear()  # someone invites the bot
    await sender.drain()

    assert keys_in(fake, "CPUB") == ["alert:1", "alert:2"]
    async with store.transaction() as tx:
        row = await tx.outbox.get("alert:1")
        assert row is not None and (row.status, row.in_doubt_since) == ("sent", None)
        assert (await tx.outbox.snapshot()).in_doubt == 0


async def test_a_thread_reply_in_doubt_in_a_channel_the_bot_is_not_in_is_delivered_once(
    store: Store, slack, clock
) -> None:
    fake, client = slack
    await enqueue(store, "alert:1", channel="CPUB")
    sender = deliverer(store, client)
    await sender.drain()
    fake.faults.not_a_member("CPUB")
    fake.faults.reset("chat.postMessage", n=1)
    await enqueue(store, "reply:1", channel="CPUB", kind="thread_reply", parent="alert:1", text="failed again")

    first = await sender.deliver_once()
    clock.advance(300)
    second = await sender.drain()

    assert (first.retry, second.sent) == (1, 1)
    root, reply = fake.messages["CPUB"]
    assert keys_in(fake, "CPUB") == ["alert:1", "reply:1"]
    assert reply["thread_ts"] == root["ts"]
    assert [c.outcome for c in fake.calls_to("conversations.replies")] == ["error:not_in_channel", "ok"]


async def test_a_history_slack_keeps_failing_holds_the_message_in_doubt_and_never_posts_it_on_a_guess(
    store: Store, slack, clock
) -> None:
    fake, client = slack
    fake.faults.server_error("chat.postMessage", n=1, status=502)  # the post's outcome is unknown
    fake.faults.server_error("conversations.history", n=100, status=503)
    await enqueue(store, "alert:1")
    sender = deliverer(store, client)

    outcomes = []
    for _ in range(10):
        report = await sender.deliver_once()
        outcomes.append("sent" if report.sent else "retry" if report.retry else "in_doubt" if report.in_doubt else "-")
        clock.advance(300)

    assert outcomes == ["retry"] + ["in_doubt"] * 9
    assert keys_in(fake, "C1") == []
    assert [c.outcome for c in fake.calls_to("chat.postMessage")] == ["http:502"]  # never posted again meanwhile

    fake.faults.clear()
    await sender.drain()

    assert keys_in(fake, "C1") == ["alert:1"]


async def test_a_reply_to_a_deleted_alert_is_posted_in_the_channel_saying_so_and_its_update_is_dropped(
    store: Store, slack, caplog: pytest.LogCaptureFixture
) -> None:
    fake, client = slack
    await enqueue(store, "alert:1")
    sender = deliverer(store, client)
    await sender.drain()
    (root,) = fake.messages["C1"]
    assert fake.delete_message("C1", root["ts"])  # someone deleted the alert card
    await enqueue(store, "reply:1", kind="thread_reply", parent="alert:1", text="failed again")
    await enqueue(store, "update:1", kind="update", parent="alert:1", text="2 failures")

    with caplog.at_level(logging.INFO, logger="bot.watcher.deliver"):
        report = await sender.drain()

    assert (report.sent, report.dropped, report.rejected) == (1, 1, 0)
    (reply,) = fake.messages["C1"]
    assert "thread_ts" not in reply and keys_in(fake, "C1") == ["reply:1"]
    assert reply["blocks"][0]["elements"][0]["text"] == DETACHED_REPLY_LINE
    assert "failed again" in reply["text"] and "deleted" in reply["text"]
    assert [c.outcome for c in fake.calls_to("chat.update")] == ["error:message_not_found"]
    async with store.transaction() as tx:
        reply_row = await tx.outbox.get("reply:1")
        update_row = await tx.outbox.get("update:1")
    assert reply_row is not None and (reply_row.status, reply_row.sent_ts) == ("sent", reply["ts"])
    assert update_row is not None and (update_row.status, update_row.last_error) == (
        "failed_permanent",
        "message_not_found",
    )
    assert any(r.levelno == logging.INFO and "update:1" in r.getMessage() for r in caplog.records)
    assert not any(r.levelno >= logging.ERROR for r in caplog.records)


async def test_a_detached_reply_retried_after_a_crash_is_not_posted_twice(store: Store, slack, clock) -> None:
    fake, client = slack
    await enqueue(store, "alert:1")
    sender = deliverer(store, client)
    await sender.drain()
    fake.delete_message("C1", fake.messages["C1"][0]["ts"])
    await enqueue(store, "reply:1", kind="thread_reply", parent="alert:1")
    # A replica claims the reply, finds the thread gone, posts it in the channel, and dies before recording it.
    async with store.transaction() as tx:
        assert await tx.outbox.claim_key("reply:1", holder="crashed-replica", claim_ttl_ms=120_000) is not None
    await client.chat_postMessage(
        channel="C1", text="reply:1", metadata={"event_type": OUTBOX_EVENT_TYPE, "event_payload": {"key": "reply:1"}}
    )
    clock.advance(121)

    report = await sender.drain()

    assert report.recovered == 1
    assert keys_in(fake, "C1") == ["reply:1"]


@pytest.fixture
async def watch_service(store: Store) -> AsyncIterator[SubscriptionService]:
    sandbox = Sandbox(seed=True)
    async with sandbox.serve() as base_url:
        client = DlfClient(
            config=DlfConfig(endpoint=base_url, project_id=SANDBOX_CREDENTIALS.project_id, max_retries=0),
            credentials=AkSk(access_key=SANDBOX_CREDENTIALS.ak, secret_key=SANDBOX_CREDENTIALS.sk),
        )
        try:
            yield SubscriptionService(store=store, clients={"default": client})
        finally:
            await client.aclose()


async def test_alerts_queued_while_a_channel_is_broken_are_held_and_all_arrive_in_order_after_a_re_watch(
    store: Store, slack, clock, watch_service: SubscriptionService
) -> None:
    fake, client = slack
    await watch_service.watch(WatchCommand(target="job_batch"), channel_id="C1", user_id="U1")
    fake.faults.channel_error("C1", "channel_not_found")
    # Two failures while the bot cannot post there: each a card, a thread reply, and a card update.
    for n in (1, 2):
        await enqueue(store, f"alert:{n}", text=f"job_batch failed ({n})")
        await enqueue(store, f"reply:{n}", kind="thread_reply", parent=f"alert:{n}", text=f"details {n}")
        await enqueue(store, f"update:{n}", kind="update", parent=f"alert:{n}", text=f"job_batch failed ({n}) +")
    await enqueue(store, "other:1", channel="C2")
    sender = deliverer(store, client)

    broken = await sender.drain()
    clock.advance(3600)
    later = await sender.drain()

    assert (broken.broken, broken.sent, later.claimed) == (1, 1, 0)  # only C2's row went out; C1's rows wait
    async with store.transaction() as tx:
        assert await tx.outbox.pending_count("C1") == 5
        assert [s.state for s in await tx.subscriptions.list_for_channel("C1")] == ["broken"]

    fake.faults.clear()  # someone invites the bot back
    answer = subscription_message(
        await watch_service.handle(
            WatchCommand(target="job_batch", events_given=False, mention_given=False),
            channel_id="C1",
            user_id="U2",
            team_id=None,
        )
    )
    assert "6 messages held back" in str(answer.blocks)
    await sender.drain()

    top = [m for m in fake.messages["C1"] if m.get("thread_ts") in (None, m["ts"])]
    assert [m["metadata"]["event_payload"]["key"] for m in top] == ["alert:1", "alert:2"]
    assert [m["text"] for m in top] == ["job_batch failed (1) +", "job_batch failed (2) +"]  # updated in place
    for n, root in zip((1, 2), top, strict=True):
        (reply,) = fake.thread("C1", root["ts"])
        assert reply["text"] == f"details {n}"
    sent_keys = [
        c.params["metadata"]["event_payload"]["key"]
        for c in fake.calls_to("chat.postMessage")
        if c.outcome == "ok" and c.params.get("channel") == "C1"
    ]
    assert sorted(sent_keys) == ["alert:1", "alert:2", "reply:1", "reply:2"]  # each exactly once
    async with store.transaction() as tx:
        assert await tx.outbox.pending_count() == 0


async def test_a_re_watch_does_not_resend_old_or_badly_formed_failures(
    store: Store, slack, clock, watch_service: SubscriptionService
) -> None:
    fake, client = slack
    await watch_service.watch(WatchCommand(target="job_*"), channel_id="C1", user_id="U1")
    async with store.transaction() as tx:
        await tx.outbox.enqueue(key="alert:bad", channel="C1", kind="alert", payload={"text": "x" * 50_000})
    await deliverer(store, client).drain()  # Slack refuses it (msg_too_long): not a channel error
    fake.faults.channel_error("C1", "not_in_channel")
    await enqueue(store, "alert:old")
    await deliverer(store, client).drain()
    clock.advance(8 * 24 * 3600)  # a week later the channel is repaired: that alert is stale by now
    fake.faults.clear()

    result = await watch_service.watch(WatchCommand(target="job_*"), channel_id="C1", user_id="U1")

    assert isinstance(result, WatchResult) and result.resumed == 0
    async with store.transaction() as tx:
        old, bad = await tx.outbox.get("alert:old"), await tx.outbox.get("alert:bad")
    assert old is not None and (old.status, old.last_error) == ("failed_permanent", "not_in_channel")
    assert bad is not None and (bad.status, bad.last_error) == ("failed_permanent", "msg_too_long")


async def test_a_slack_slower_than_the_timeout_gets_each_message_once_and_its_first_copy_is_recorded(
    store: Store, slack, clock
) -> None:
    # Defect 2: Slack answers every call (the post, and the history lookups of its retries) later than the client
    # waits. The post reached Slack; the bot cannot tell. It must hold the message until the history can be read —
    # never decide "cannot read the history, posting it" — and then record the copy Slack has.
    fake, client = slack
    fake.faults.outage("slow", seconds=3600, delay_s=1.0)
    await enqueue(store, "alert:1")
    await enqueue(store, "reply:1", kind="thread_reply", parent="alert:1", text="failed again")
    sender = deliverer(store, client, slack_timeout_s=0.3)

    reports = []
    for _ in range(8):
        reports.append(await sender.deliver_once())
        clock.advance(300)
    assert len(fake.channel_messages("C1")) == 1  # the first attempt did reach Slack
    assert [r.retry for r in reports[:1]] == [1] and all(r.in_doubt == 1 for r in reports[1:])

    fake.faults.clear()  # Slack is fast again
    report = await sender.drain()

    (root, reply) = fake.messages["C1"]
    assert keys_in(fake, "C1") == ["alert:1", "reply:1"]  # once each
    assert report.recovered == 1 and reply["thread_ts"] == root["ts"]
    async with store.transaction() as tx:
        row = await tx.outbox.get("alert:1")
    assert row is not None and row.sent_ts == root["ts"]


async def test_of_two_copies_already_in_a_channel_the_first_is_recorded_and_threaded_under(
    store: Store, slack, clock
) -> None:
    # Should a message ever be in a channel twice (a bot before this fix), replies and updates go to the first copy.
    fake, client = slack
    await enqueue(store, "alert:1")
    async with store.transaction() as tx:
        await tx.outbox.claim_heads(holder="crashed-replica", limit=10, claim_ttl_ms=120_000)
    metadata = {"event_type": OUTBOX_EVENT_TYPE, "event_payload": {"key": "alert:1"}}
    first = await client.chat_postMessage(channel="C1", text="alert:1", metadata=metadata)
    await client.chat_postMessage(channel="C1", text="alert:1 again", metadata=metadata)
    await enqueue(store, "update:1", kind="update", parent="alert:1", text="2 failures")
    clock.advance(121)

    report = await deliverer(store, client).drain()

    assert (report.recovered, report.sent) == (1, 1)
    older, newer = fake.messages["C1"]
    assert older["ts"] == first["ts"] and older["text"] == "2 failures" and newer["text"] == "alert:1 again"


async def test_a_429_settles_the_attempt_so_the_retry_posts_without_reading_history(store: Store, slack, clock) -> None:
    # Defect 10: a 429 means Slack took nothing; looking for the message in history before posting again is waste.
    fake, client = slack
    fake.faults.ratelimit("chat.postMessage", n=3, retry_after=2)
    fake.faults.server_error("chat.postMessage", n=1, status=503)
    await enqueue(store, "alert:1")
    sender = deliverer(store, client)

    for _ in range(6):
        await sender.deliver_once()
        clock.advance(300)

    assert keys_in(fake, "C1") == ["alert:1"]
    # Only the 503 (maybe posted) was followed by a lookup; the three 429s were not.
    methods = [c.method for c in fake.calls]
    assert methods == ["chat.postMessage"] * 4 + ["conversations.history", "chat.postMessage"]


async def test_a_connection_refused_before_anything_was_sent_needs_no_lookup(store: Store, slack, clock) -> None:
    fake, client = slack
    await enqueue(store, "alert:1")
    nowhere = make_delivery_client(token=TOKEN, base_url="http://127.0.0.1:9/api/", timeout=2)

    refused = await deliverer(store, nowhere).deliver_once()
    clock.advance(300)
    second = await deliverer(store, client).deliver_once()

    assert (refused.retry, second.sent) == (1, 1)
    assert [c.method for c in fake.calls] == ["chat.postMessage"]
    async with store.transaction() as tx:
        row = await tx.outbox.get("alert:1")
    assert row is not None and (row.attempts, row.settled_attempts) == (2, 2)


async def test_a_deliverer_whose_claim_was_taken_over_records_nothing_over_the_new_holders_work(
    store: Store, slack, clock
) -> None:
    fake, client = slack
    await enqueue(store, "alert:1")
    async with store.transaction() as tx:
        (stale,) = await tx.outbox.claim_heads(holder="stuck-replica", limit=10, claim_ttl_ms=1_000)
    clock.advance(2)
    await deliverer(store, client).drain()  # takes the expired claim over and posts
    async with store.transaction() as tx:
        # The stuck replica comes back with its old claim: its failure and its "sent" change nothing.
        assert not await tx.outbox.mark_retry(
            stale.id, holder="stuck-replica", error="http_500", next_attempt_at=tx.now
        )
        assert not await tx.outbox.mark_failed(stale.id, holder="stuck-replica", error="invalid_blocks")
        assert not await tx.outbox.mark_sent(stale.id, ts="1.000001", thread_ts=None)
        row = await tx.outbox.get("alert:1")
    assert row is not None and row.status == "sent" and row.sent_ts == fake.messages["C1"][0]["ts"]
