"""Incidents: one unresolved streak per job per channel, open → acknowledged → resolved."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
from sqlalchemy import event

from bot.store import Store
from bot.store.testing import ManualClock

P = "default"


async def test_a_failure_streak_is_one_incident_counting_its_failures(store: Store, clock: ManualClock) -> None:
    async with store.transaction() as tx:
        opened, created = await tx.incidents.open_or_get(
            channel="C1", profile=P, job_name="job_a", instance_id=100, root_key="alert:C1:job_a:100"
        )
    clock.advance(60)
    async with store.transaction() as tx:
        same, created_again = await tx.incidents.open_or_get(
            channel="C1", profile=P, job_name="job_a", instance_id=101, root_key="alert:C1:job_a:101"
        )
        again = await tx.incidents.record_failure(same.id, 101)

    assert (created, created_again) == (True, False)
    assert same.id == opened.id and same.root_key == "alert:C1:job_a:100"
    assert (again.failure_count, again.first_instance_id, again.last_instance_id) == (2, 100, 101)
    assert again.updated_at == opened.opened_at + 60_000


async def test_each_channel_has_its_own_incident_for_the_same_job(store: Store) -> None:
    async with store.transaction() as tx:
        a, _ = await tx.incidents.open_or_get(channel="C1", profile=P, job_name="job_a", instance_id=1, root_key="k1")
        b, _ = await tx.incidents.open_or_get(channel="C2", profile=P, job_name="job_a", instance_id=1, root_key="k2")
        c, _ = await tx.incidents.open_or_get(channel="C1", profile=P, job_name="job_b", instance_id=2, root_key="k3")
        by_job = await tx.incidents.unresolved(P, ["job_a"])
    assert len({a.id, b.id, c.id}) == 3
    assert [i.channel for i in by_job] == ["C1", "C2"]


async def test_acknowledge_then_resolve_and_a_later_failure_opens_a_new_incident(store: Store) -> None:
    async with store.transaction() as tx:
        incident, _ = await tx.incidents.open_or_get(
            channel="C1", profile=P, job_name="job_a", instance_id=1, root_key="k1"
        )
        acked = await tx.incidents.acknowledge(incident.id, by="U1")
        resolved = await tx.incidents.resolve(incident.id, by=None, reason="rerun succeeded")
        late_ack = await tx.incidents.acknowledge(incident.id, by="U2")  # a click on an old card
        remaining = await tx.incidents.unresolved(P)
        fresh, created = await tx.incidents.open_or_get(
            channel="C1", profile=P, job_name="job_a", instance_id=5, root_key="k5"
        )

    assert (acked.state, acked.acknowledged_by) == ("acknowledged", "U1")
    assert (resolved.state, resolved.resolved_by, resolved.resolution) == ("resolved", None, "rerun succeeded")
    assert (late_ack.state, late_ack.acknowledged_by) == ("resolved", "U1")
    assert remaining == []
    assert created and fresh.id != incident.id and fresh.failure_count == 1


async def test_two_replicas_opening_the_same_incident_at_once_get_one(store: Store, second_store: Store) -> None:
    async def open_on(on: Store, instance_id: int) -> tuple[int, bool]:
        async with on.transaction() as tx:
            incident, created = await tx.incidents.open_or_get(
                channel="C1", profile=P, job_name="job_a", instance_id=instance_id, root_key=f"k{instance_id}"
            )
            await asyncio.sleep(0.05)  # overlap the transactions
            return incident.id, created

    (id_a, created_a), (id_b, created_b) = await asyncio.gather(open_on(store, 1), open_on(second_store, 2))

    assert id_a == id_b
    assert sorted((created_a, created_b)) == [False, True]


async def test_many_incidents_opened_on_one_pooled_connection_all_open(store: Store) -> None:
    # PostgreSQL switches a prepared statement to a generic plan after five executions on one connection: an
    # ON CONFLICT whose index predicate is a bound parameter then no longer finds the partial unique index, and
    # every cycle after the fifth incident on that connection rolled back. Twenty in a row, resolved and reopened.
    for n in range(20):
        async with store.transaction() as tx:
            incident, created = await tx.incidents.open_or_get(
                channel="C1", profile=P, job_name=f"job_{n % 4}", instance_id=n, root_key=f"k{n}"
            )
            assert created, n
            await tx.incidents.resolve(incident.id, by=None, reason="later success")
    async with store.transaction() as tx:
        assert await tx.incidents.unresolved(P) == []


async def test_reading_the_unresolved_incidents_does_not_read_the_resolved_ones(store: Store) -> None:
    # Every poll cycle reads them: its cost must not grow with the resolved history retention keeps (30 days).
    if store.dialect != "sqlite":
        pytest.skip("SQLite's plan is what this reads; PostgreSQL plans the same index from its statistics")
    statements: list[tuple[str, Any]] = []

    @event.listens_for(store.engine.sync_engine, "before_cursor_execute")
    def _collect(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        statements.append((statement, parameters))

    async with store.transaction(read_only=True) as tx:
        await tx.incidents.unresolved(P)
    ((statement, parameters),) = [s for s in statements if s[0].startswith("SELECT")]
    database = store.engine.url.database
    assert database is not None
    with sqlite3.connect(database) as raw:
        plan = [row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
    assert any("ix_incidents_profile_state (profile=? AND state=?)" in step for step in plan), plan
