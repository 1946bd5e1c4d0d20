"""Subscriptions: idempotent subscribe, unsubscribe, per-channel listing, broken channels."""

from __future__ import annotations

import asyncio

from bot.store import Store
from bot.watcher.outbox import REQUEUE_ON_REPAIR, RequeueOnRepair

P = "default"


async def test_subscribing_twice_is_harmless_and_keeps_one_subscription(store: Store) -> None:
    async with store.transaction() as tx:
        first, created_first = await tx.subscriptions.subscribe(
            channel="C1", profile=P, target="job_a", created_by="U1"
        )
    async with store.transaction() as tx:
        again, created_again = await tx.subscriptions.subscribe(
            channel="C1", profile=P, target="job_a", created_by="U2", mention="<!subteam^S1>"
        )
        listed = await tx.subscriptions.list_for_channel("C1")

    assert (created_first, created_again) == (True, False)
    assert again.id == first.id
    assert again.created_by == "U1"  # who subscribed first stays on record
    assert again.mention == "<!subteam^S1>"  # the repeat's options win
    assert [s.id for s in listed] == [first.id]


async def test_a_job_watch_and_a_one_off_follow_of_the_same_job_are_separate(store: Store) -> None:
    async with store.transaction() as tx:
        job, _ = await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_a", created_by="U1")
        follow, created = await tx.subscriptions.subscribe(
            channel="C1", profile=P, target="job_a", instance_id=34765, events=("failure", "success"), created_by="U1"
        )
        listed = await tx.subscriptions.list_for_channel("C1")

    assert created
    assert job.instance_id is None
    assert follow.instance_id == 34765
    assert follow.events == ("failure", "success")
    assert len(listed) == 2


async def test_unsubscribe_removes_only_that_subscription_and_reports_whether_it_existed(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_a", created_by="U1")
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="etl_*", is_pattern=True, created_by="U1")
        await tx.subscriptions.subscribe(channel="C2", profile=P, target="job_a", created_by="U1")

    async with store.transaction() as tx:
        removed = await tx.subscriptions.unsubscribe(channel="C1", profile=P, target="job_a")
        removed_again = await tx.subscriptions.unsubscribe(channel="C1", profile=P, target="job_a")
        c1 = await tx.subscriptions.list_for_channel("C1")
        c2 = await tx.subscriptions.list_for_channel("C2")

    assert (removed, removed_again) == (True, False)
    assert [(s.target, s.is_pattern) for s in c1] == [("etl_*", True)]
    assert [s.target for s in c2] == ["job_a"]


