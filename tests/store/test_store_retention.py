"""Retention: what is old goes, in bounded batches; what is still needed stays, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select

from bot.store import Store
from bot.store.retention import Cutoffs, prune
from bot.store.tables import audit, channel_pace, incidents, instances_seen, outbox, request_keys
from bot.store.testing import ManualClock
from bot.watcher.outbox import REQUEUE_ON_REPAIR

P = "default"
DAY_S = 86_400
CARD = {"text": "card", "blocks": []}


def _cutoffs(clock: ManualClock, *, days: int = 30) -> Cutoffs:
    return Cutoffs(
        history=clock() - days * DAY_S * 1000, request_keys=clock() - DAY_S * 1000, channel_pace=clock() - DAY_S * 1000
    )


async def _count(store: Store, table: object) -> int:
    async with store.transaction(read_only=True) as tx:
        return int((await tx.conn.execute(select(func.count()).select_from(table))).scalar_one())  # type: ignore[arg-type]


async def _sent(store: Store, *keys: str) -> None:
    async with store.transaction() as tx:
        for key in keys:
            row = await tx.outbox.claim_key(key, holder="d", claim_ttl_ms=60_000)
            assert row is not None
            await tx.outbox.mark_sent(row.id, ts=f"1.{row.id}", thread_ts=None)


async def test_old_history_goes_and_what_is_still_needed_stays(store: Store, clock: ManualClock) -> None:
    async with store.transaction() as tx:
        # Outbox: an old card and its reply whose incident is resolved (both go); the card of an open incident and
        # its sent reply (the card stays, the reply goes); a parent whose reply is still pending (both stay).
        for key, channel, parent in [
            ("card-resolved", "C1", None),
            ("reply-resolved", "C1", "card-resolved"),
            ("card-open", "C2", None),
            ("reply-open", "C2", "card-open"),
            ("card-parent", "C3", None),
            ("reply-pending", "C3", "card-parent"),
        ]:
            kind = "thread_reply" if parent else "alert"
            await tx.outbox.enqueue(key=key, channel=channel, kind=kind, payload=CARD, parent_key=parent)
        resolved, _ = await tx.incidents.open_or_get(
            channel="C1", profile=P, job_name="job_a", instance_id=1, root_key="card-resolved"
        )
        await tx.incidents.open_or_get(channel="C2", profile=P, job_name="job_b", instance_id=2, root_key="card-open")
        await tx.incidents.resolve(resolved.id, by=None, reason="later success")
        # Seen instances, all old: finished or not, nothing lists or tracks an instance planned that long ago.
        await tx.instances.record(P, [("job_a", 1, "fail"), ("job_b", 2, "running"), ("job_c", 3, "success")])
        await tx.audit.record(actor="U1", action="watch")
        # Mutes: one that ended an hour later (goes once its end is past the cutoff), one until unmuted (stays).
        await tx.mutes.mute(channel="C1", profile=P, job_name="job_a", until_at=clock() + 3_600_000, by="U1")
        await tx.mutes.mute(channel="C1", profile=P, job_name="job_b", until_at=None, by="U1")
        await tx.conn.execute(insert(request_keys).values(key="ev-old", seen_at=clock()))
        await tx.conn.execute(insert(channel_pace).values(channel="C1", next_post_at=clock()))
    await _sent(store, "card-resolved", "reply-resolved", "card-open", "reply-open", "card-parent")

    clock.advance(2 * DAY_S)  # request keys and pacing rows are old now, the history is not
    async with store.transaction() as tx:
        await tx.conn.execute(insert(request_keys).values(key="ev-new", seen_at=clock()))
        await tx.conn.execute(insert(channel_pace).values(channel="C2", next_post_at=clock()))
    early = await prune(store, cutoffs=_cutoffs(clock))
    assert {table: n for table, n in early.items() if n} == {"request_keys": 1, "channel_pace": 1}

    clock.advance(30 * DAY_S)
    async with store.transaction() as tx:  # recent history, which stays
        await tx.instances.record(P, [("job_d", 4, "fail")])
        await tx.audit.record(actor="U2", action="unwatch")
        late, _ = await tx.incidents.open_or_get(
            channel="C4", profile=P, job_name="job_d", instance_id=4, root_key="card-late"
        )
        await tx.incidents.resolve(late.id, by="U2", reason="resolved by hand")
    pruned = await prune(store, cutoffs=_cutoffs(clock))

    assert pruned == {
        "outbox": 3,
        "incidents": 1,
        "instances_seen": 3,
        "audit": 1,
        "mutes": 1,
        "request_keys": 1,
        "channel_pace": 1,
    }
    async with store.transaction(read_only=True) as tx:
        kept = {
            key
            for key in ("card-resolved", "reply-resolved", "card-open", "reply-open", "card-parent", "reply-pending")
            if await tx.outbox.get(key) is not None
        }
        assert kept == {"card-open", "card-parent", "reply-pending"}
        assert [i.job_name for i in await tx.incidents.unresolved(P)] == ["job_b"]
        assert await tx.incidents.get(resolved.id) is None and await tx.incidents.get(late.id) is not None
        assert [m.job_name for m in await tx.mutes.in_channel("C1")] == ["job_b"]
        known = await tx.instances.lookup(P, [("job_a", 1), ("job_b", 2), ("job_c", 3), ("job_d", 4)])
        assert sorted(known) == [("job_d", 4)]
        assert [e.actor for e in await tx.audit.recent()] == ["U2"]
    assert await _count(store, request_keys) == 0 and await _count(store, channel_pace) == 0


async def test_a_seen_instance_planned_after_the_cutoff_is_kept_whatever_its_last_change(
    store: Store, clock: ManualClock
) -> None:
    async with store.transaction() as tx:
        await tx.instances.record(P, [("job_a", 1, "fail"), ("job_a", 2, "fail")])
        await tx.conn.execute(
            instances_seen.update()
            .where(instances_seen.c.instance_id == 2)
            .values(plan_time=clock() + 40 * DAY_S * 1000)
        )
    clock.advance(31 * DAY_S)
    async with store.transaction() as tx:
        gone = await tx.instances.forget_before(clock() - 30 * DAY_S * 1000)
        known = await tx.instances.lookup(P, [("job_a", 1), ("job_a", 2)])
    assert gone == 1 and sorted(known) == [("job_a", 2)]


async def test_a_backlog_goes_in_bounded_batches_over_several_runs(store: Store, clock: ManualClock) -> None:
    async with store.transaction() as tx:
        await tx.conn.execute(insert(audit), [{"at": clock(), "actor": "U1", "action": "watch"} for _ in range(25)])
        await tx.conn.execute(
            insert(outbox),
            [
                {
                    "key": f"k{n}",
                    "channel": "C1",
                    "kind": "alert",
                    "payload": CARD,
                    "status": "sent",
                    "next_attempt_at": clock(),
                    "created_at": clock(),
                }
                for n in range(25)
            ],
        )
        await tx.conn.execute(
            insert(incidents),
            [
                {
                    "channel": "C1",
                    "profile": P,
                    "job_name": f"job_{n}",
                    "first_instance_id": n,
                    "last_instance_id": n,
                    "failure_count": 1,
                    "state": "resolved",
                    "root_key": f"k{n}",
                    "opened_at": clock(),
                    "updated_at": clock(),
                    "resolved_at": clock(),
                }
                for n in range(25)
            ],
        )
    clock.advance(31 * DAY_S)
    runs = []
    for _ in range(3):
        runs.append(await prune(store, cutoffs=_cutoffs(clock), batch_rows=4, max_batches=3))
    # At most 4 rows a statement, 3 statements a table a run: 12, 12, then the last 1.
    assert [(r["audit"], r["outbox"], r["incidents"]) for r in runs] == [(12, 12, 12), (12, 12, 12), (1, 1, 1)]
    assert await _count(store, audit) == 0 and await _count(store, outbox) == 0 and await _count(store, incidents) == 0


async def test_a_failed_row_queued_again_by_a_repair_is_not_purged(store: Store, clock: ManualClock) -> None:
    async with store.transaction() as tx:
        await tx.subscriptions.subscribe(channel="C1", profile=P, target="job_a", created_by="U1")
        await tx.outbox.enqueue(key="card", channel="C1", kind="alert", payload=CARD)
    async with store.transaction() as tx:
        row = await tx.outbox.claim_key("card", holder="d", claim_ttl_ms=60_000)
        assert row is not None
        await tx.outbox.mark_failed(row.id, error="not_in_channel")
        await tx.subscriptions.mark_broken("C1", "not_in_channel")
    clock.advance(2 * DAY_S)  # a short retention (1 day) and a channel repaired within the 7-day re-queue window
    async with store.transaction() as tx:
        await tx.subscriptions.subscribe(
            channel="C1", profile=P, target="job_a", created_by="U1", requeue_on_repair=REQUEUE_ON_REPAIR
        )
        purged = await tx.outbox.purge_before(clock() - DAY_S * 1000)
        row = await tx.outbox.get("card")
    assert purged == 0 and row is not None and row.status == "pending"


async def test_each_batch_reads_only_rows_older_than_its_cutoff_on_sqlite(store: Store, clock: ManualClock) -> None:
    """The cost of a batch must not grow with the rows that stay (a month of history): SQLite, with no statistics,
    took `status IN (...)` for selective and collected every sent row through the status index, sorting them all, for
    every batch of 500 — 2.6 s a batch with 20,000 rows, holding the write lock. Each statement now walks an index on
    its cutoff column, in order, and stops at the LIMIT."""
    if store.dialect != "sqlite":
        pytest.skip("PostgreSQL plans from its statistics; SQLite's plan is what this checks")
    statements: list[tuple[str, Any]] = []

    @event.listens_for(store.engine.sync_engine, "before_cursor_execute")
    def _collect(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        if statement.startswith("DELETE"):
            statements.append((statement, parameters))

    await prune(store, cutoffs=_cutoffs(clock))
    database = store.engine.url.database
    assert database is not None and len(statements) == 7
    with sqlite3.connect(database) as raw:
        for statement, parameters in statements:
            plan = [row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            table = statement.split()[2]
            assert not any(step.startswith("SCAN") for step in plan if table != "channel_pace"), (statement, plan)
            assert not any("TEMP B-TREE" in step for step in plan), (statement, plan)
