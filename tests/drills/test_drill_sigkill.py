"""SIGKILL at random moments of a 50-failure burst across 3 channels, with the default TTLs, again and again:
`dlf-bot run` is killed mid-burst and started again at once, five times on a SQLite file and five times on
PostgreSQL (ten SIGKILLs, each test well under five minutes). Each restart must take the dead process's
claims and poll lease over as soon as its heartbeat lapses (not after the 120 s claim TTL), and in the end every
failure is in its channel exactly once, every reply in its thread, every card up to date."""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from pathlib import Path

import pytest
from rig import World, outbox_rows

pytestmark = [pytest.mark.drill, pytest.mark.slow]

TRIALS = 5  # per database: ten over the two
GROUPS = {"C1": "burst_a", "C2": "burst_b", "C3": "burst_c"}
PREFIXES = list(GROUPS.values())
JOBS = [f"{PREFIXES[n % len(PREFIXES)]}_{n:02d}" for n in range(50)]  # 17, 17 and 16 jobs per channel


async def test_sigkill_mid_burst_again_and_again_with_default_ttls_loses_and_repeats_nothing(
    world: World, database: str, tmp_path: Path
) -> None:
    world.slack.post_interval_per_channel = 1.0
    world.add_jobs(JOBS)
    rng = random.Random(2026)
    bot = await world.start_bot(database, log=tmp_path / "bot-0.log")  # no TTL overrides: the defaults
    for channel, prefix in GROUPS.items():
        await world.watch(bot, channel, f"{prefix}_*")

    recoveries: list[float] = []  # from the restarted process serving to every failure in its channel
    since_kill: list[float] = []  # the same from the SIGKILL (the restart's own start-up included)
    first_posts: list[float] = []
    for trial in range(1, TRIALS + 1):
        for job in JOBS:
            world.fail(job)  # a new incident, or a repeat (thread reply + card update) in an open one
        await asyncio.sleep(rng.uniform(0.5, 10.0))  # somewhere in the poll cycle or the paced delivery
        bot.kill()
        killed = time.monotonic()
        await bot.wait()
        posted_at_kill = len(world.slack.calls_to("chat.postMessage"))
        bot = await world.start_bot(database, log=tmp_path / f"bot-{trial}.log")
        restarted = time.monotonic()
        await world.wait_until_all_said(timeout=150)
        recoveries.append(time.monotonic() - restarted)
        since_kill.append(time.monotonic() - killed)
        posts = world.slack.calls_to("chat.postMessage")
        first_posts.append(max(posts[posted_at_kill].at - restarted, 0.0) if len(posts) > posted_at_kill else 0.0)
        print(
            f"trial {trial}: every failure said {recoveries[-1]:.1f} s after the restarted process served "
            f"({since_kill[-1]:.1f} s after the SIGKILL); its first post {first_posts[-1]:.1f} s after it served"
        )

    async def all_sent() -> bool:
        return all(row["status"] == "sent" for row in await outbox_rows(database))

    deadline = time.monotonic() + 120
    while not await all_sent() and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    await asyncio.sleep(3)  # time for a duplicate to show
    print(
        f"recovery after restart over {TRIALS} SIGKILLs: median {statistics.median(recoveries):.1f} s, "
        f"max {max(recoveries):.1f} s (from the SIGKILL: median {statistics.median(since_kill):.1f} s, max "
        f"{max(since_kill):.1f} s; first post after the restart: median {statistics.median(first_posts):.1f} s, "
        f"max {max(first_posts):.1f} s)"
    )

    world.assert_exactly_once()
    world.assert_cards_and_threads_complete(await outbox_rows(database))
    assert sum(world.expected().values()) == TRIALS * len(JOBS)
    status, health = await bot.healthz()
    assert status == 200, health
    assert await bot.stop() == 0
