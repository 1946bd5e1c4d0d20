"""Incident actions in the store: one winner for every claim (two replicas, a double click), on SQLite and PostgreSQL.

A rerun slot, an acknowledgement, a resolution and an escalation reminder are each taken by a conditional update:
whoever loses learns it from the store and does nothing — which is what keeps DLF from being called twice and the
thread from saying the same thing twice.
"""

from __future__ import annotations

import asyncio

from bot.store import Store
from bot.store.testing import ManualClock

P = "default"


async def _open(store: Store, *, job: str = "job_a", escalate_in_ms: int | None = None) -> int:
    async with store.transaction() as tx:
        incident, created = await tx.incidents.open_or_get(
            channel="C1",
            profile=P,
            job_name=job,
            instance_id=7,
            root_key=f"card-{job}",
            team="T1",
            escalate_at=None if escalate_in_ms is None else tx.now + escalate_in_ms,
            escalation_mention="<!subteam^S1>",
        )
    assert created and incident.team == "T1"
    return incident.id


async def test_one_rerun_claim_wins_across_replicas(store: Store, second_store: Store) -> None:
    incident_id = await _open(store)

    async def claim(on: Store, who: str) -> bool:
        async with on.transaction() as tx:
            claimed = await tx.incidents.claim_rerun(
                incident_id, by=who, retry_location="error_node", instance_id=7, run_start=1000
            )
        return claimed is not None

    results = await asyncio.gather(*(claim(s, f"U{n}") for n, s in enumerate([store, second_store] * 4)))
    assert sorted(results) == [False] * 7 + [True]
    async with store.transaction() as tx:
        incident = await tx.incidents.get(incident_id)
        assert incident is not None and incident.rerun_state == "requested" and incident.rerun_seq == 1
        assert [i.id for i in await tx.incidents.reruns_in_flight(P)] == [incident_id]
        # Another rerun only once this one is over; a stale sequence number changes nothing.
        assert await tx.incidents.set_rerun_state(incident_id, seq=1, state="running")
        assert await tx.incidents.set_rerun_progress(incident_id, seq=1, progress="3/7")
        assert not await tx.incidents.set_rerun_progress(incident_id, seq=1, progress="3/7")
        assert not await tx.incidents.end_rerun(incident_id, seq=0)
        assert await tx.incidents.end_rerun(incident_id, seq=1)
        assert not await tx.incidents.end_rerun(incident_id, seq=1)
        again = await tx.incidents.claim_rerun(
            incident_id, by="U9", retry_location="first_node", instance_id=7, run_start=2000
        )
        assert again is not None and again.rerun_seq == 2 and again.rerun_progress is None


async def test_a_resolved_incident_takes_no_rerun_and_no_second_resolution(store: Store) -> None:
    incident_id = await _open(store)
    async with store.transaction() as tx:
        await tx.incidents.claim_rerun(incident_id, by="U1", retry_location="error_node", instance_id=7, run_start=1)
        resolved, changed = await tx.incidents.try_resolve(
            incident_id, by=None, reason="rerun succeeded", rerun_of="U1"
        )
        assert changed and resolved.state == "resolved" and resolved.rerun_state is None
        assert resolved.recovered_by_rerun_of == "U1"
        _, again = await tx.incidents.try_resolve(incident_id, by="U2", reason="by hand")
        assert not again
        assert (
            await tx.incidents.claim_rerun(
                incident_id, by="U1", retry_location="error_node", instance_id=7, run_start=1
            )
            is None
        )
        acknowledged, took = await tx.incidents.try_acknowledge(incident_id, by="U3")
        assert not took and acknowledged.state == "resolved" and acknowledged.acknowledged_by is None


async def test_the_escalation_reminder_is_due_once_and_acknowledging_cancels_it(
    store: Store, second_store: Store, clock: ManualClock
) -> None:
    reminded = await _open(store, job="job_a", escalate_in_ms=15 * 60_000)
    acknowledged = await _open(store, job="job_b", escalate_in_ms=15 * 60_000)
    await _open(store, job="job_c")  # no reminder (escalation off)
    async with store.transaction() as tx:
        assert await tx.incidents.due_escalations("default") == []
        _, took = await tx.incidents.try_acknowledge(acknowledged, by="U1")
        assert took
        _, twice = await tx.incidents.try_acknowledge(acknowledged, by="U2")
        assert not twice
    clock.advance(15 * 60)
    async with store.transaction() as tx:
        assert [i.id for i in await tx.incidents.due_escalations("default")] == [reminded]

    async def take(on: Store) -> bool:
        async with on.transaction() as tx:
            return await tx.incidents.mark_escalated(reminded)

    assert sorted(await asyncio.gather(take(store), take(second_store), take(store))) == [False, False, True]
    async with store.transaction() as tx:
        assert await tx.incidents.due_escalations("default") == []
        incident = await tx.incidents.get(reminded)
        assert incident is not None and incident.escalated_at == clock() and incident.escalate_at is None


