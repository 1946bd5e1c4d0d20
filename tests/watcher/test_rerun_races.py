"""The rerun follower against a stop on another replica, on PostgreSQL (where two transactions do overlap): the
rerun ended by the stop while the follower waited for its row says nothing more — one story, one failure counted.

A real sandbox (the rerun's instance failed), the real follower, two Store engines on one database; the stop's
transaction is held open until PostgreSQL shows the follower waiting on its row lock, so the order is forced, not
hoped for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select, text
from watcher_rig import JOB_NODES, dlf_client

from bot.store import Store
from bot.store.migrate import migrate
from bot.store.tables import outbox
from bot.watcher.reruns import RerunFollower
from dlf_sandbox import Sandbox

P = "default"
JOB = "job_r"


@pytest.fixture
async def two_replicas(postgres_url: str) -> AsyncIterator[tuple[Store, Store]]:
    await migrate(postgres_url)
    first, second = await Store.open(postgres_url), await Store.open(postgres_url)
    try:
        yield first, second
    finally:
        await first.aclose()
        await second.aclose()


async def _waiting_on_a_lock(store: Store) -> bool:
    async with store.transaction(read_only=True) as tx:
        found = await tx.conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        return int(found.scalar_one()) > 0


async def test_a_rerun_stopped_on_another_replica_while_the_follower_waited_is_not_told_twice(
    two_replicas: tuple[Store, Store],
) -> None:
    follower_store, stop_store = two_replicas
    sandbox = Sandbox(seed=False)
    async with sandbox.serve() as dlf_url, dlf_client(dlf_url) as client:
        sandbox.state.add_job(JOB, None, nodes=JOB_NODES)
        now = sandbox.clock()
        iid = sandbox.timeline.appear(JOB, at=now - 60_000, status="running")
        sandbox.timeline.fail(JOB, iid, at=now - 1_000, failed_node="load")
        sandbox.timeline.step_until(now)
        async with follower_store.transaction() as tx:
            incident, _ = await tx.incidents.open_or_get(
                channel="C1", profile=P, job_name=JOB, instance_id=iid, root_key="card-r"
            )
            claimed = await tx.incidents.claim_rerun(
                incident.id, by="U0OPS", retry_location="error_node", instance_id=iid, run_start=0
            )
            assert claimed is not None
            await tx.incidents.set_rerun_state(incident.id, seq=claimed.rerun_seq, state="running")
        follower = RerunFollower(profile=P, client=client, store=follower_store)

        async with stop_store.transaction() as tx:  # the stop's transaction: the slot ended, not committed yet
            assert await tx.incidents.end_rerun(incident.id, seq=claimed.rerun_seq)
            following = asyncio.create_task(follower.follow(follower_store.now()))
            deadline = asyncio.get_running_loop().time() + 10
            while not await _waiting_on_a_lock(follower_store):
                assert not following.done(), "the follower finished without waiting for the stop's row"
                assert asyncio.get_running_loop().time() < deadline, "the follower never reached the row"
                await asyncio.sleep(0.01)
        queued = await following

    assert queued == 0
    async with follower_store.transaction(read_only=True) as tx:
        keys = [str(k) for k in (await tx.conn.execute(select(outbox.c.key))).scalars()]
        after = await tx.incidents.get(incident.id)
    assert keys == []  # no "rerun ended" reply, no redraw: the stop tells it
    assert after is not None and after.failure_count == 1 and after.rerun_state is None
