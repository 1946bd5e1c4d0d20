"""Real processes: SIGKILLed at random points of their cycles, and two replicas on one PostgreSQL database.

The sandbox and the fake Slack run in this test's event loop; the bot runs in `crash_worker.py` subprocesses.
Whatever happens to the processes, every failure must reach every subscribed channel exactly once.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from watcher_rig import JOB_NODES, metadata_of

from bot.render.limits import problems
from bot.store import Store
from dlf_sandbox import SANDBOX_CREDENTIALS, Sandbox
from slack_fake import FakeSlack

WORKER = Path(__file__).with_name("crash_worker.py")
ROOT = Path(__file__).resolve().parents[2]
TRIALS = 16
JOBS = [f"job_{n}" for n in range(5)]
# Which channel hears about which job: C1 watches them all through a glob, C2 two of them by name.
WATCHERS = {"C1": ("job_*", True), "C2a": ("job_0", False), "C2b": ("job_3", False)}
CHANNEL_OF = {"C1": "C1", "C2a": "C2", "C2b": "C2"}


@dataclass
class World:
    sandbox: Sandbox
    slack: FakeSlack
    dlf_url: str
    slack_url: str
    failures: list[tuple[str, int]] = field(default_factory=list)

    def fail(self, job: str) -> None:
        now = self.sandbox.clock()
        iid = self.sandbox.timeline.appear(job, at=now - 5_000, status="running")
        self.sandbox.timeline.fail(job, iid, at=now - 100)
        self.sandbox.timeline.step_until(now)
        self.failures.append((job, iid))

    def succeed(self, job: str) -> None:
        now = self.sandbox.clock()
        iid = self.sandbox.timeline.appear(job, at=now - 5_000, status="running")
        self.sandbox.timeline.succeed(job, iid, at=now - 100)
        self.sandbox.timeline.step_until(now)

    async def worker(self, db: str, holder: str, *extra: str) -> asyncio.subprocess.Process:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "DLF_BOT_TEST_AK": SANDBOX_CREDENTIALS.ak,
            "DLF_BOT_TEST_SK": SANDBOX_CREDENTIALS.sk,
            "DLF_BOT_TEST_PROJECT": SANDBOX_CREDENTIALS.project_id,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            "--dlf",
            self.dlf_url,
            "--slack",
            self.slack_url,
            "--db",
            db,
            "--holder",
            holder,
            *extra,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
        )
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), timeout=60)
        assert line.strip() == b"ready", line
        return process

    async def clean_run(self, db: str) -> None:
        """A worker left alone until a cycle finds nothing new and the outbox is empty (under the killed workers'
        name, so it need not wait for their poll lease to expire)."""
        process = await self.worker(db, "crashing-replica", "--until-idle", "--seconds", "60")
        assert await asyncio.wait_for(process.wait(), timeout=90) == 0

    def assert_each_failure_said_once_per_channel(self) -> None:
        # What the channels show (a message Slack stored is there even if its poster died before the answer).
        posted = [(channel, m) for channel in ("C1", "C2") for m in self.slack.channel_messages(channel)]
        keys = Counter(metadata_of(m).get("key") for _, m in posted)
        assert [k for k, n in keys.items() if n > 1] == [], "a message was posted twice"
        said = Counter(
            (channel, metadata_of(m)["job"], metadata_of(m)["instance_id"])
            for channel, m in posted
            if metadata_of(m).get("event") in ("failure", "failed_again")
        )
        expected = Counter(
            (CHANNEL_OF[name], job, iid)
            for job, iid in self.failures
            for name, (target, pattern) in WATCHERS.items()
            if (job.startswith("job_") if pattern else job == target)
        )
        assert said == expected


@pytest.fixture
async def world() -> AsyncIterator[World]:
    sandbox = Sandbox(seed=False)
    for job in JOBS:
        sandbox.state.add_job(job, nodes=JOB_NODES)
    slack = FakeSlack(validator=problems)
    async with sandbox.serve() as dlf_url, slack.serve() as slack_url:
        yield World(sandbox=sandbox, slack=slack, dlf_url=dlf_url, slack_url=slack_url)


async def subscribe_all(db: str) -> None:
    store = await Store.open(db)
    try:
        async with store.transaction() as tx:
            for name, (target, pattern) in WATCHERS.items():
                await tx.subscriptions.subscribe(
                    channel=CHANNEL_OF[name], profile="default", target=target, is_pattern=pattern, created_by="U1"
                )
    finally:
        await store.aclose()


@pytest.mark.slow
async def test_sigkill_at_random_points_neither_loses_nor_repeats_an_alert(world: World, tmp_path: Path) -> None:
    rng = random.Random(20261126)
    db = f"sqlite:///{tmp_path}/bot.db"
    await subscribe_all(db)
    for _ in range(TRIALS):
        for _ in range(rng.randint(1, 3)):
            world.fail(rng.choice(JOBS))
        if rng.random() < 0.3:
            world.succeed(rng.choice(JOBS))  # recoveries make incidents close and new ones open
        # One holder name across trials: a restarted process takes its own lease back at once.
        process = await world.worker(db, "crashing-replica")
        await asyncio.sleep(rng.uniform(0.0, 0.8))
        process.send_signal(signal.SIGKILL)
        await process.wait()

    # One more crash, at the worst moment by construction: Slack has posted the alert, the bot never heard "ok".
    world.fail("job_1")
    posted_before = sum(len(world.slack.channel_messages(c)) for c in ("C1", "C2"))
    world.slack.answer_delay_s = 5.0
    process = await world.worker(db, "crashing-replica")
    for _ in range(600):
        if sum(len(world.slack.channel_messages(c)) for c in ("C1", "C2")) > posted_before:
            break
        await asyncio.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    await process.wait()
    world.slack.answer_delay_s = 0.0

    await world.clean_run(db)

    world.assert_each_failure_said_once_per_channel()
    # The clean run found that alert in the channel's history (by its metadata key) instead of posting it again.
    assert world.slack.calls_to("conversations.history") or world.slack.calls_to("conversations.replies")


@pytest.mark.slow
@pytest.mark.postgres
async def test_two_replicas_on_one_postgres_alert_each_failure_once(world: World, postgres_url: str) -> None:
    rng = random.Random(7)
    await subscribe_all(postgres_url)
    # A short lease: the replicas hand polling over to each other while failures keep coming.
    replicas = [
        await world.worker(postgres_url, f"replica-{n}", "--seconds", "10", "--lease-ttl", "0.5") for n in range(2)
    ]
    for _ in range(10):
        world.fail(rng.choice(JOBS))
        await asyncio.sleep(0.25)
    replicas[0].send_signal(signal.SIGKILL)  # one replica dies mid-run; the other must take over
    for _ in range(6):
        world.fail(rng.choice(JOBS))
        await asyncio.sleep(0.3)
    for replica in replicas:
        await asyncio.wait_for(replica.wait(), timeout=60)

    await world.clean_run(postgres_url)

    world.assert_each_failure_said_once_per_channel()


DLF_BOT = str(Path(sys.executable).parent / "dlf-bot")
RUN_TRIALS = 5


async def start_dlf_bot(world: World, db: str, log: Path) -> asyncio.subprocess.Process:
    """Start it, logging to `log` (a file of this start's own); return once it serves."""
    # The shipped `dlf-bot run` (HTTP mode, APScheduler, the outbox deliverer), polling every second, with a short
    # poll lease and row claim so that a restart takes over from a SIGKILLed process within seconds.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "DLF_", "HUAWEICLOUD_"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-crash-test-token",
        SLACK_SIGNING_SECRET="crash-test-secret",
        SLACK_API_URL=world.slack_url,
        DLF_ENDPOINT=world.dlf_url,
        HUAWEICLOUD_SDK_PROJECT_ID=SANDBOX_CREDENTIALS.project_id,
        HUAWEICLOUD_SDK_AK=SANDBOX_CREDENTIALS.ak,
        HUAWEICLOUD_SDK_SK=SANDBOX_CREDENTIALS.sk,
        PORT="0",
        LOG_LEVEL="INFO",
        DATABASE_URL=db,
        DLF_POLL_INTERVAL="1",
        DLF_WATCHER_LEASE_TTL="2",
        DLF_OUTBOX_CLAIM_TTL="2",
    )
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            DLF_BOT, "run", "--host", "127.0.0.1", env=env, stdout=asyncio.subprocess.DEVNULL, stderr=sink
        )
    for _ in range(600):
        if b"serving Slack events on" in log.read_bytes():
            return process
        if process.returncode is not None:
            break
        await asyncio.sleep(0.05)
    raise AssertionError("dlf-bot run did not start:\n" + log.read_text(errors="replace")[-3000:])


