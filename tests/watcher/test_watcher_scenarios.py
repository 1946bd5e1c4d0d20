"""Scenarios a channel lives through, end to end: sandbox DLF over HTTP -> watcher -> SQLite -> fake Slack over HTTP."""

from __future__ import annotations

from typing import Any

from watcher_rig import (
    Rig,
    alert_keys,
    blocks_text,
    build_rig_watcher,
    dlf_client,
    metadata_of,
)

from bot.store import Store


async def test_failure_alerts_every_subscribed_channel_once_with_its_card(rig: Rig) -> None:
    rig.add_job("job_a")
    rig.add_job("job_b")
    await rig.subscribe("C1", "job_a", mention="<@U111>")
    await rig.subscribe("C2", "job_*", is_pattern=True)
    await rig.subscribe("C3", "job_b")
    iid = rig.fail("job_a")

    reports = await rig.cycle()

    assert [r.ok for r in reports] == [True, True]
    c1, c2 = rig.posts("C1"), rig.posts("C2")
    assert len(c1) == 1 and len(c2) == 1 and rig.posts("C3") == []
    card = blocks_text(c1[0])
    assert "job_a" in card and str(iid) in card
    assert "load" in card  # the failed node is on the card
    assert "<@U111>" in card + c1[0]["text"]  # the channel's mention
    assert "<@U111>" not in blocks_text(c2[0]) + c2[0]["text"]  # ...and only that channel's
    assert alert_keys(c1) == [f"alert:default:C1:job_a:{iid}:failure"]

    # The next cycle sees the same failure again (windows overlap on purpose): nothing new is said.
    await rig.cycle()
    assert len(rig.posts()) == 2


async def test_operator_overrides_are_not_alerted(rig: Rig) -> None:
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    forced = rig.fail("job_a")
    ignored = rig.fail("job_a")
    rig.sandbox.state.instance("job_a", forced).force_success = True
    rig.sandbox.state.instance("job_a", ignored).ignore_success = True

    await rig.cycle()

    assert rig.posts() == []


async def test_repeat_failure_is_a_thread_reply_and_a_counter_on_the_card(rig: Rig) -> None:
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    rig.fail("job_a")
    await rig.cycle()
    second = rig.fail("job_a")

    await rig.cycle()

    (card,) = rig.top_level("C1")
    replies = rig.slack.thread("C1", card["ts"])
    assert len(replies) == 1 and str(second) in replies[0]["text"]
    updates = [c.params for c in rig.slack.calls_to("chat.update") if c.outcome == "ok"]
    assert [u["ts"] for u in updates] == [card["ts"]]
    assert "failed 2 times" in blocks_text(card)  # the card, edited in place, counts the failures


async def test_recovery_resolves_the_incident_in_its_thread(rig: Rig) -> None:
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    rig.fail("job_a")
    await rig.cycle()
    fixed = rig.succeed("job_a")

    await rig.cycle()

    (card,) = rig.top_level("C1")
    (reply,) = rig.slack.thread("C1", card["ts"])
    assert str(fixed) in reply["text"]
    async with rig.store.transaction() as tx:
        assert await tx.incidents.unresolved("default") == []
    # Resolved is resolved: a third cycle says nothing more.
    await rig.cycle()
    assert len(rig.slack.channel_messages("C1")) == 2


async def test_storm_becomes_one_digest_with_the_alerts_in_its_thread(rig: Rig) -> None:
    await rig.replace_watcher(digest_threshold=3)
    for n in range(6):
        rig.add_job(f"etl_{n}")
    await rig.subscribe("C1", "etl_*", is_pattern=True)
    await rig.subscribe("C2", "etl_0")
    ids = [rig.fail(f"etl_{n}") for n in range(6)]

    await rig.cycle()

    (digest,) = rig.top_level("C1")
    replies = rig.slack.thread("C1", digest["ts"])
    assert sorted(metadata_of(r)["instance_id"] for r in replies) == ids
    assert len(rig.top_level("C2")) == 1  # one failure in C2: a card, not a digest


async def test_follow_posts_the_outcome_once_and_ends(rig: Rig) -> None:
    rig.add_job("job_a")
    now = rig.sandbox.clock()
    iid = rig.sandbox.timeline.appear("job_a", at=now - 1_000, status="running")
    rig.sandbox.timeline.step_until(now)
    await rig.subscribe("C1", "job_a", instance_id=iid, events=("success", "failure"))
    await rig.cycle()
    assert rig.posts() == []  # still running

    rig.sandbox.timeline.succeed("job_a", iid, at=rig.sandbox.clock())
    rig.sandbox.timeline.step()
    await rig.cycle()
    await rig.cycle()

    (outcome,) = rig.posts("C1")
    assert str(iid) in outcome["text"]
    async with rig.store.transaction() as tx:
        assert await tx.subscriptions.list_for_channel("C1") == []


async def test_restart_catches_up_and_never_repeats(database_url: str, rig: Rig) -> None:
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    first = rig.fail("job_a")
    await rig.cycle()
    await rig.close_watcher()
    await rig.store.aclose()

    # While the bot is down, the job fails again, and so does another watched job.
    rig.add_job("job_b")
    async with rig.store.transaction() as tx:
        await tx.subscriptions.subscribe(channel="C1", profile="default", target="job_b", created_by="U_TEST")
    missed = [rig.fail("job_a"), rig.fail("job_b")]

    rig.store = await Store.open(database_url)
    rig.watcher = build_rig_watcher(rig.store, rig.dlf_url, rig.slack_url)
    await rig.cycle()
    await rig.cycle()

    about = [_about(m) for m in rig.slack.channel_messages("C1")]
    assert about.count(("job_a", first)) == 1
    assert about.count(("job_a", missed[0])) == 1  # a reply in job_a's incident thread
    assert about.count(("job_b", missed[1])) == 1