async def test_a_mute_counts_what_it_held_back_and_muting_again_keeps_the_count(
    store: Store, clock: ManualClock
) -> None:
    async with store.transaction() as tx:
        mute, replaced = await tx.mutes.mute(
            channel="C1", profile=P, job_name="job_a", until_at=clock() + 3_600_000, by="U1", team="T1"
        )
        assert replaced is None and mute.active_at(clock())
        await tx.mutes.count_suppressed(mute.id, 2)
        longer, replaced = await tx.mutes.mute(channel="C1", profile=P, job_name="job_a", until_at=None, by="U2")
        assert replaced is not None and longer.suppressed == 2 and longer.until_at is None
        assert [m.channel for m in await tx.mutes.active(P, ["job_a", "job_b"])] == ["C1"]
        ended = await tx.mutes.unmute(channel="C1", profile=P, job_name="job_a")
        assert ended is not None and ended.suppressed == 2
        assert await tx.mutes.unmute(channel="C1", profile=P, job_name="job_a") is None
        short, _ = await tx.mutes.mute(channel="C1", profile=P, job_name="job_a", until_at=clock() + 1000, by="U1")
        await tx.mutes.count_suppressed(short.id)
    clock.advance(2)
    async with store.transaction() as tx:
        assert await tx.mutes.active(P, ["job_a"]) == []  # ended by its time
        fresh, replaced = await tx.mutes.mute(channel="C1", profile=P, job_name="job_a", until_at=None, by="U1")
        assert replaced is None and fresh.suppressed == 0  # an ended mute's count does not carry over


async def test_audit_is_read_by_job_and_time_newest_first(store: Store, clock: ManualClock) -> None:
    async with store.transaction() as tx:
        await tx.audit.record(actor="U1", action="rerun", channel="C1", target="job_a", outcome="refused")
    clock.advance(3600)
    async with store.transaction() as tx:
        await tx.audit.record(actor="U2", action="ack", channel="C1", target="job_a", outcome="ok")
        await tx.audit.record(actor="U2", action="watch", channel="C2", target="job_b", outcome="ok")
        rows = await tx.audit.query(since=clock() - 7_200_000, target="job_a")
        assert [(r.action, r.outcome) for r in rows] == [("ack", "ok"), ("rerun", "refused")]
        assert [r.action for r in await tx.audit.query(since=clock() - 60_000)] == ["watch", "ack"]
        page = await tx.audit.query(since=0, limit=1)
        assert [r.action for r in await tx.audit.query(since=0, before_id=page[0].id, limit=5)] == ["ack", "rerun"]


async def test_an_incident_is_found_by_its_card_key(store: Store) -> None:
    incident_id = await _open(store, job="job_k")
    async with store.transaction() as tx:
        found = await tx.incidents.by_root_key("card-job_k")
        missing = await tx.incidents.by_root_key("card-nobody")
    assert found is not None and found.id == incident_id and missing is None


async def test_an_action_key_taken_once_is_released_for_a_retry(store: Store, second_store: Store) -> None:
    key = "incident:1:stop:7:1000"

    async def claim(on: Store) -> bool:
        async with on.transaction() as tx:
            return await tx.request_keys.claim(key)

    assert sorted(await asyncio.gather(claim(store), claim(second_store))) == [False, True]
    async with store.transaction() as tx:
        assert await tx.request_keys.forget(key) is True
        assert await tx.request_keys.forget(key) is False
    assert await claim(second_store) is True  # a later click may try again


async def test_one_of_two_mutes_of_the_same_choice_at_once_sets_it_and_one_unmute_ends_it(
    store: Store, second_store: Store, clock: ManualClock
) -> None:
    async def mute(on: Store, by: str, duration_ms: int | None) -> bool:
        async with on.transaction() as tx:
            await asyncio.sleep(0)  # both transactions open before either writes
            _, taken = await tx.mutes.try_mute(
                channel="C1", profile=P, job_name="job_a", duration_ms=duration_ms, by=by, team="T1"
            )
            return taken

    hour = 3_600_000
    assert sorted(await asyncio.gather(mute(store, "U1", hour), mute(second_store, "U2", hour))) == [False, True]
    clock.advance(61)  # past the double-click window: the same choice again moves the end
    assert await mute(store, "U3", hour)
    assert not await mute(second_store, "U4", hour)
    assert await mute(store, "U5", None)  # another choice replaces it
    assert not await mute(second_store, "U6", None)  # until unmuted twice: the same mute, however late
    async with store.transaction(read_only=True) as tx:
        current = await tx.mutes.get(channel="C1", profile=P, job_name="job_a")
        assert current is not None and current.created_by == "U5" and current.until_at is None

    async def unmute(on: Store) -> bool:
        async with on.transaction() as tx:
            await asyncio.sleep(0)
            return await tx.mutes.unmute(channel="C1", profile=P, job_name="job_a") is not None

    assert sorted(await asyncio.gather(unmute(store), unmute(second_store))) == [False, True]
