"""The cycle's writer against what people did while the cycle was reading DLF: a recovery whose incident was
resolved by hand meanwhile says nothing more (one "resolved" story in the thread), on SQLite and PostgreSQL.

The decision and its rows come from the real `decide` / `compose` over the cycle's (older) view of the incident;
the store is real."""

from __future__ import annotations

from sqlalchemy import select

from bot.dlf.models import InstanceSummary
from bot.store import Store
from bot.store.tables import outbox
from bot.watcher.compose import compose
from bot.watcher.decide import decide
from bot.watcher.inputs import CycleInput, KnownIncident, Watch
from bot.watcher.writer import CycleWriter, Progress

P = "default"
ROOT = f"alert:{P}:C1:job_a:101:failure"


async def _keys(store: Store) -> list[str]:
    async with store.transaction(read_only=True) as tx:
        return [str(k) for k in (await tx.conn.execute(select(outbox.c.key).order_by(outbox.c.id))).scalars()]


async def test_a_recovery_of_an_incident_resolved_by_hand_meanwhile_queues_nothing(migrated_database_url: str) -> None:
    store = await Store.open(migrated_database_url)
    try:
        async with store.transaction() as tx:
            incident, _ = await tx.incidents.open_or_get(
                channel="C1", profile=P, job_name="job_a", instance_id=101, root_key=ROOT
            )
        seen_then = KnownIncident(
            channel="C1",
            job_name="job_a",
            root_key=ROOT,
            last_instance_id=101,
            failure_count=1,
            incident_id=incident.id,
        )
        later_success = InstanceSummary(
            job_name="job_a", instance_id=105, status="success", start_time=105_000, planTime=94_500
        )
        cycle = CycleInput(
            profile=P,
            watches=[Watch(channel="C1", target="job_a")],
            known={("job_a", 101): "fail"},
            incidents=[seen_then],
            listed=[later_success],
        )
        decision = decide(cycle)  # the cycle read the incident open
        messages = compose(decision.intents, now_ms=1_000_000)
        assert any(m.key.startswith("recovered:") for m in messages)  # it would say "recovered"
        async with store.transaction() as tx:  # meanwhile, alice resolves it from the card
            _, won = await tx.incidents.try_resolve(incident.id, by="U0ALICE", reason="Resolved by hand.")
            assert won
        before = await _keys(store)

        await CycleWriter(store=store, profile=P).write(
            decision, messages, Progress(incident_ids={("C1", "job_a"): incident.id})
        )

        assert await _keys(store) == before  # no "recovered" reply, no redraw from the older view
        async with store.transaction(read_only=True) as tx:
            after = await tx.incidents.get(incident.id)
            assert after is not None and after.resolved_by == "U0ALICE" and after.resolution == "Resolved by hand."
    finally:
        await store.aclose()