async def test_a_broken_channel_is_skipped_by_the_watcher_and_repaired_by_subscribing_again(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_a", created_by="U1")
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_b", created_by="U1")
        await tx.subscriptions.subscribe(channel="C2", profile=P, target="job_a", created_by="U1")
        await tx.subscriptions.subscribe(channel="C3", profile="other", target="job_a", created_by="U1")

    async with store.transaction() as tx:
        assert await tx.subscriptions.mark_broken("C1", "channel_not_found") == 2
        c1 = await tx.subscriptions.list_for_channel("C1")
        active = await tx.subscriptions.list_active(P)

    assert {(s.state, s.broken_reason) for s in c1} == {("broken", "channel_not_found")}
    assert [s.channel for s in active] == ["C2"]

    async with store.transaction() as tx:
        repaired, _ = await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_a", created_by="U1")
        all_active = await tx.subscriptions.list_active()
    assert (repaired.state, repaired.broken_reason) == ("active", None)
    assert sorted((s.channel, s.target) for s in all_active) == [
        ("C1", "job_a"),
        ("C2", "job_a"),
        ("C3", "job_a"),
    ]


async def test_delete_by_id_ends_a_one_off_follow(store: Store) -> None:
    async with store.transaction() as tx:
        follow, _ = await tx.subscriptions.subscribe(
            channel="C1", profile=P, target="job_a", instance_id=7, created_by="U1"
        )
    async with store.transaction() as tx:
        await tx.subscriptions.delete(follow.id)
        assert await tx.subscriptions.get(follow.id) is None


async def test_two_people_subscribing_at_the_same_moment_get_one_subscription(
    store: Store, second_store: Store
) -> None:
    async def subscribe_on(on: Store, user: str) -> bool:
        async with on.transaction() as tx:
            _, created = await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_a", created_by=user)
            await asyncio.sleep(0.05)
            return created

    results = await asyncio.gather(subscribe_on(store, "U1"), subscribe_on(second_store, "U2"))

    assert sorted(results) == [False, True]
    async with store.transaction() as tx:
        assert len(await tx.subscriptions.list_for_channel("C1")) == 1


async def _queue_and_fail(store: Store, key: str, channel: str, error: str | None) -> None:
    async with store.transaction() as tx:
        await tx.outbox.enqueue(key=key, channel=channel, kind="alert", payload={"text": key})
        if error is not None:
            (row,) = await tx.outbox.claim_heads(holder="t", limit=1, claim_ttl_ms=1000)
            await tx.outbox.mark_failed(row.id, error=error)


async def test_a_repair_queues_again_only_what_the_rule_it_is_given_names(store: Store) -> None:
    """The store stores: which Slack errors a repair forgives, and how far back, is the deliverer's policy."""
    async with store.transaction() as tx:
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_a", created_by="U1")
    await _queue_and_fail(store, "refused", "C1", "not_in_channel")
    await _queue_and_fail(store, "gone", "C1", "channel_not_found")
    async with store.transaction() as tx:
        await tx.subscriptions.mark_broken("C1", "not_in_channel")
    async with store.transaction() as tx:
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_a", created_by="U2")
        untouched = {key: (await tx.outbox.get(key)).status for key in ("refused", "gone")}  # type: ignore[union-attr]
        await tx.subscriptions.mark_broken("C1", "not_in_channel")
    rule = RequeueOnRepair(errors=frozenset({"not_in_channel"}), window_ms=3_600_000)
    async with store.transaction() as tx:
        await tx.subscriptions.subscribe(
            channel="C1", profile=P, target="job_a", created_by="U2", requeue_on_repair=rule
        )
        after = {key: (await tx.outbox.get(key)).status for key in ("refused", "gone")}  # type: ignore[union-attr]

    assert untouched == {"refused": "failed_permanent", "gone": "failed_permanent"}  # no rule: nothing re-queued
    assert after == {"refused": "pending", "gone": "failed_permanent"}


async def test_a_broken_channel_is_held_and_resubscribing_queues_its_channel_failures_again(
    store: Store, clock
) -> None:
    async with store.transaction() as tx:
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_a", created_by="U1")
        await tx.subscriptions.subscribe(channel="C2", profile=P, target="job_a", created_by="U1")
    await _queue_and_fail(store, "too-long", "C1", "msg_too_long")  # the message's fault, not the channel's
    await _queue_and_fail(store, "stale", "C1", "channel_not_found")
    clock.advance(8 * 24 * 3600)
    await _queue_and_fail(store, "refused", "C1", "not_in_channel")
    async with store.transaction() as tx:
        await tx.subscriptions.mark_broken("C1", "not_in_channel")
    await _queue_and_fail(store, "held", "C1", None)
    await _queue_and_fail(store, "other", "C2", None)

    async with store.transaction() as tx:
        claimed = await tx.outbox.claim_heads(holder="t", limit=10, claim_ttl_ms=1000)
        for row in claimed:
            await tx.outbox.release(row.id, next_attempt_at=tx.now)
    async with store.transaction() as tx:
        await tx.subscriptions.subscribe(
            channel="C1", profile=P, target="job_a", created_by="U2", requeue_on_repair=REQUEUE_ON_REPAIR
        )
    async with store.transaction() as tx:
        after = await tx.outbox.claim_heads(holder="t", limit=10, claim_ttl_ms=1000)
        rows = {key: await tx.outbox.get(key) for key in ("too-long", "stale", "refused", "held")}

    assert [row.key for row in claimed] == ["other"]  # C1 is held
    assert [row.key for row in after] == ["refused", "other"]  # C1's oldest first: the refused card, then "held"
    assert {key: (row.status, row.attempts) for key, row in rows.items() if row} == {
        "too-long": ("failed_permanent", 1),
        "stale": ("failed_permanent", 1),
        "refused": ("pending", 1),  # attempts counted afresh (this claim is the first)
        "held": ("pending", 0),
    }


async def test_one_active_subscription_is_enough_for_a_channel_to_be_delivered_to(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_a", created_by="U1")
        await tx.subscriptions.mark_broken("C1", "is_archived")
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_b", created_by="U1")
    await _queue_and_fail(store, "alert", "C1", None)

    async with store.transaction() as tx:
        claimed = await tx.outbox.claim_heads(holder="t", limit=10, claim_ttl_ms=1000)

    assert [row.key for row in claimed] == ["alert"]


async def _queue(
    store: Store, key: str, *, job: str | None, channel: str = "C1", kind: str = "alert", parent_key: str | None = None
) -> None:
    async with store.transaction() as tx:
        await tx.outbox.enqueue(
            key=key, channel=channel, kind=kind, payload={"text": key}, parent_key=parent_key, profile=P, job_name=job
        )


async def test_unwatching_cancels_what_is_still_queued_about_jobs_the_channel_no_longer_watches(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_a", created_by="U1")
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="etl_*", is_pattern=True, created_by="U1")
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="etl_x", created_by="U1")
        await tx.subscriptions.subscribe(channel="C2", profile=P, target="job_a", created_by="U1")
        unposted, _ = await tx.incidents.open_or_get(
            channel="C1", profile=P, job_name="job_a", instance_id=1, root_key="a1"
        )
        posted, _ = await tx.incidents.open_or_get(
            channel="C1", profile=P, job_name="etl_y", instance_id=5, root_key="y1"
        )
    await _queue(store, "y1", job="etl_y")
    async with store.transaction() as tx:
        (card,) = await tx.outbox.claim_heads(holder="t", limit=1, claim_ttl_ms=1000)
        await tx.outbox.mark_sent(card.id, ts="1.1", thread_ts=None)
    await _queue(store, "digest", job=None, kind="digest")
    await _queue(store, "a1", job="job_a", kind="thread_reply", parent_key="digest")
    await _queue(store, "a1-reply", job="job_a", kind="thread_reply", parent_key="a1")
    await _queue(store, "x1", job="etl_x")
    await _queue(store, "y1-update", job="etl_y", kind="update", parent_key="y1")
    await _queue(store, "c2-a1", job="job_a", channel="C2")

    async with store.transaction() as tx:
        assert await tx.subscriptions.unsubscribe(channel="C1", profile=P, target="job_a")
        # etl_x is still covered by the pattern: removing its exact watch cancels nothing.
        assert await tx.subscriptions.unsubscribe(channel="C1", profile=P, target="etl_x")
    async with store.transaction() as tx:
        after_job_a = {
            k: (await tx.outbox.get(k)).status for k in ("digest", "a1", "a1-reply", "x1", "y1-update", "c2-a1")
        }
        incidents = {i.root_key: i for i in await tx.incidents.unresolved(P)}
        resolved = await tx.incidents.get(unposted.id)
    async with store.transaction() as tx:
        assert await tx.subscriptions.unsubscribe(channel="C1", profile=P, target="etl_*")
    async with store.transaction() as tx:
        after_glob = {k: (await tx.outbox.get(k)).status for k in ("x1", "y1-update")}
        still_open = await tx.incidents.get(posted.id)

    assert after_job_a == {
        "digest": "cancelled",  # its only alert is cancelled: an empty digest would be noise
        "a1": "cancelled",
        "a1-reply": "cancelled",
        "x1": "pending",
        "y1-update": "pending",
        "c2-a1": "pending",  # another channel still watches job_a
    }
    # The incident whose card never reached the channel is closed quietly; the posted one stays open.
    assert set(incidents) == {"y1"}
    assert resolved is not None and resolved.state == "resolved" and resolved.resolved_by is None
    assert after_glob == {"x1": "cancelled", "y1-update": "cancelled"}
    assert still_open is not None and still_open.state == "open"


async def test_a_digest_with_an_alert_of_a_job_still_watched_stays(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_a", created_by="U1")
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_b", created_by="U1")
    await _queue(store, "digest", job=None, kind="digest")
    await _queue(store, "a1", job="job_a", kind="thread_reply", parent_key="digest")
    await _queue(store, "b1", job="job_b", kind="thread_reply", parent_key="digest")

    async with store.transaction() as tx:
        await tx.subscriptions.unsubscribe(channel="C1", profile=P, target="job_a")
        statuses = {k: (await tx.outbox.get(k)).status for k in ("digest", "a1", "b1")}

    assert statuses == {"digest": "pending", "a1": "cancelled", "b1": "pending"}


async def test_an_ended_follow_is_no_longer_watched_but_stays_until_deleted_and_a_new_follow_revives_it(
    store: Store, clock
) -> None:
    async with store.transaction() as tx:
        follow, _ = await tx.subscriptions.subscribe(
            channel="C1", profile=P, target="job_a", instance_id=7, created_by="U1"
        )
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_b", created_by="U1")
        await tx.subscriptions.end(follow.id)
    async with store.transaction() as tx:
        watching = await tx.subscriptions.list_watching(P)
        ended = await tx.subscriptions.list_ended_follows(P)
        listed = await tx.subscriptions.list_for_channel("C1")
    clock.advance(60)
    async with store.transaction() as tx:
        again, created = await tx.subscriptions.subscribe(
            channel="C1", profile=P, target="job_a", instance_id=7, created_by="U2"
        )
        revived = await tx.subscriptions.list_watching(P)

    assert [s.target for s in watching] == ["job_b"]
    assert [(s.id, s.ended_at) for s in ended] == [(follow.id, clock() - 60_000)]
    assert len(listed) == 2  # still the channel's (it may hold the channel until its outcome is out)
    assert not created and again.ended_at is None
    assert {s.target for s in revived} == {"job_a", "job_b"}
