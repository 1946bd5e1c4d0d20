"""A dead replica's work is taken over as soon as its heartbeat lapses, and a replica that may have been taken over
sends nothing (the fence); a stuck outbox shows in /healthz and /metrics. Real SQLite file and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from bot.render.limits import problems
from bot.store import Store, create_engine, wall_clock_ms
from bot.store.testing import ManualClock
from bot.watcher.deliver import OutboxDeliverer, make_delivery_client
from bot.watcher.heartbeat import Heartbeat
from bot.watcher.metrics import DeliveryMetrics
from bot.watcher.outbox import Liveness
from bot.watcher.outbox_health import OutboxHealthProbe, judge_outbox
from bot.watcher.scheduler import POLL_LEASE
from slack_fake import FakeSlack

TTL = 15.0  # the default heartbeat TTL
CLAIM_TTL_MS = 120_000  # the default claim TTL: takeover must not wait for it


class Monotonic:
    """A hand-driven monotonic clock for the heartbeat (the store's clock is a ManualClock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start_ms=wall_clock_ms())


@pytest.fixture
async def store(migrated_database_url: str, clock: ManualClock) -> AsyncIterator[Store]:
    opened = Store(engine=create_engine(migrated_database_url), clock=clock)
    yield opened
    await opened.aclose()


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = FakeSlack(validator=problems)
    async with slack.serve():
        yield slack


def card(text: str) -> dict[str, Any]:
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text, "verbatim": True}}]}


async def enqueue(store: Store, key: str, channel: str = "C1") -> None:
    async with store.transaction() as tx:
        await tx.outbox.enqueue(key=key, channel=channel, kind="alert", payload=card(key))


async def claim(store: Store, holder: str) -> list[str]:
    async with store.transaction() as tx:
        return [r.key for r in await tx.outbox.claim_heads(holder=holder, limit=10, claim_ttl_ms=CLAIM_TTL_MS)]


async def test_the_claims_of_a_replica_whose_heartbeat_lapsed_are_taken_over_at_once(
    store: Store, clock: ManualClock
) -> None:
    # Defect 3: a replica dies mid-send. Its claims must not wait out the claim TTL (120 s) to be taken over.
    await enqueue(store, "alert:1", "C1")
    await enqueue(store, "alert:2", "C1")
    await enqueue(store, "alert:3", "C2")
    await store.heartbeat("dead-replica", TTL)
    assert await claim(store, "dead-replica") == ["alert:1", "alert:3"]

    clock.advance(TTL - 1)
    assert await claim(store, "survivor") == []  # still alive as far as anyone can tell
    clock.advance(1)
    taken = await claim(store, "survivor")

    assert taken == ["alert:1", "alert:3"]  # 15 s after its last heartbeat, not 120 s after its claims
    async with store.transaction() as tx:
        row = await tx.outbox.get("alert:1")
    assert row is not None and row.attempts == 2  # so the new holder looks it up in Slack before posting


async def test_a_live_replica_keeps_its_claims_and_a_replica_without_a_heartbeat_keeps_them_for_the_claim_ttl(
    store: Store, clock: ManualClock
) -> None:
    await enqueue(store, "alert:1", "C1")
    await enqueue(store, "alert:2", "C2")
    await store.heartbeat("live-replica", TTL)
    async with store.transaction() as tx:
        live = await tx.outbox.claim_heads(holder="live-replica", limit=1, claim_ttl_ms=CLAIM_TTL_MS)
        other = await tx.outbox.claim_heads(holder="no-heartbeat", limit=10, claim_ttl_ms=CLAIM_TTL_MS)
    assert ([r.key for r in live], [r.key for r in other]) == (["alert:1"], ["alert:2"])
    for _ in range(10):  # a minute and a half of renewals
        clock.advance(9)
        assert await store.heartbeat("live-replica", TTL)
    assert await claim(store, "other") == []
    clock.advance(40)  # the claim TTL is the backstop (a holder that never ran a heartbeat, or a stuck one)
    assert sorted(await claim(store, "other")) == ["alert:1", "alert:2"]


async def test_the_poll_lease_of_a_dead_replica_is_taken_over_when_its_heartbeat_lapses(
    store: Store, clock: ManualClock
) -> None:
    lease_ttl = 2 * 60 + 30  # the default: two poll intervals plus 30 s
    await store.heartbeat("dead-replica", TTL)
    assert await store.try_acquire_lease(POLL_LEASE, "dead-replica", lease_ttl)
    clock.advance(TTL - 1)
    assert not await store.try_acquire_lease(POLL_LEASE, "survivor", lease_ttl)
    clock.advance(1)
    assert await store.try_acquire_lease(POLL_LEASE, "survivor", lease_ttl)
    # ... and the dead one, should it come back, does not get it back by renewing.
    assert not await store.renew_lease(POLL_LEASE, "dead-replica", lease_ttl)


