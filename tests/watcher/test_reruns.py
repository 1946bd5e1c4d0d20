"""The poll cycle follows a rerun in flight to its end, in the incident's thread: ONE progress reply edited in place,
then "recovered" (the card resolved) or how it ended.

A rerun is claimed through the store as the actions side does (`claim_rerun`, DLF's real restart over HTTP,
`set_rerun_state("running")`); the sandbox scripts how the rerun ends (`Timeline.on_rerun`), `step()` finishing
one node at a time. Everything is counted on the fake Slack. SQLite, and PostgreSQL when configured.
"""

from __future__ import annotations

from typing import Any

from watcher_rig import Rig, blocks_text

from bot.dlf.models import Instance as DlfInstance
from bot.store import Incident
from bot.watcher.reruns import FAILED, NOT_STARTED, WAIT, step

MINUTE = 60_000
JOB = "job_r"


async def _incident(rig: Rig) -> Incident:
    async with rig.store.transaction() as tx:
        (incident,) = [i for i in await tx.incidents.in_channels(["C1"], unresolved_only=False) if i.job_name == JOB]
    return incident


async def _failed_incident(rig: Rig, *, failed_node: str = "extract") -> tuple[Incident, int]:
    rig.add_job(JOB)
    await rig.subscribe("C1", JOB)
    iid = rig.fail(JOB, failed_node=failed_node)
    await rig.cycle()
    return await _incident(rig), iid


async def _claim(rig: Rig, incident: Incident, iid: int, *, by: str = "U0ALICE") -> Incident:
    """The actions side's claim: the rerun slot taken before DLF is asked (state "requested")."""
    run_start = rig.sandbox.state.instance(JOB, iid).start_time
    async with rig.store.transaction() as tx:
        claimed = await tx.incidents.claim_rerun(
            incident.id, by=by, retry_location="error_node", instance_id=iid, run_start=run_start
        )
    assert claimed is not None
    return claimed


async def _restart(rig: Rig, iid: int) -> None:
    """DLF's real restart, over HTTP, signed, as the actions side sends it."""
    await rig.watcher.pollers[0].client.rerun(JOB, iid, retry_location="error_node")


async def _running(rig: Rig, claimed: Incident) -> None:
    async with rig.store.transaction() as tx:
        assert await tx.incidents.set_rerun_state(claimed.id, seq=claimed.rerun_seq, state="running")


async def _rerun(rig: Rig, incident: Incident, iid: int) -> Incident:
    claimed = await _claim(rig, incident, iid)
    await _restart(rig, iid)
    await _running(rig, claimed)
    return claimed


def _card(rig: Rig) -> dict[str, Any]:
    (card,) = rig.top_level("C1")
    return card


def _thread(rig: Rig) -> list[str]:
    return [blocks_text(m) for m in rig.slack.thread("C1", _card(rig)["ts"])]


def _details_calls(rig: Rig) -> int:
    return rig.sandbox.calls.by_operation().get("show_instance", 0)


async def test_a_rerun_is_followed_to_recovered_with_one_progress_reply_edited_in_place(clocked_rig: Rig) -> None:
    rig = clocked_rig
    incident, iid = await _failed_incident(rig)
    rig.sandbox.timeline.on_rerun("success", after_ms=3_000, job=JOB, instance_id=iid)
    await _rerun(rig, incident, iid)

    await rig.cycle()
    (progress,) = _thread(rig)
    assert progress.startswith(f":arrows_counterclockwise: rerun: 0 of 3 nodes done — instance {iid} of `{JOB}`")
    assert "asked for by <@U0ALICE>" in progress and "now running: `extract`" in progress

    before = _details_calls(rig)
    await rig.cycle()  # nothing moved: nothing said, and one details call for the one rerun in flight
    assert len(_thread(rig)) == 1 and rig.slack.calls_to("chat.update") == []
    assert _details_calls(rig) - before == 1

    for done in (1, 2):
        rig.sandbox.timeline.step()  # one node finishes
        await rig.cycle()
        (progress,) = _thread(rig)
        assert progress.startswith(f":arrows_counterclockwise: rerun: {done} of 3 nodes done")
    assert len(rig.slack.calls_to("chat.update")) == 2

    rig.advance(42 * MINUTE)
    rig.sandbox.timeline.step()  # the last node, and the instance, succeed
    await rig.cycle()

    progress, recovered = _thread(rig)
    assert progress.startswith(":white_check_mark: rerun finished: 3 of 3 nodes done")
    assert recovered.startswith(f":white_check_mark: `{JOB}` recovered after 42 min, 1 failure, by <@U0ALICE>'s rerun.")
    card = blocks_text(_card(rig))
    assert ":white_check_mark: Resolved" in card and f"The rerun of instance {iid} succeeded" in card
    resolved = await _incident(rig)
    assert (resolved.state, resolved.resolution, resolved.recovered_by_rerun_of) == ("resolved", "rerun", "U0ALICE")
    assert resolved.rerun_state is None

    # One story per event: later cycles (the decision seeing the success in DLF's lists) add nothing.
    updates = len(rig.slack.calls_to("chat.update"))
    await rig.cycle()
    await rig.cycle()
    assert len(_thread(rig)) == 2 and len(rig.slack.calls_to("chat.update")) == updates
    assert len(rig.top_level("C1")) == 1


