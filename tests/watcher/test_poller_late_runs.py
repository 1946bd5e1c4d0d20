"""Runs that end long after their planned time (a backfill, a job waiting on an upstream), and what a quiet cycle
costs: the window follows what is still running, and the failure list itself stays short."""

from __future__ import annotations

from watcher_rig import Rig, dlf_client, metadata_of

from bot.watcher.inputs import STATUS_ENDED
from bot.watcher.poller import HOUR_MS, PollOptions, ProfilePoller

P = "default"


def _said(rig: Rig, channel: str) -> list[tuple[str, int, str]]:
    return [
        (meta["job"], int(meta["instance_id"]), meta["event"])
        for meta in map(metadata_of, rig.slack.channel_messages(channel))
        if "job" in meta
    ]


async def _status_in_store(rig: Rig, job: str, iid: int) -> str | None:
    async with rig.store.transaction() as tx:
        seen = await tx.instances.lookup(P, [(job, iid)])
    return seen[(job, iid)].status if (job, iid) in seen else None


async def test_a_run_that_fails_fourteen_hours_after_its_planned_time_is_alerted(rig: Rig) -> None:
    rig.add_job("job_late")
    rig.add_job("job_other")
    await rig.subscribe("C1", "job_late")
    now = rig.sandbox.clock()
    planned = now - 14 * HOUR_MS
    # Planned 14 h ago, still waiting on its upstream; an unwatched job's run is not remembered.
    iid = rig.sandbox.state.add_instance("job_late", status="waiting", plan_time=planned, at=planned)
    other = rig.sandbox.state.add_instance("job_other", status="running", plan_time=planned, at=planned)
    await rig.cycle()
    await rig.cycle()
    assert await _status_in_store(rig, "job_late", iid) == "waiting"
    assert await _status_in_store(rig, "job_other", other) is None

    rig.sandbox.state.set_status("job_late", iid, "running")
    await rig.cycle()
    rig.sandbox.state.set_status("job_late", iid, "fail", failed_node="load")
    reports = await rig.cycle()
    await rig.cycle()

    assert _said(rig, "C1") == [("job_late", iid, "failure")]
    (card,) = rig.posts("C1")
    assert "load" in card["text"] or "`load`" in str(card["blocks"])  # the full card, with the failed node
    (default,) = [r for r in reports if r.profile == P]
    assert default.late_lookups == 1 and default.new_failures == 1


async def test_a_rerun_that_succeeds_long_after_the_failed_instance_was_planned_resolves_its_incident(
    rig: Rig,
) -> None:
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    planned = rig.sandbox.clock() - 14 * HOUR_MS
    iid = rig.sandbox.state.add_instance("job_a", status="fail", plan_time=planned, at=planned, failed_node="load")
    await rig.cycle()  # the first cycle of a process sweeps the whole lookback: the old failure is alerted
    assert _said(rig, "C1") == [("job_a", iid, "failure")]
    await rig.cycle()

    # An operator reruns it; the rerun runs through one cycle, then succeeds.
    operator = dlf_client(rig.dlf_url)
    try:
        await operator.rerun_instance("job_a", iid)
    finally:
        await operator.aclose()
    await rig.cycle()
    assert await _status_in_store(rig, "job_a", iid) == "running"
    rig.sandbox.state.set_status("job_a", iid, "success")
    await rig.cycle()

    assert _said(rig, "C1") == [("job_a", iid, "failure"), ("job_a", iid, "resolved")]
    async with rig.store.transaction() as tx:
        assert await tx.incidents.unresolved(P) == []


async def test_a_fast_rerun_of_an_old_failure_is_seen_without_ever_being_listed_running(rig: Rig) -> None:
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    planned = rig.sandbox.clock() - 14 * HOUR_MS
    iid = rig.sandbox.state.add_instance("job_a", status="fail", plan_time=planned, at=planned, failed_node="load")
    await rig.cycle()
    await rig.cycle()

    rig.sandbox.state.restart("job_a", iid)  # between two cycles: rerun and success
    rig.sandbox.state.set_status("job_a", iid, "success")
    await rig.cycle()

    assert _said(rig, "C1") == [("job_a", iid, "failure"), ("job_a", iid, "resolved")]


async def test_a_followed_instance_that_ended_inside_the_window_without_failing_costs_no_call(rig: Rig) -> None:
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    now = rig.sandbox.clock()
    iid = rig.sandbox.state.add_instance("job_a", status="running", plan_time=now - 60_000, at=now - 60_000)
    await rig.cycle()
    rig.sandbox.state.set_status("job_a", iid, "success")
    rig.sandbox.calls.reset()
    await rig.cycle()

    assert rig.sandbox.calls.count("show_instance") == 0
    assert await _status_in_store(rig, "job_a", iid) == STATUS_ENDED
    assert rig.posts("C1") == []


async def test_a_quiet_cycle_lists_only_what_is_recent_or_still_running_whatever_the_history(rig: Rig) -> None:
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_*", is_pattern=True)
    now = rig.sandbox.clock()
    for n in range(40):  # a trickle of failures over the last eleven hours, all alerted once
        rig.add_job(f"job_{n}")
        planned = now - (1 + n % 10) * HOUR_MS
        rig.sandbox.state.add_instance(f"job_{n}", status="fail", plan_time=planned, at=planned + 60_000)
    running = rig.sandbox.state.add_instance("job_a", status="running", plan_time=now - 5 * HOUR_MS)
    poller = ProfilePoller(
        profile=P,
        client=dlf_client(rig.dlf_url),
        store=rig.store,
        options=PollOptions(digest_threshold=100),  # the next sweep is ten minutes away
    )
    try:
        first = await poller.run_cycle()  # the process's first cycle sweeps the lookback
        quiet = [await poller.run_cycle() for _ in range(3)]
    finally:
        await poller.client.aclose()
    await rig.watcher.drain()

    # After the first cycle: the one instance still running, nothing of the 40 old failures (the old 12-hour overlap
    # listed and parsed them all again, every cycle).
    assert [(r.listed, r.detail_calls) for r in quiet] == [(1, 0)] * 3
    assert first.swept and first.new_failures == 40 and first.listed == 41
    assert [(r.swept, r.tracked) for r in quiet] == [(False, 1)] * 3
    assert await _status_in_store(rig, "job_a", running) == "running"
    assert len(rig.posts("C1")) == 40


async def test_the_sweep_finds_a_quick_backfill_of_an_old_date_within_its_interval(rig: Rig) -> None:
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    poller = ProfilePoller(
        profile=P,
        client=dlf_client(rig.dlf_url),
        store=rig.store,
        options=PollOptions(sweep_interval_ms=0),
    )
    try:
        await poller.run_cycle()
        planned = rig.sandbox.clock() - 20 * HOUR_MS
        # Created now for a date 20 h ago, failed before the next cycle: never seen running.
        iid = rig.sandbox.state.add_instance("job_a", status="fail", plan_time=planned, instance_type=5)
        report = await poller.run_cycle()
    finally:
        await poller.client.aclose()
    await rig.watcher.drain()

    assert report.swept and _said(rig, "C1") == [("job_a", iid, "failure")]