async def test_a_heartbeat_renewed_late_reports_the_lapse(store: Store, clock: ManualClock) -> None:
    assert not await store.heartbeat("r", TTL)  # the first one creates it
    clock.advance(TTL - 1)
    assert await store.heartbeat("r", TTL)
    clock.advance(TTL)
    assert not await store.heartbeat("r", TTL)  # it had lapsed: others may have taken its claims over
    assert await store.heartbeat("r", TTL)


async def test_a_deliverer_whose_heartbeat_is_stale_starts_no_slack_call(
    store: Store, clock: ManualClock, fake: FakeSlack
) -> None:
    monotonic = Monotonic()
    heartbeat = Heartbeat(store=store, holder="r1", liveness=Liveness(TTL), clock=monotonic)
    assert fake.base_url is not None
    sender = OutboxDeliverer(
        store=store,
        slack=make_delivery_client(token="xoxb-t", base_url=fake.base_url),
        holder="r1",
        pace_s=0,
        heartbeat=heartbeat,
    )
    await enqueue(store, "alert:1")
    await heartbeat.beat()

    monotonic.now += Liveness(TTL).fence_s  # renewals failed for that long (the database unreachable, say)
    stale = await sender.deliver_once()
    await heartbeat.beat()
    fresh = await sender.deliver_once()

    assert stale.claimed == 0 and fresh.sent == 1
    assert [c.method for c in fake.calls] == ["chat.postMessage"]


async def test_claims_taken_before_a_heartbeat_lapse_are_abandoned_not_sent(
    store: Store, clock: ManualClock, fake: FakeSlack
) -> None:
    monotonic = Monotonic()
    heartbeat = Heartbeat(store=store, holder="r1", liveness=Liveness(TTL), clock=monotonic)
    assert fake.base_url is not None
    sender = OutboxDeliverer(
        store=store,
        slack=make_delivery_client(token="xoxb-t", base_url=fake.base_url),
        holder="r1",
        pace_s=0,
        heartbeat=heartbeat,
    )
    await enqueue(store, "alert:1")
    await heartbeat.beat()
    generation = heartbeat.generation
    async with store.transaction() as tx:
        (row,) = await tx.outbox.claim_heads(holder="r1", limit=1, claim_ttl_ms=CLAIM_TTL_MS)
    # The process stalls past its TTL (others may have taken "alert:1" over), then renews again.
    clock.advance(TTL + 1)
    monotonic.now += TTL + 1
    await heartbeat.beat()

    assert heartbeat.generation == generation + 1
    assert await sender._bounded(row, generation) == "fenced"
    assert fake.calls == []
    async with store.transaction() as tx:
        back = await tx.outbox.get("alert:1")
    assert back is not None and back.status == "pending" and back.attempts == 0  # given back, not counted


async def test_a_stuck_outbox_shows_in_health_and_metrics(store: Store, clock: ManualClock) -> None:
    registry = CollectorRegistry()
    metrics = DeliveryMetrics(registry=registry)
    probe = OutboxHealthProbe(store=store, metrics=metrics)
    await enqueue(store, "alert:1", "C1")
    await enqueue(store, "alert:2", "C1")
    assert (await probe.check()).healthy

    # The only replica died holding C1's first row; nobody takes it (no replica runs at all).
    await store.heartbeat("dead-replica", TTL)
    await claim(store, "dead-replica")
    clock.advance(61)
    verdict = await probe.check()
    scraped = generate_latest(registry).decode()

    assert not verdict.healthy
    assert any("due 61 s ago is not sent" in reason for reason in verdict.reasons)
    assert verdict.details["pending"] == 2
    assert "dlf_bot_outbox_pending_rows 2.0" in scraped
    assert "dlf_bot_outbox_oldest_due_age_seconds 61.0" in scraped


async def test_a_message_in_doubt_for_long_makes_the_outbox_unhealthy(store: Store, clock: ManualClock) -> None:
    await enqueue(store, "alert:1")
    async with store.transaction() as tx:
        (row,) = await tx.outbox.claim_heads(holder="r", limit=1, claim_ttl_ms=CLAIM_TTL_MS)
        # The post timed out: maybe posted. The history lookups then keep failing, for six minutes.
        await tx.outbox.mark_retry(row.id, holder="r", error="network: TimeoutError", next_attempt_at=tx.now + 600_000)
    clock.advance(360)
    async with store.transaction() as tx:
        snapshot = await tx.outbox.snapshot()
    verdict = judge_outbox(snapshot)

    assert (snapshot.in_doubt, snapshot.oldest_due_at) == (1, None)  # backing off, so not "due"
    assert any("1 message(s) in doubt, the oldest for 360 s" in reason for reason in verdict.reasons)
    assert verdict.details["in_doubt"] == 1
