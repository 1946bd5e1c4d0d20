"""PostgreSQL as deployed: hundreds of incidents through one `dlf-bot run` on one pool, then two replicas on one
database with the lease holder SIGKILLed in the middle of a burst."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest
from rig import World, lease_holder_pid, wait_for

pytestmark = [pytest.mark.drill, pytest.mark.slow, pytest.mark.postgres]

JOBS = [f"soak_{n:02d}" for n in range(40)]


async def test_hundreds_of_incidents_open_repeat_and_resolve_through_one_bot(
    world: World, postgres_db: str, tmp_path: Path
) -> None:
    world.add_jobs(JOBS)
    bot = await world.start_bot(postgres_db, log=tmp_path / "bot.log")
    # Twenty channels watching two jobs each by name, and one watching five of them through a glob: each channel
    # hears at most about one message a second (Slack's pace), so the drill measures the bot, not Slack's limit.
    for n in range(20):
        await world.watch(bot, f"C{n:02d}", JOBS[2 * n])
        await world.watch(bot, f"C{n:02d}", JOBS[2 * n + 1])
    await world.watch(bot, "C_GLOB", "soak_0[0-4]")
    rng = random.Random(6)
    opened = 0
    open_jobs: set[str] = set()
    while opened < 210:
        # A round: a few jobs fail (a new incident, or a repeat in an open one), a few recover.
        for job in rng.sample(JOBS, 4):
            opened += job not in open_jobs
            open_jobs.add(job)
            world.fail(job)
        for job in rng.sample(sorted(open_jobs), min(3, len(open_jobs))):
            world.succeed(job)
            open_jobs.discard(job)
        await asyncio.sleep(1.5)
    await world.wait_until_all_said(timeout=240)
    try:
        await wait_for(
            lambda: world.recoveries_said() == world.expected_recoveries(),
            timeout=120,
            what="every recovery reaching its incident's thread",
        )
    except AssertionError:
        said, expected = world.recoveries_said(), world.expected_recoveries()
        print("missing recoveries:", dict(expected - said), "unexpected:", dict(said - expected))
        print("history of the missing:", [h for h in world.history if any(h[1] == job for _, job in expected - said)])
        raise
    await asyncio.sleep(3)  # time for a duplicate to show

    world.assert_exactly_once()
    assert opened >= 200
    assert world.recoveries_said() == world.expected_recoveries()
    status, health = await bot.healthz()
    assert status == 200, health
    assert "there is no unique or exclusion constraint" not in bot.log_text()
    assert await bot.stop() == 0


async def test_two_replicas_survive_a_sigkill_of_the_lease_holder_mid_burst(
    world: World, postgres_db: str, tmp_path: Path
) -> None:
    world.add_jobs(JOBS)
    # Default lease and claim TTLs: takeover must come from knowing the holder is dead, not from waiting them out.
    first = await world.start_bot(postgres_db, log=tmp_path / "first.log")
    second = await world.start_bot(postgres_db, log=tmp_path / "second.log")
    for n in range(8):
        await world.watch(first if n % 2 else second, f"C{n}", f"soak_{n}*")
    for job in JOBS[:8]:
        world.fail(job)
    await world.wait_until_all_said(timeout=60)

    holder_pid = await lease_holder_pid(postgres_db)
    holder = next(bot for bot in (first, second) if bot.process.pid == holder_pid)
    survivor = second if holder is first else first
    for job in JOBS:
        world.fail(job)
    await asyncio.sleep(1.0)
    holder.kill()
    killed_at = time.monotonic()
    await holder.wait()
    for job in JOBS[:8]:
        world.fail(job)
    await world.wait_until_all_said(timeout=300)
    print(
        f"takeover: every failure of the burst in its channel {time.monotonic() - killed_at:.1f} s after the "
        "SIGKILL of the lease holder"
    )
    await asyncio.sleep(3)

    world.assert_exactly_once()
    assert await survivor.stop() == 0