def _about(message: dict[str, Any]) -> tuple[str, int] | None:
    payload = metadata_of(message)
    if "job" not in payload:
        return None
    return payload["job"], payload["instance_id"]


async def test_running_exception_reaches_only_the_channel_that_asked_then_the_failure_reaches_both(rig: Rig) -> None:
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a", events=("failure", "running-exception"))
    await rig.subscribe("C2", "job_a")
    now = rig.sandbox.clock()
    iid = rig.sandbox.timeline.appear("job_a", at=now - 10_000, status="running")
    rig.sandbox.timeline.set_status("job_a", iid, "running-exception", at=now - 5_000, failed_node="transform")
    rig.sandbox.timeline.step_until(now)

    await rig.cycle()
    assert [metadata_of(p)["event"] for p in rig.posts()] == ["running-exception"]
    assert rig.posts("C2") == []

    rig.sandbox.timeline.fail("job_a", iid, at=rig.sandbox.clock())
    rig.sandbox.timeline.step()
    await rig.cycle()

    (card,) = rig.top_level("C1")
    (reply,) = rig.slack.thread("C1", card["ts"])  # C1 already has the incident: the failure joins its thread
    assert metadata_of(reply)["event"] == "failed_again"
    assert [metadata_of(p)["event"] for p in rig.posts("C2")] == ["failure"]  # news to C2


async def test_a_channel_the_bot_cannot_post_to_is_marked_broken_and_left_alone(rig: Rig) -> None:
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    await rig.subscribe("C2", "job_a")
    rig.slack.faults.channel_error("C1", "not_in_channel")
    rig.fail("job_a")
    await rig.cycle()
    async with rig.store.transaction() as tx:
        (c1,) = await tx.subscriptions.list_for_channel("C1")
    assert c1.state == "broken" and "not_in_channel" in (c1.broken_reason or "")
    attempts = len(rig.slack.calls_to("chat.postMessage"))

    rig.fail("job_a")
    await rig.cycle()

    # C2 hears of the second failure (in its incident's thread); nothing more is even tried in C1.
    assert len(rig.posts("C2")) == 2
    assert [c.params["channel"] for c in rig.slack.calls_to("chat.postMessage")[attempts:]] == ["C2"]


async def test_a_rerun_that_fails_again_is_said_in_the_incident_thread_each_time(rig: Rig) -> None:
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    iid = rig.fail("job_a")
    await rig.cycle()
    # Every rerun of job_a fails again at once; the watcher lists only failures, so it never sees "running".
    rig.sandbox.timeline.on_rerun("fail", after_ms=0, job="job_a", failed_node="load")
    operator = dlf_client(rig.dlf_url)
    try:
        await operator.rerun_instance("job_a", iid)
        rig.sandbox.timeline.step_until(rig.sandbox.clock())  # the rerun's scripted failure
        await rig.cycle()
        await rig.cycle()  # the same run listed again: nothing more
        await operator.rerun_instance("job_a", iid)
        rig.sandbox.timeline.step_until(rig.sandbox.clock())
        await rig.cycle()
    finally:
        await operator.aclose()

    (card,) = rig.top_level("C1")
    replies = rig.slack.thread("C1", card["ts"])
    assert [(metadata_of(r)["event"], metadata_of(r)["instance_id"]) for r in replies] == [("failed_again", iid)] * 2
    updates = rig.slack.calls_to("chat.update")
    assert len(updates) == 2
    assert "failed 2 times in a row" in blocks_text(updates[0].params)
    assert "failed 3 times in a row" in blocks_text(updates[1].params)


async def test_a_follow_says_only_the_events_it_asked_for_and_ends_when_the_instance_does(rig: Rig) -> None:
    rig.add_job("job_a")
    now = rig.sandbox.clock()
    quiet = rig.sandbox.timeline.appear("job_a", at=now - 60_000, status="running")
    loud = rig.sandbox.timeline.appear("job_a", at=now - 50_000, status="running")
    rig.sandbox.timeline.step_until(now)
    await rig.subscribe("C1", "job_a", instance_id=quiet, events=("success",))
    await rig.subscribe("C2", "job_a", instance_id=loud, events=("running-exception", "failure"))

    rig.sandbox.state.set_status("job_a", loud, "running-exception", failed_node="transform")
    await rig.cycle()
    await rig.cycle()  # still in running-exception: said once
    (exception,) = rig.posts("C2")
    assert "running exception" in blocks_text(exception) and "Still following" in blocks_text(exception)
    async with rig.store.transaction() as tx:
        assert len(await tx.subscriptions.list_for_channel("C2")) == 1  # not finished: the follow goes on

    rig.sandbox.state.set_status("job_a", quiet, "fail", failed_node="load")
    rig.sandbox.state.set_status("job_a", loud, "fail", failed_node="load")
    await rig.cycle()

    assert rig.posts("C1") == []  # `--on success`, and it failed: not said
    (_, outcome) = rig.posts("C2")
    assert "ended" in blocks_text(outcome) and str(loud) in outcome["text"]
    async with rig.store.transaction() as tx:
        # Both instances finished: both follows ended, whether their outcome was said or not. One with nothing to
        # say is gone at once; one with an outcome stays (ended) until that outcome is out, then goes.
        assert await tx.subscriptions.list_for_channel("C1") == []
        (ended,) = await tx.subscriptions.list_for_channel("C2")
        assert ended.ended_at is not None
    await rig.cycle()
    async with rig.store.transaction() as tx:
        assert await tx.subscriptions.list_for_channel("C2") == []
