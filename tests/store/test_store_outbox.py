"""The outbox: a key makes a message unique; claims keep two deliverers off the same row."""

from __future__ import annotations

import asyncio

import pytest

from bot.store import Store
from bot.store.testing import ManualClock

CARD = {"text": "job_a failed", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x"}}]}


async def test_enqueue_is_idempotent_on_the_key(store: Store) -> None:
    async with store.transaction() as tx:
        first = await tx.outbox.enqueue(key="alert:C1:job_a:1", channel="C1", kind="alert", payload=CARD)
    async with store.transaction() as tx:
        again = await tx.outbox.enqueue(
            key="alert:C1:job_a:1", channel="C1", kind="alert", payload={"text": "a different body"}
        )
        row = await tx.outbox.get("alert:C1:job_a:1")
        count = await tx.outbox.pending_count()

    assert (first, again) == (True, False)
    assert row is not None and row.payload == CARD  # the first body stays
    assert count == 1


async def test_two_cycles_racing_to_enqueue_the_same_alert_write_it_once(store: Store, second_store: Store) -> None:
    """Two replicas' transactions overlap: both insert the same key, one wins, neither fails."""
    both_inside = asyncio.Barrier(2) if store.dialect == "postgresql" else None

    async def cycle(on: Store) -> bool:
        async with on.transaction() as tx:
            await tx.audit.record(actor="watcher", action="cycle")
            if both_inside is not None:  # SQLite's BEGIN IMMEDIATE serialises the two transactions instead
                await both_inside.wait()
            inserted = await tx.outbox.enqueue(key="alert:C1:job_a:1", channel="C1", kind="alert", payload=CARD)
            await asyncio.sleep(0.05)  # hold the transaction open while the other one tries
            return inserted

    results = await asyncio.gather(cycle(store), cycle(second_store))

    assert sorted(results) == [False, True]
    async with store.transaction() as tx:
        assert await tx.outbox.pending_count() == 1


async def test_a_failed_transaction_leaves_neither_the_state_change_nor_the_message(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            await tx.incidents.open_or_get(
                channel="C1", profile="default", job_name="job_a", instance_id=1, root_key="alert:C1:job_a:1"
            )
            await tx.outbox.enqueue(key="alert:C1:job_a:1", channel="C1", kind="alert", payload=CARD)
            raise RuntimeError("crash mid-cycle")

    async with store.transaction() as tx:
        assert await tx.outbox.get("alert:C1:job_a:1") is None
        assert await tx.incidents.unresolved("default") == []


async def test_unknown_kinds_and_updates_without_a_target_are_refused(store: Store) -> None:
    async with store.transaction() as tx:
        with pytest.raises(ValueError, match="kind"):
            await tx.outbox.enqueue(key="k", channel="C1", kind="shout", payload=CARD)
        with pytest.raises(ValueError, match="parent_key"):
            await tx.outbox.enqueue(key="k", channel="C1", kind="update", payload=CARD)


async def _enqueue(store: Store, *rows: tuple[str, str]) -> None:
    async with store.transaction() as tx:
        for key, channel in rows:
            await tx.outbox.enqueue(key=key, channel=channel, kind="alert", payload=CARD)


async def test_claims_take_each_channels_oldest_row_so_channels_advance_side_by_side(store: Store) -> None:
    await _enqueue(store, ("a1", "CA"), ("a2", "CA"), ("a3", "CA"), ("b1", "CB"), ("c1", "CC"))

    async with store.transaction() as tx:
        claimed = await tx.outbox.claim_heads(holder="d1", limit=10, claim_ttl_ms=60_000)
        assert [r.key for r in claimed] == ["a1", "b1", "c1"]
        assert all(r.attempts == 1 for r in claimed)
        # while a1 is out, CA's next row waits: per-channel order holds
        assert await tx.outbox.claim_heads(holder="d1", limit=10, claim_ttl_ms=60_000) == []
        for row in claimed:
            await tx.outbox.mark_sent(row.id, ts=f"1.{row.id}", thread_ts=None)

    async with store.transaction() as tx:
        assert [r.key for r in await tx.outbox.claim_heads(holder="d1", limit=10, claim_ttl_ms=60_000)] == ["a2"]


async def test_a_channel_in_back_off_does_not_hold_up_other_channels(store: Store, clock: ManualClock) -> None:
    await _enqueue(store, ("a1", "CA"), ("a2", "CA"), ("b1", "CB"))
    async with store.transaction() as tx:
        a1, b1 = await tx.outbox.claim_heads(holder="d1", limit=10, claim_ttl_ms=60_000)
        await tx.outbox.mark_retry(a1.id, error="ratelimited", next_attempt_at=tx.now + 30_000)
        await tx.outbox.mark_sent(b1.id, ts="1.1", thread_ts=None)
    await _enqueue(store, ("b2", "CB"))

    async with store.transaction() as tx:
        assert [r.key for r in await tx.outbox.claim_heads(holder="d1", limit=10, claim_ttl_ms=60_000)] == ["b2"]
    clock.advance(30)
    async with store.transaction() as tx:
        again = await tx.outbox.claim_heads(holder="d1", limit=10, claim_ttl_ms=60_000)
    assert [(r.key, r.attempts, r.last_error) for r in again] == [("a1", 2, "ratelimited")]


async def test_two_deliverers_never_claim_the_same_row(store: Store, second_store: Store) -> None:
    await _enqueue(store, *((f"k{i}", f"C{i}") for i in range(40)))

    async def claim_all(on: Store, holder: str) -> list[str]:
        keys: list[str] = []
        for _ in range(10):
            async with on.transaction() as tx:
                keys += [r.key for r in await tx.outbox.claim_heads(holder=holder, limit=3, claim_ttl_ms=60_000)]
            await asyncio.sleep(0)
        return keys

    first, second = await asyncio.gather(claim_all(store, "d1"), claim_all(second_store, "d2"))

    assert not set(first) & set(second)
    assert sorted(first + second) == sorted(f"k{i}" for i in range(40))


async def test_a_claim_left_by_a_crashed_deliverer_expires(store: Store, clock: ManualClock) -> None:
    await _enqueue(store, ("a1", "CA"))
    async with store.transaction() as tx:
        assert len(await tx.outbox.claim_heads(holder="crashed", limit=10, claim_ttl_ms=60_000)) == 1
    async with store.transaction() as tx:
        assert await tx.outbox.claim_heads(holder="d2", limit=10, claim_ttl_ms=60_000) == []
        assert await tx.outbox.claim_key("a1", holder="d2", claim_ttl_ms=60_000) is None
    clock.advance(61)
    async with store.transaction() as tx:
        taken = await tx.outbox.claim_heads(holder="d2", limit=10, claim_ttl_ms=60_000)
    assert [(r.key, r.attempts) for r in taken] == [("a1", 2)]  # attempts > 1: check Slack before re-posting


async def test_a_permanent_failure_ends_the_row_and_releasing_does_not_count_an_attempt(store: Store) -> None:
    await _enqueue(store, ("a1", "CA"), ("b1", "CB"))
    async with store.transaction() as tx:
        a1, b1 = await tx.outbox.claim_heads(holder="d1", limit=10, claim_ttl_ms=60_000)
        await tx.outbox.mark_failed(a1.id, error="invalid_blocks")
        await tx.outbox.release(b1.id, next_attempt_at=tx.now)
    async with store.transaction() as tx:
        failed = await tx.outbox.get("a1")
        assert failed is not None and (failed.status, failed.last_error) == ("failed_permanent", "invalid_blocks")
        again = await tx.outbox.claim_heads(holder="d1", limit=10, claim_ttl_ms=60_000)
    assert [(r.key, r.attempts) for r in again] == [("b1", 1)]


async def test_sending_the_alert_card_gives_its_incident_the_root_ts(store: Store) -> None:
    async with store.transaction() as tx:
        incident, _ = await tx.incidents.open_or_get(
            channel="C1", profile="default", job_name="job_a", instance_id=1, root_key="alert:C1:job_a:1"
        )
        await tx.outbox.enqueue(key="alert:C1:job_a:1", channel="C1", kind="alert", payload=CARD)
    async with store.transaction() as tx:
        (row,) = await tx.outbox.claim_heads(holder="d1", limit=10, claim_ttl_ms=60_000)
        await tx.outbox.mark_sent(row.id, ts="1700000000.000100", thread_ts=None)
    async with store.transaction() as tx:
        sent = await tx.outbox.get("alert:C1:job_a:1")
        found = await tx.incidents.by_message("C1", "1700000000.000100")
    assert sent is not None and (sent.status, sent.sent_ts, sent.attempts) == ("sent", "1700000000.000100", 1)
    assert found is not None and found.id == incident.id and found.root_ts == "1700000000.000100"


async def test_purging_old_rows_keeps_what_is_still_needed(store: Store, clock: ManualClock) -> None:
    await _enqueue(store, ("old-sent", "C1"), ("open-card", "C2"), ("parent", "C3"), ("old-pending", "C4"))
    async with store.transaction() as tx:
        await tx.incidents.open_or_get(
            channel="C2", profile="default", job_name="job_a", instance_id=1, root_key="open-card"
        )
        for row in await tx.outbox.claim_heads(holder="d", limit=10, claim_ttl_ms=60_000):
            if row.key != "old-pending":
                await tx.outbox.mark_sent(row.id, ts=f"1.{row.id}", thread_ts=None)
            else:
                await tx.outbox.mark_retry(row.id, error="http_500", next_attempt_at=tx.now)
        await tx.outbox.enqueue(key="late-reply", channel="C3", kind="thread_reply", payload=CARD, parent_key="parent")
        await tx.instances.record("default", [("job_old", 9, "fail")])
    clock.advance(30 * 86400)
    async with store.transaction() as tx:
        await tx.instances.record("default", [("job_a", 1, "fail")])
    clock.advance(1)
    async with store.transaction() as tx:
        purged = await tx.outbox.purge_before(tx.now - 1000)
        forgotten = await tx.instances.forget_before(tx.now - 1000)
        kept = {key: await tx.outbox.get(key) for key in ("old-sent", "open-card", "parent", "old-pending")}
        still_known = await tx.instances.lookup("default", [("job_old", 9), ("job_a", 1)])

    assert (purged, forgotten) == (1, 1)
    assert set(still_known) == {("job_a", 1)}
    assert kept["old-sent"] is None
    assert all(kept[key] is not None for key in ("open-card", "parent", "old-pending"))
