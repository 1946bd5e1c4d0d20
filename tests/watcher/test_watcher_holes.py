"""The watcher's known holes, closed: each scenario runs the real watcher against the sandbox, the fake Slack and a
real database, and counts what reached Slack."""

from __future__ import annotations

from watcher_rig import Rig, blocks_text, dlf_client, metadata_of

from bot.commands.model import UnwatchCommand, WatchCommand
from bot.services.subscriptions import SubscriptionService, WatchResult


def _events(rig: Rig, channel: str) -> list[tuple[str, int, str]]:
    """(job, instance id, event) of every message in `channel`, threads included."""
    return [
        (meta["job"], int(meta["instance_id"]), meta["event"])
        for meta in map(metadata_of, rig.slack.channel_messages(channel))
        if "job" in meta
    ]


async def test_a_follow_and_a_watch_of_the_job_in_one_channel_say_one_failure_once(rig: Rig) -> None:
    rig.add_job("job_a")
    now = rig.sandbox.clock()
    iid = rig.sandbox.timeline.appear("job_a", at=now - 60_000, status="running")
    rig.sandbox.timeline.step_until(now)
    await rig.subscribe("C1", "job_a", mention="<@U0ONCALL>")
    await rig.subscribe("C1", "job_a", instance_id=iid, events=("success", "failure"), mention="<@U0FOLLOW>")
    await rig.cycle()

    rig.sandbox.timeline.fail("job_a", iid, at=rig.sandbox.clock(), failed_node="load")
    rig.sandbox.timeline.step()
    await rig.cycle()
    await rig.cycle()

    (card,) = rig.posts("C1")
    assert _events(rig, "C1") == [("job_a", iid, "failure")]
    assert "<@U0ONCALL>" in blocks_text(card) and "<@U0FOLLOW>" in blocks_text(card)  # both asked to hear of it
    async with rig.store.transaction() as tx:
        assert [s.instance_id for s in await tx.subscriptions.list_for_channel("C1")] == [None]  # the follow ended


async def test_an_alert_queued_before_unwatch_is_never_delivered_and_its_incident_closes_quietly(rig: Rig) -> None:
    rig.add_job("job_a")
    rig.add_job("job_b")
    await rig.subscribe("C1", "job_a")
    await rig.subscribe("C1", "job_b")
    await rig.subscribe("C2", "job_a")
    failed_a, failed_b = rig.fail("job_a"), rig.fail("job_b")
    await rig.watcher.run_cycle_once()  # queued, not delivered yet (Slack was slow, say)

    client = dlf_client(rig.dlf_url)
    service = SubscriptionService(store=rig.store, clients={"default": client})
    try:
        await service.unwatch(UnwatchCommand(target="job_a"), channel_id="C1", user_id="U1")
        await rig.watcher.drain()
        rig.succeed("job_a")  # would resolve C1's incident, had it one
        await rig.cycle()
    finally:
        await client.aclose()

    assert _events(rig, "C1") == [("job_b", failed_b, "failure")]
    assert [e for e in _events(rig, "C2") if e[2] == "failure"] == [("job_a", failed_a, "failure")]
    async with rig.store.transaction() as tx:
        c1_incidents = [i for i in await tx.incidents.unresolved("default") if i.channel == "C1"]
    assert [i.job_name for i in c1_incidents] == ["job_b"]


async def test_the_outcome_of_a_follow_that_ends_while_its_channel_is_broken_arrives_after_the_repair(
    rig: Rig,
) -> None:
    rig.add_job("job_a")
    rig.add_job("job_b")
    now = rig.sandbox.clock()
    iid = rig.sandbox.timeline.appear("job_a", at=now - 60_000, status="running")
    rig.sandbox.timeline.step_until(now)
    await rig.subscribe("C1", "job_a", instance_id=iid, events=("success", "failure"))
    await rig.cycle()
    rig.slack.faults.channel_error("C1", "channel_not_found")  # the bot was removed from the channel
    async with rig.store.transaction() as tx:
        await tx.subscriptions.mark_broken("C1", "channel_not_found")

    rig.sandbox.timeline.succeed("job_a", iid, at=rig.sandbox.clock())
    rig.sandbox.timeline.step()
    await rig.cycle()
    await rig.cycle()
    assert rig.posts("C1") == []

    rig.slack.faults.clear()  # someone invited the bot back, and re-watches
    client = dlf_client(rig.dlf_url)
    service = SubscriptionService(store=rig.store, clients={"default": client})
    try:
        result = await service.watch(WatchCommand(target="job_b"), channel_id="C1", user_id="U1")
    finally:
        await client.aclose()
    assert isinstance(result, WatchResult) and result.resumed == 1
    await rig.cycle()
    await rig.cycle()

    assert _events(rig, "C1") == [("job_a", iid, "follow_outcome")]
    async with rig.store.transaction() as tx:
        assert [s.target for s in await tx.subscriptions.list_for_channel("C1")] == ["job_b"]  # the follow is over
