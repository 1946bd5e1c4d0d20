"""A rerun in flight survives a SIGKILL of `dlf-bot run`: the restarted process follows it on from the store, and
the thread ends with exactly one progress reply (edited to the end) and one recovery reply — nothing lost, nothing
said twice, one card.

The rerun is claimed through the store as the actions side does, and DLF's real restart is sent to the sandbox over
HTTP; the sandbox finishes the rerun's nodes one `step()` at a time, some while the bot is dead."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rig import World, metadata_of, wait_for

from bot.dlf.auth import AkSk
from bot.dlf.client import DlfClient
from bot.dlf.config import DlfConfig
from bot.store import Store
from dlf_sandbox import SANDBOX_CREDENTIALS

pytestmark = [pytest.mark.drill, pytest.mark.slow]

JOB = "job_rerun"


def _events(world: World) -> list[tuple[str, dict[str, Any]]]:
    return [(m["ts"], metadata_of(m)) for m in world.slack.channel_messages("C1")]


def _thread(world: World, card_ts: str) -> list[dict[str, Any]]:
    return world.slack.thread("C1", card_ts)


async def _rerun_through_the_store(world: World, database: str, iid: int) -> None:
    store = await Store.open(database)
    try:
        async with store.transaction() as tx:
            (incident,) = await tx.incidents.unresolved("default")
            claimed = await tx.incidents.claim_rerun(
                incident.id,
                by="U0ALICE",
                retry_location="error_node",
                instance_id=iid,
                run_start=world.sandbox.state.instance(JOB, iid).start_time,
            )
        assert claimed is not None
        config = DlfConfig(endpoint=world.dlf_url, project_id=SANDBOX_CREDENTIALS.project_id, max_retries=1)
        async with DlfClient(
            config=config, credentials=AkSk(access_key=SANDBOX_CREDENTIALS.ak, secret_key=SANDBOX_CREDENTIALS.sk)
        ) as client:
            await client.rerun(JOB, iid, retry_location="error_node")
        async with store.transaction() as tx:
            assert await tx.incidents.set_rerun_state(claimed.id, seq=claimed.rerun_seq, state="running")
    finally:
        await store.aclose()


async def test_a_rerun_in_flight_survives_a_sigkill_one_progress_reply_one_recovery(
    world: World, database: str, tmp_path: Path
) -> None:
    world.add_jobs([JOB])
    bot = await world.start_bot(database, log=tmp_path / "bot-0.log")
    await world.watch(bot, "C1", JOB)
    iid = world.fail(JOB, failed_node="extract")
    await wait_for(lambda: any(e.get("event") == "failure" for _, e in _events(world)), timeout=60, what="the card")
    (card_ts,) = [ts for ts, e in _events(world) if e.get("event") == "failure"]

    world.sandbox.timeline.on_rerun("success", after_ms=3_000, job=JOB, instance_id=iid)
    await _rerun_through_the_store(world, database, iid)
    await wait_for(lambda: len(_thread(world, card_ts)) == 1, timeout=60, what="the progress reply")
    world.sandbox.timeline.step()  # one node done
    await wait_for(
        lambda: "1 of 3 nodes done" in str(_thread(world, card_ts)[0].get("blocks")), timeout=60, what="its edit"
    )

    bot.kill()
    await bot.wait()
    while world.sandbox.timeline.step() is not None:  # the rest of the rerun, and its success, while nobody looks
        pass
    bot = await world.start_bot(database, log=tmp_path / "bot-1.log")
    await wait_for(lambda: len(_thread(world, card_ts)) >= 2, timeout=90, what="the recovery reply")
    await asyncio.sleep(4)  # a few more poll cycles: time for a duplicate to show

    replies = _thread(world, card_ts)
    assert [metadata_of(m).get("event") for m in replies] == ["rerun_progress", "resolved"]
    progress, recovered = (str(m.get("blocks")) for m in replies)
    assert "rerun finished: 3 of 3 nodes done" in progress
    assert f"`{JOB}` recovered after" in recovered and "1 failure, by <@U0ALICE>'s rerun." in recovered
    keys = Counter(metadata_of(m).get("key") for m in world.slack.channel_messages("C1"))
    assert all(count == 1 for count in keys.values()), keys
    assert len([ts for ts, e in _events(world) if e.get("event") == "failure"]) == 1
    assert "Resolved" in str(world.slack.channel_messages("C1")[0].get("blocks"))
    assert await bot.stop() == 0
