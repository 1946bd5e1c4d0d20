"""Alerts are queued as their details arrive, not after every details call of the cycle; partial progress is safe."""

from __future__ import annotations

import asyncio
from collections import Counter

from watcher_rig import Rig, dlf_client, metadata_of

from bot.dlf.client import DlfClient
from bot.dlf.models import Instance
from bot.errors import DlfUnavailable
from bot.watcher.poller import PollOptions, ProfilePoller

P = "default"


def _failures_said(rig: Rig, channel: str) -> Counter[tuple[str, int]]:
    return Counter(
        (meta["job"], int(meta["instance_id"]))
        for meta in map(metadata_of, rig.slack.channel_messages(channel))
        if meta.get("event") == "failure"
    )


class _DlfGoesDown(DlfClient):
    """The real client; DLF stops answering details after `answers` of them (an outage in the middle of a cycle)."""

    answers = 12

    async def get_instance(self, job_name: str, instance_id: int) -> Instance:
        if self.answers <= 0:
            raise DlfUnavailable("DLF answered 503", operation="get_instance")
        self.answers -= 1
        return await super().get_instance(job_name, instance_id)


async def test_the_first_alert_reaches_slack_while_the_other_details_are_still_being_fetched(rig: Rig) -> None:
    jobs = [f"job_{n:02d}" for n in range(80)]
    for job in jobs:
        rig.add_job(job)
        rig.fail(job)
    await rig.subscribe("C1", "job_*", is_pattern=True)
    rig.sandbox.faults.latency_ms = 150
    poller = ProfilePoller(
        profile=P,
        client=dlf_client(rig.dlf_url, rate_limit=20.0),
        store=rig.store,
        options=PollOptions(digest_threshold=1000),
    )
    try:
        cycle = asyncio.create_task(poller.run_cycle())
        posted_while_fetching = 0
        while not cycle.done():
            await rig.watcher.deliver_once()
            if rig.posts("C1") and not cycle.done():
                posted_while_fetching = len(rig.posts("C1"))
                break
            await asyncio.sleep(0.02)
        report = await cycle
    finally:
        await poller.client.aclose()
    await rig.watcher.drain()

    # 80 details at 150 ms each, 8 at a time and 20/s past a burst of 50, take about 3 s: the first card does not
    # wait for them.
    assert 0 < posted_while_fetching < 80
    assert report.ok and report.new_failures == 80 and report.batches > 1
    assert _failures_said(rig, "C1") == Counter({(job, iid): 1 for job, iid in _listed(rig, jobs)})


def _listed(rig: Rig, jobs: list[str]) -> list[tuple[str, int]]:
    return [(job, iid) for job in jobs for iid in rig.sandbox.state.job(job).instance_ids]


async def test_dlf_failing_mid_cycle_keeps_what_was_written_and_the_next_cycle_does_the_rest_once(rig: Rig) -> None:
    jobs = [f"job_{n:02d}" for n in range(30)]
    for job in jobs:
        rig.add_job(job)
        rig.fail(job)
    await rig.subscribe("C1", "job_*", is_pattern=True)
    options = PollOptions(digest_threshold=1000, detail_batch=5, detail_concurrency=2)
    failing = ProfilePoller(
        profile=P, client=dlf_client(rig.dlf_url, client_class=_DlfGoesDown), store=rig.store, options=options
    )
    try:
        broken = await failing.run_cycle()
    finally:
        await failing.client.aclose()
    async with rig.store.transaction() as tx:
        queued = await tx.outbox.pending_count("C1")
        state = await tx.watcher_state.get(P)
    await rig.watcher.drain()
    healthy = ProfilePoller(profile=P, client=dlf_client(rig.dlf_url), store=rig.store, options=options)
    try:
        redo = await healthy.run_cycle()
        again = await healthy.run_cycle()
    finally:
        await healthy.client.aclose()
    await rig.watcher.drain()

    assert broken.error == "DlfUnavailable" and state is not None and state.cursor is None  # the cursor stayed
    assert 0 < queued < 30  # what had its details is out already
    assert redo.ok and redo.new_failures == 30 - queued and again.new_failures == 0
    assert _failures_said(rig, "C1") == Counter({key: 1 for key in _listed(rig, jobs)})


async def test_a_storm_posts_its_digest_first_and_every_alert_once_in_its_thread_even_across_a_crash(
    rig: Rig,
) -> None:
    jobs = [f"job_{n:02d}" for n in range(30)]
    for job in jobs:
        rig.add_job(job)
        rig.fail(job)
    await rig.subscribe("C1", "job_*", is_pattern=True)
    options = PollOptions(digest_threshold=5, detail_batch=5, detail_concurrency=2)
    failing = ProfilePoller(
        profile=P, client=dlf_client(rig.dlf_url, client_class=_DlfGoesDown), store=rig.store, options=options
    )
    try:
        await failing.run_cycle()
    finally:
        await failing.client.aclose()
    async with rig.store.transaction() as tx:
        first_row = await tx.outbox.claim_heads(holder="test", limit=1, claim_ttl_ms=60_000)
        for row in first_row:
            await tx.outbox.release(row.id, next_attempt_at=tx.now)
    healthy = ProfilePoller(profile=P, client=dlf_client(rig.dlf_url), store=rig.store, options=options)
    try:
        await healthy.run_cycle()
    finally:
        await healthy.client.aclose()
    await rig.watcher.drain()

    assert [row.kind for row in first_row] == ["digest"]  # the storm's card went first, before any of its alerts
    assert _failures_said(rig, "C1") == Counter({key: 1 for key in _listed(rig, jobs)})
    top = rig.top_level("C1")
    assert {metadata_of(m)["event"] for m in top} == {"digest"}  # every alert is in a digest's thread
    for digest in top:
        replies = rig.slack.thread("C1", digest["ts"])
        assert all(metadata_of(r)["event"] == "failure" for r in replies)
