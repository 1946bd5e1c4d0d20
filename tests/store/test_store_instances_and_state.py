"""What the watcher has seen, and its per-profile cursor and heartbeat."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event

from bot.store import Store
from bot.store.testing import ManualClock

P = "default"


async def test_lookup_of_a_large_page_tells_new_instances_from_known_ones(store: Store) -> None:
    known = [(f"job_{i % 7}", i, "fail") for i in range(0, 1000, 2)]
    async with store.transaction() as tx:
        await tx.instances.record(P, known)
        await tx.instances.record("other", [("job_1", 1, "fail")])  # another profile's instance is not ours
        found = await tx.instances.lookup(P, [(f"job_{i % 7}", i) for i in range(1000)])

    assert set(found) == {(j, i) for j, i, _ in known}
    assert found[("job_0", 0)].status == "fail"


async def test_recording_again_keeps_first_seen_and_takes_the_new_status(store: Store, clock: ManualClock) -> None:
    async with store.transaction() as tx:
        await tx.instances.record(P, [("job_a", 1, "running")])
    clock.advance(60)
    async with store.transaction() as tx:
        await tx.instances.record(P, [("job_a", 1, "success"), ("job_a", 1, "success")])  # duplicates in a page
        seen = (await tx.instances.lookup(P, [("job_a", 1)]))[("job_a", 1)]

    assert seen.status == "success"
    assert seen.last_status_at - seen.first_seen_at == 60_000


async def test_the_run_of_a_status_is_kept_and_an_item_without_one_keeps_the_recorded_run(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.instances.record(P, [("job_a", 1, "fail", 1_000), ("job_b", 2, "fail")])
        first = await tx.instances.lookup(P, [("job_a", 1), ("job_b", 2)])
        await tx.instances.record(P, [("job_a", 1, "fail", 5_000)])  # rerun: same status, another run
        rerun = (await tx.instances.lookup(P, [("job_a", 1)]))[("job_a", 1)]
        await tx.instances.record(P, [("job_a", 1, "success")])  # no run given: the recorded one stays
        kept = (await tx.instances.lookup(P, [("job_a", 1)]))[("job_a", 1)]

    assert first[("job_a", 1)].run_start == 1_000 and first[("job_b", 2)].run_start is None
    assert (rerun.status, rerun.run_start) == ("fail", 5_000)
    assert (kept.status, kept.run_start) == ("success", 5_000)


async def test_a_failed_cycle_records_its_heartbeat_but_keeps_the_cursor(store: Store, clock: ManualClock) -> None:
    async with store.transaction() as tx:
        assert await tx.watcher_state.get(P) is None
        await tx.watcher_state.heartbeat(P, cursor=1_000)
    clock.advance(60)
    async with store.transaction() as tx:
        await tx.watcher_state.heartbeat(P, cursor=2_000, error="DlfUnavailable: 503")
        failed = await tx.watcher_state.get(P)
    clock.advance(60)
    async with store.transaction() as tx:
        await tx.watcher_state.heartbeat(P, cursor=3_000)
        recovered = await tx.watcher_state.get(P)
        everyone = await tx.watcher_state.all()

    assert failed is not None
    assert (failed.cursor, failed.last_error) == (1_000, "DlfUnavailable: 503")
    assert failed.heartbeat_at == clock() - 60_000
    assert recovered is not None
    assert (recovered.cursor, recovered.last_error, recovered.last_success_at) == (3_000, None, clock())
    assert [s.profile for s in everyone] == [P]


async def test_a_streak_of_failed_cycles_remembers_when_it_began_until_a_success(store: Store, clock) -> None:
    async with store.transaction() as tx:
        await tx.watcher_state.heartbeat(P, error="DlfUnavailable: 503")  # the very first attempt fails
    began = clock()
    clock.advance(60)
    async with store.transaction() as tx:
        await tx.watcher_state.heartbeat(P, error="DlfThrottled: 429")
        failing = await tx.watcher_state.get(P)
    clock.advance(60)
    async with store.transaction() as tx:
        await tx.watcher_state.heartbeat(P, cursor=1_000)
        recovered = await tx.watcher_state.get(P)
    clock.advance(60)
    async with store.transaction() as tx:
        await tx.watcher_state.heartbeat(P, error="DlfUnavailable: 503")
        again = await tx.watcher_state.get(P)

    assert failing is not None and (failing.failing_since, failing.last_error_at) == (began, began + 60_000)
    assert failing.last_success_at is None
    assert recovered is not None and recovered.failing_since is None
    assert again is not None and again.failing_since == clock()


async def test_audit_records_who_did_what(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.audit.record(actor="U1", action="watch", channel="C1", target="job_a", details={"events": ["failure"]})
        await tx.audit.record(actor="U1", action="unwatch", channel="C1", target="job_a")
        entries = await tx.audit.recent()
    assert [(e.actor, e.action, e.target) for e in entries] == [("U1", "unwatch", "job_a"), ("U1", "watch", "job_a")]
    assert entries[1].details == {"events": ["failure"]}


async def test_a_lookup_seeks_each_key_instead_of_reading_every_seen_instance(store: Store) -> None:
    # A cycle looks up each page of DLF results: its cost must follow the page, not the history retention keeps.
    statements: list[tuple[str, Any]] = []

    @event.listens_for(store.engine.sync_engine, "before_cursor_execute")
    def _collect(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any) -> None:
        statements.append((statement, parameters))

    async with store.transaction(read_only=True) as tx:
        await tx.instances.lookup("default", [("job_a", 1), ("job_b", 2)])
    ((statement, parameters),) = [s for s in statements if "instances_seen" in s[0]]
    async with store.transaction(read_only=True) as tx:
        explain = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
        if store.dialect == "sqlite":
            plan = [str(row[3]) for row in await tx.conn.exec_driver_sql(explain + statement, parameters)]
            assert any(
                "sqlite_autoindex_instances_seen_1 (profile=? AND job_name=? AND instance_id=?)" in step
                for step in plan
            ), plan
        else:
            await tx.conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # an empty table: cost says scan
            plan = [str(row[0]) for row in await tx.conn.exec_driver_sql(explain + statement, parameters)]
            assert any("pk_instances_seen" in step for step in plan), plan
