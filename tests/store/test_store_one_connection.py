"""Every statement of the store, again and again on ONE pooled connection, still gives the right answers.

PostgreSQL plans an asyncpg prepared statement for its parameters' values five times, then may switch to one generic
plan for any values: a statement whose meaning depends on a parameter's value (an ON CONFLICT inferring a partial
index from a bound predicate) then fails or goes wrong from the sixth execution on a connection. Every operation
runs twelve times here on a pool of one connection, and once more with `plan_cache_mode = force_generic_plan`, which
makes PostgreSQL use the generic plan from the first execution.

An IN list must not become a new statement for every length: on PostgreSQL each text is prepared and cached per
connection (100 statements), so lengths 1..400 would evict everything else and prepare anew on every cycle.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event

from bot.store import Store, create_engine
from bot.store.retention import Cutoffs, prune
from bot.store.testing import ManualClock
from bot.watcher.outbox import CHANNEL_ERRORS, REQUEUE_ON_REPAIR

P = "default"
ROUNDS = 12
CARD = {"text": "card", "blocks": []}


@pytest.fixture(params=["auto", "force_generic_plan"])
async def one_connection_store(
    request: pytest.FixtureRequest, database_url: str, clock: ManualClock
) -> AsyncIterator[Store]:
    """A Store whose pool holds a single connection (and, on PostgreSQL, the plan cache mode of the parameter)."""
    engine = create_engine(database_url, pool_size=1)
    if request.param == "force_generic_plan":
        if engine.dialect.name != "postgresql":
            await engine.dispose()
            pytest.skip("plan_cache_mode is PostgreSQL's")

        @event.listens_for(engine.sync_engine, "connect")
        def _generic_plans(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            cursor.close()

    store = Store(engine=engine, clock=clock)
    yield store
    await store.aclose()


async def _one_round(store: Store, clock: ManualClock, n: int) -> None:
    channel, job = f"C{n}", f"job_{n}"
    clock.advance(60)
    async with store.transaction() as tx:
        sub, created = await tx.subscriptions.subscribe(channel=channel, profile=P, target=job, created_by="U1")
        again, created_again = await tx.subscriptions.subscribe(
            channel=channel, profile=P, target=job, created_by="U1", events=("failure", "success")
        )
        follow, _ = await tx.subscriptions.subscribe(
            channel=channel, profile=P, target=job, instance_id=1000 + n, created_by="U1"
        )
        assert created and not created_again and again.id == sub.id and again.events == ("failure", "success")
        assert [s.id for s in await tx.subscriptions.list_for_channel(channel)] == [sub.id, follow.id]
        assert (await tx.subscriptions.get(sub.id)) == again
        assert sub.id in {s.id for s in await tx.subscriptions.list_active(P)}
        assert follow.id in {s.id for s in await tx.subscriptions.list_watching(P)}
        await tx.subscriptions.delete(follow.id)
        assert await tx.subscriptions.get(follow.id) is None

        # Seen instances: a lookup of a different number of keys every round (a page of DLF results).
        items = [(job, i, "fail") for i in range(n + 1)]
        await tx.instances.record(P, items)
        await tx.instances.record(P, [(job, 0, "success", 123)])
        seen = await tx.instances.lookup(P, [(job, i) for i in range(n + 3)])
        assert sorted(seen) == [(job, i) for i in range(n + 1)]
        assert (seen[(job, 0)].status, seen[(job, 0)].run_start) == ("success", 123)

        # Incidents: the statement of defect 1 (ON CONFLICT on the partial unique index), and the unresolved ones.
        incident, opened = await tx.incidents.open_or_get(
            channel=channel, profile=P, job_name=job, instance_id=n, root_key=f"alert:{channel}:{n}"
        )
        same, opened_again = await tx.incidents.open_or_get(
            channel=channel, profile=P, job_name=job, instance_id=n + 1, root_key=f"alert:{channel}:{n + 1}"
        )
        assert opened and not opened_again and same.id == incident.id
        counted = await tx.incidents.record_failure(incident.id, n + 1)
        assert (counted.failure_count, counted.last_instance_id) == (2, n + 1)
        acked = await tx.incidents.acknowledge(incident.id, by="U1")
        assert acked.state == "acknowledged"
        names = [f"job_{k}" for k in range(n + 1)]
        assert [i.id for i in await tx.incidents.unresolved(P, names)] == [incident.id]
        assert [i.id for i in await tx.incidents.unresolved(P, [])] == []
        assert [i.id for i in await tx.incidents.unresolved(P)] == [incident.id]

        # Outbox: queue the card and a reply; a repeat is a no-op.
        assert await tx.outbox.enqueue(key=f"alert:{channel}:{n}", channel=channel, kind="alert", payload=CARD)
        assert not await tx.outbox.enqueue(key=f"alert:{channel}:{n}", channel=channel, kind="alert", payload=CARD)
        assert await tx.outbox.enqueue(
            key=f"reply:{channel}:{n}",
            channel=channel,
            kind="thread_reply",
            payload=CARD,
            parent_key=f"alert:{channel}:{n}",
        )
        assert await tx.outbox.pending_count(channel) == 2
        await tx.audit.record(actor="U1", action="watch", channel=channel, target=job, details={"n": n})
        await tx.watcher_state.heartbeat(P, cursor=clock())

    async with store.transaction() as tx:
        (card,) = await tx.outbox.claim_heads(holder="d", limit=100, claim_ttl_ms=60_000)
        assert card.key == f"alert:{channel}:{n}"
        await tx.outbox.mark_sent(card.id, ts=f"{n}.000100", thread_ts=None)
        assert (await tx.incidents.by_message(channel, f"{n}.000100")) == await tx.incidents.get(incident.id)
        reply = await tx.outbox.claim_key(f"reply:{channel}:{n}", holder="d", claim_ttl_ms=60_000)
        assert reply is not None
        await tx.outbox.release(reply.id, next_attempt_at=tx.now)
        reply = await tx.outbox.claim_key(f"reply:{channel}:{n}", holder="d", claim_ttl_ms=60_000)
        assert reply is not None and reply.attempts == 1
        await tx.outbox.mark_retry(reply.id, error="http_500", next_attempt_at=tx.now)
        reply = await tx.outbox.claim_key(f"reply:{channel}:{n}", holder="d", claim_ttl_ms=60_000)
        assert reply is not None
        await tx.outbox.mark_failed(reply.id, error="not_in_channel")
        assert await tx.subscriptions.mark_broken(channel, "not_in_channel") == 1
        assert await tx.outbox.pending_count(channel) == 0

    async with store.transaction() as tx:
        # Re-watching repairs the channel: the reply Slack refused is queued again.
        repaired, _ = await tx.subscriptions.subscribe(
            channel=channel, profile=P, target=job, created_by="U1", requeue_on_repair=REQUEUE_ON_REPAIR
        )
        assert repaired.state == "active"
        assert (await tx.outbox.get(f"reply:{channel}:{n}")).status == "pending"  # type: ignore[union-attr]
        assert await tx.outbox.requeue_failed(channel, errors=sorted(CHANNEL_ERRORS), since=0) == 0
        assert await tx.outbox.requeue_failed(channel, errors=[], since=0) == 0
        (reply,) = await tx.outbox.claim_heads(holder="d", limit=100, claim_ttl_ms=60_000)
        await tx.outbox.mark_sent(reply.id, ts=f"{n}.000200", thread_ts=f"{n}.000100")
        resolved = await tx.incidents.resolve(incident.id, by=None, reason="later success")
        assert resolved.state == "resolved"
        assert await tx.subscriptions.unsubscribe(channel=channel, profile=P, target=job)
        assert not await tx.subscriptions.unsubscribe(channel=channel, profile=P, target=job)
        assert (await tx.audit.recent(limit=1))[0].details == {"n": n}
        state = await tx.watcher_state.get(P)
        assert state is not None and state.cursor == clock()
        assert [s.profile for s in await tx.watcher_state.all()] == [P]

    assert await store.try_acquire_lease("watcher.poll", f"h{n}", 30)
    assert await store.holds_lease("watcher.poll", f"h{n}")
    assert await store.renew_lease("watcher.poll", f"h{n}", 30)
    await store.release_lease("watcher.poll", f"h{n}")
    assert not await store.holds_lease("watcher.poll", f"h{n}")
    await store.check_writable()


async def test_every_operation_twelve_times_on_one_pooled_connection(
    one_connection_store: Store, clock: ManualClock
) -> None:
    store = one_connection_store
    for n in range(ROUNDS):
        await _one_round(store, clock, n)

    # Retention's statements, twelve runs too: the first deletes what is 30 days old, the others find nothing.
    clock.advance(31 * 86_400)
    totals: dict[str, int] = {}
    for _ in range(ROUNDS):
        pruned = await prune(
            store,
            cutoffs=Cutoffs(history=clock() - 30 * 86_400_000, request_keys=clock(), channel_pace=clock()),
            batch_rows=5,
            max_batches=100,
        )
        for table, count in pruned.items():
            totals[table] = totals.get(table, 0) + count
    async with store.transaction() as tx:
        assert await tx.incidents.unresolved(P) == []
        assert await tx.audit.recent() == []
        assert await tx.instances.lookup(P, [(f"job_{n}", 0) for n in range(ROUNDS)]) == {}
    assert totals["incidents"] == ROUNDS
    assert totals["audit"] == ROUNDS
    assert totals["instances_seen"] == sum(n + 1 for n in range(ROUNDS))
    assert totals["outbox"] == 2 * ROUNDS  # every card and its reply: sent, and their incidents resolved


async def test_an_in_list_is_one_statement_whatever_its_length_on_postgresql(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("SQLite prepares statements locally: a new text costs no round trip (see the notes)")
    texts: list[str] = []

    @event.listens_for(store.engine.sync_engine, "before_cursor_execute")
    def _collect(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        texts.append(statement)

    for size in range(1, 31):
        async with store.transaction() as tx:
            await tx.instances.record(P, [(f"job_{k}", k, "fail") for k in range(size)])
            await tx.instances.lookup(P, [(f"job_{k}", k) for k in range(size)])
            await tx.incidents.unresolved(P, [f"job_{k}" for k in range(size)])
            await tx.outbox.requeue_failed("C1", errors=[f"e{k}" for k in range(size)], since=0)
    # One text per operation whatever the length of its list (asyncpg sends BEGIN and COMMIT itself).
    assert len(set(texts)) == 4, "\n\n".join(sorted(set(texts)))
