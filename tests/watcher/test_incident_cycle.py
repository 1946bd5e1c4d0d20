"""The poll cycle and a stored incident: every redraw keeps what people did to it; a mute records without posting.

Against the sandbox and the fake Slack over HTTP, a real store (SQLite, and PostgreSQL when configured), one manual
clock for all of them.
"""

from __future__ import annotations

from watcher_rig import Rig, blocks_text

from bot.dlf.models import Instance
from bot.incidents.outbox import IncidentRef, card_first
from bot.render.incident_card import IncidentView
from bot.watcher.compose import alert_view, compose
from bot.watcher.intents import Alert

MINUTE = 60_000


async def _only_incident(rig: Rig, job: str = "job_a"):  # type: ignore[no-untyped-def]
    async with rig.store.transaction() as tx:
        found = [i for i in await tx.incidents.in_channels(["C1"], unresolved_only=False) if i.job_name == job]
    assert len(found) == 1, found
    return found[0]


async def test_a_repeat_failure_keeps_the_incident_acknowledged_with_who_and_the_count(clocked_rig: Rig) -> None:
    rig = clocked_rig
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    rig.fail("job_a")
    await rig.cycle()
    incident = await _only_incident(rig)
    async with rig.store.transaction() as tx:
        _, acknowledged = await tx.incidents.try_acknowledge(incident.id, by="U0ACK")
    assert acknowledged
    rig.advance(4 * MINUTE)
    second = rig.fail("job_a")

    await rig.cycle()

    (card,) = rig.top_level("C1")
    text = blocks_text(card)
    assert "failed 2 times in a row" in text
    assert "Acknowledged by <@U0ACK>" in text
    assert "Open" not in text
    (reply,) = rig.slack.thread("C1", card["ts"])
    assert blocks_text(reply).startswith(f":repeat: Failed again: instance {second} of `job_a` — 2 failures in a row")
    assert len(rig.slack.calls_to("chat.update")) == 1
    after = await _only_incident(rig)
    assert (after.state, after.acknowledged_by, after.failure_count) == ("acknowledged", "U0ACK", 2)


def test_the_first_alert_card_names_its_incident_by_its_outbox_key() -> None:
    alert = Alert(
        key="alert:default:C1:job_a:7:failure",
        channel="C1",
        profile="default",
        event="failure",
        instance=Instance(job_name="job_a", instance_id=7, status="fail"),
    )

    (row,) = compose([alert], now_ms=1_700_000_000_000)

    assert row.key == alert.key
    assert alert_view(alert, now_ms=1_700_000_000_000).card_key == row.key


def test_card_first_enqueues_the_card_only_when_it_is_not_queued() -> None:
    ref = IncidentRef(channel="C1", profile="default", job_name="job_a", card_key="alert:k")
    view = IncidentView(instance=Instance(job_name="job_a", instance_id=7, status="fail"), failure_count=3)

    assert card_first(ref, view, card_queued=True, now_ms=1_700_000_000_000) == []
    (row,) = card_first(ref, view, card_queued=False, now_ms=1_700_000_000_000)
    assert (row.key, row.kind, row.channel, row.parent_key) == ("alert:k", "alert", "C1", None)
    assert "failed 3 times in a row" in str(row.payload["blocks"])


async def test_a_muted_job_posts_nothing_counts_its_failures_and_still_resolves(clocked_rig: Rig) -> None:
    rig = clocked_rig
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    async with rig.store.transaction() as tx:
        await tx.mutes.mute(channel="C1", profile="default", job_name="job_a", until_at=None, by="U0MUTE")

    rig.fail("job_a")
    await rig.cycle()
    rig.advance(5 * MINUTE)
    rig.fail("job_a")
    await rig.cycle()

    assert rig.slack.channel_messages("C1") == []
    incident = await _only_incident(rig)
    assert (incident.state, incident.failure_count, incident.escalate_at) == ("open", 2, None)
    async with rig.store.transaction() as tx:
        mute = await tx.mutes.get(channel="C1", profile="default", job_name="job_a")
        assert await tx.outbox.get(incident.root_key) is None
    assert mute is not None and mute.suppressed == 2

    rig.advance(5 * MINUTE)
    rig.succeed("job_a")
    await rig.cycle()

    assert rig.slack.channel_messages("C1") == []
    resolved = await _only_incident(rig)
    assert (resolved.state, resolved.resolution) == ("resolved", "later_success")
    assert rig.slack.calls_to("chat.postMessage") == [] and rig.slack.calls_to("chat.update") == []


async def test_when_a_mute_ends_by_time_the_next_failure_posts_the_card_first(clocked_rig: Rig) -> None:
    rig = clocked_rig
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    async with rig.store.transaction() as tx:
        await tx.mutes.mute(
            channel="C1", profile="default", job_name="job_a", until_at=tx.now + 60 * MINUTE, by="U0MUTE"
        )
    rig.fail("job_a")
    await rig.cycle()
    assert rig.slack.channel_messages("C1") == []

    rig.advance(61 * MINUTE)
    second = rig.fail("job_a")
    await rig.cycle()

    (card,) = rig.top_level("C1")  # the held-back card, posted first, showing where the incident stands
    assert "failed 2 times in a row" in blocks_text(card)
    held, reply = (blocks_text(m) for m in rig.slack.thread("C1", card["ts"]))
    assert held == ":mute: This card was held back while `job_a` was muted here; 2 failures so far."
    assert reply.startswith(f":repeat: Failed again: instance {second} of `job_a`")
    incident = await _only_incident(rig)
    assert incident.failure_count == 2

    # Posted once: the next cycle has nothing to say.
    await rig.cycle()
    assert len(rig.slack.channel_messages("C1")) == 3
