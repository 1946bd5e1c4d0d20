"""The watcher on its schedule: APScheduler in the test's event loop, ticks that fail, the poll lease."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import text
from watcher_rig import Rig, build_rig_watcher, dlf_client, slack_client

from bot.watcher.demo import run_watch_demo
from bot.watcher.scheduler import WatcherOptions


async def wait_for_posts(rig: Rig, count: int, timeout: float = 20.0) -> None:
    await rig.slack.wait_for_calls("chat.postMessage", count=count, timeout=timeout)


async def test_started_watcher_polls_and_delivers_on_its_own(rig: Rig) -> None:
    await rig.replace_watcher(poll_interval_s=0.2, delivery_interval_s=0.1)
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    rig.watcher.start()
    rig.fail("job_a")

    await wait_for_posts(rig, 1)

    assert rig.watcher.running
    async with rig.store.transaction() as tx:
        state = await tx.watcher_state.get("default")
    assert state is not None and state.heartbeat_at is not None and state.cursor is not None
    await rig.watcher.stop()
    assert not rig.watcher.running


async def test_a_failing_tick_is_logged_and_the_schedule_goes_on(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    await rig.replace_watcher(poll_interval_s=0.2, delivery_interval_s=0.1)
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    # The database loses a table under the running watcher: every poll tick fails until it is back.
    async with rig.store.transaction() as tx:
        await tx.conn.execute(text("ALTER TABLE subscriptions RENAME TO subscriptions_away"))
    rig.watcher.start()
    rig.fail("job_a")
    with caplog.at_level(logging.ERROR, logger="bot.watcher"):
        for _ in range(100):
            if any("crashed" in r.getMessage() or "tick failed" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.1)
    assert rig.posts() == []
    async with rig.store.transaction() as tx:
        await tx.conn.execute(text("ALTER TABLE subscriptions_away RENAME TO subscriptions"))

    await wait_for_posts(rig, 1)

    assert any("crashed" in r.getMessage() for r in caplog.records), "the failing ticks were logged"


async def test_only_the_lease_holder_polls(rig: Rig) -> None:
    second = build_rig_watcher(rig.store, rig.dlf_url, rig.slack_url)
    try:
        assert len(await rig.watcher.run_cycle_once()) == 2
        assert await second.run_cycle_once() == []  # another replica holds the poll lease
        await rig.watcher.stop()  # stopping hands the lease over at once
        assert len(await second.run_cycle_once()) == 2
    finally:
        await second.stop()
        for poller in second.pollers:
            await poller.client.aclose()


def test_intervals_must_be_positive() -> None:
    with pytest.raises(ValueError):
        WatcherOptions(poll_interval_s=0)


async def test_demo_shows_the_alert_of_the_watched_job(rig: Rig) -> None:
    rig.add_job("job_batch")
    client = dlf_client(rig.dlf_url)
    try:
        demo = await run_watch_demo(
            store=rig.store, clients={"default": client}, slack=slack_client(rig.slack_url), fail_instance=rig.fail
        )
    finally:
        await client.aclose()

    assert demo.keys == (f"alert:default:C0DEMO:job_batch:{demo.instance_id}:failure",)
    (alert,) = demo.messages
    assert "job_batch" in alert.text and "<@U0DEMO>" in alert.text


async def test_ticks_skipped_behind_a_slow_cycle_are_logged_once_per_streak(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    await rig.replace_watcher(poll_interval_s=0.1, delivery_interval_s=5)
    rig.sandbox.faults.latency_ms = 400  # each DLF call: a cycle takes several poll intervals
    with caplog.at_level(logging.INFO):
        rig.watcher.start()
        for _ in range(100):
            if any("runs again after" in r.getMessage() for r in caplog.records):
                break
            await asyncio.sleep(0.05)
        await rig.watcher.stop()

    skipped = [r for r in caplog.records if "maximum number of running instances" in r.getMessage()]
    assert skipped == []  # APScheduler's per-tick warning is gone...
    streak = [r for r in caplog.records if "poll cycle is still running" in r.getMessage()]
    assert len(streak) == 1 and streak[0].levelname == "WARNING"  # ...said once for the streak
    [again] = [r for r in caplog.records if "poll cycle runs again after" in r.getMessage()]
    assert int(again.getMessage().split("after ")[1].split(" ")[0]) >= 2