@pytest.mark.slow
async def test_sigkill_of_the_real_dlf_bot_run_neither_loses_nor_repeats_an_alert(world: World, tmp_path: Path) -> None:
    rng = random.Random(8)
    db = f"sqlite:///{tmp_path}/bot.db"
    await subscribe_all(db)
    world.sandbox.faults.latency_ms = 50  # cycles and deliveries take a while: kills land inside them
    for trial in range(RUN_TRIALS):
        for _ in range(rng.randint(1, 3)):
            world.fail(rng.choice(JOBS))
        if rng.random() < 0.3:
            world.succeed(rng.choice(JOBS))
        process = await start_dlf_bot(world, db, tmp_path / f"dlf-bot-{trial}.log")
        await asyncio.sleep(rng.uniform(0.2, 2.5))
        process.send_signal(signal.SIGKILL)
        await process.wait()

    # A last run, left alone until every failure is in its channels (and a little longer, for a duplicate to show).
    process = await start_dlf_bot(world, db, tmp_path / "dlf-bot-last.log")
    try:
        for _ in range(300):
            try:
                world.assert_each_failure_said_once_per_channel()
                break
            except AssertionError:
                await asyncio.sleep(0.1)
        await asyncio.sleep(2.5)
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    world.assert_each_failure_said_once_per_channel()
    posts = Counter(
        (call.params.get("channel"), metadata_of(call.params).get("key"))
        for call in world.slack.calls_to("chat.postMessage")
        if call.outcome == "ok"
    )
    assert [key for key, n in posts.items() if n > 1] == [], "Slack accepted the same message twice"
    assert len(world.failures) >= RUN_TRIALS