async def test_a_rerun_that_fails_again_is_one_reply_with_its_failed_nodes_and_the_count(clocked_rig: Rig) -> None:
    rig = clocked_rig
    incident, iid = await _failed_incident(rig)
    rig.sandbox.timeline.on_rerun("fail", after_ms=3_000, job=JOB, failed_node="load")
    await _rerun(rig, incident, iid)
    await rig.cycle()
    while rig.sandbox.timeline.step() is not None:
        pass

    await rig.cycle()

    progress, ended = _thread(rig)
    assert progress.startswith(":x: rerun failed: 2 of 3 nodes done")
    assert ended == (
        f":x: <@U0ALICE>'s rerun of instance {iid} of `{JOB}` failed again: failed node `load` — 2 failures in a row."
    )
    assert "failed 2 times in a row" in blocks_text(_card(rig))
    after = await _incident(rig)
    assert (after.state, after.failure_count, after.rerun_state) == ("open", 2, None)

    await rig.cycle()  # the decision does not tell the rerun's failure a second time ("Failed again")
    assert len(_thread(rig)) == 2 and len(rig.top_level("C1")) == 1


async def test_a_rerun_stopped_by_hand_is_said_and_frees_the_slot(clocked_rig: Rig) -> None:
    rig = clocked_rig
    incident, iid = await _failed_incident(rig)
    await _rerun(rig, incident, iid)
    await rig.cycle()
    rig.sandbox.state.stop(JOB, iid)

    await rig.cycle()

    _, ended = _thread(rig)
    assert ended == f":octagonal_sign: <@U0ALICE>'s rerun of instance {iid} of `{JOB}` was stopped before it finished."
    assert (await _incident(rig)).rerun_state is None


async def test_a_rerun_left_requested_by_a_crash_is_found_running_by_the_cycle(clocked_rig: Rig) -> None:
    rig = clocked_rig
    incident, iid = await _failed_incident(rig)
    await _claim(rig, incident, iid)
    await _restart(rig, iid)  # DLF took it; the bot died before it stored "running"

    before = _details_calls(rig)
    await rig.cycle()  # within a minute of the claim it is the actions side's: not even looked up
    assert _details_calls(rig) == before and _thread(rig) == []

    rig.advance(2 * MINUTE)
    await rig.cycle()

    (progress,) = _thread(rig)
    assert progress.startswith(":arrows_counterclockwise: rerun: 0 of 3 nodes done")
    assert (await _incident(rig)).rerun_state == "running"
    assert len(rig.slack.calls_to("chat.update")) == 1  # the card redrawn with the rerun running


async def test_an_unknown_rerun_that_never_started_ends_with_a_reply(clocked_rig: Rig) -> None:
    rig = clocked_rig
    incident, iid = await _failed_incident(rig)
    claimed = await _claim(rig, incident, iid)
    async with rig.store.transaction() as tx:  # DLF's answer was lost — and it never got the request
        await tx.incidents.set_rerun_state(claimed.id, seq=claimed.rerun_seq, state="unknown")

    rig.advance(5 * MINUTE)
    await rig.cycle()
    assert _thread(rig) == []  # still waiting to see it start

    rig.advance(6 * MINUTE)
    await rig.cycle()

    (reply,) = _thread(rig)
    assert reply == (
        f":grey_question: <@U0ALICE>'s rerun of instance {iid} of `{JOB}` was not seen to start in DLF within "
        "11 min. Nothing is being followed; ask for it again if it is still needed."
    )
    after = await _incident(rig)
    assert (after.state, after.rerun_state) == ("open", None)
    assert len(rig.slack.calls_to("chat.update")) == 1  # the card no longer shows a rerun
    await rig.cycle()
    assert len(_thread(rig)) == 1


async def test_a_later_instance_succeeding_during_a_rerun_recovers_it_by_that_instance(clocked_rig: Rig) -> None:
    rig = clocked_rig
    incident, iid = await _failed_incident(rig)
    await _rerun(rig, incident, iid)
    await rig.cycle()
    rig.advance(10 * MINUTE)
    later = rig.succeed(JOB)

    await rig.cycle()

    progress, recovered = _thread(rig)
    assert progress.startswith(":arrows_counterclockwise: rerun: 0 of 3 nodes done")
    assert recovered.startswith(f":white_check_mark: `{JOB}` recovered after 10 min, 1 failure, by instance {later}.")
    after = await _incident(rig)
    assert (after.state, after.resolution, after.rerun_state) == ("resolved", "later_success", None)
    await rig.cycle()
    assert len(_thread(rig)) == 2


def test_an_accepted_rerun_whose_instance_still_shows_the_failed_run_has_not_ended() -> None:
    """Right after DLF's 204 the instance may still show the run before: that failure is not the rerun's end."""
    now = 1_700_000_000_000
    accepted = Incident(
        id=1, channel="C1", profile="default", job_name=JOB, first_instance_id=7, last_instance_id=7, failure_count=1,
        state="open", root_key="alert:k", root_ts=None, opened_at=now - 10 * MINUTE, updated_at=now,
        acknowledged_by=None, acknowledged_at=None, resolved_by=None, resolved_at=None, resolution=None,
        rerun_state="running", rerun_seq=1, rerun_by="U0ALICE", rerun_from="error_node", rerun_instance_id=7,
        rerun_run_start=now - 20 * MINUTE, rerun_requested_at=now - 2 * MINUTE,
    )  # fmt: skip
    old_run = DlfInstance(job_name=JOB, instance_id=7, status="fail", start_time=now - 20 * MINUTE)
    new_run = DlfInstance(job_name=JOB, instance_id=7, status="fail", start_time=now - MINUTE)

    assert step(accepted, old_run, now_ms=now, start_wait_ms=10 * MINUTE).kind == WAIT
    assert step(accepted, new_run, now_ms=now, start_wait_ms=10 * MINUTE).kind == FAILED
    assert step(accepted, old_run, now_ms=now + 9 * MINUTE, start_wait_ms=10 * MINUTE).kind == NOT_STARTED
