"""Escalation: an incident nobody acknowledged within its delay gets ONE reminder in its thread, mentioning the
subscription's target; acknowledging (or resolving) first cancels it; it is stored, so a restart keeps it.

A manual clock drives the store and the watcher; the sandbox and the fake Slack are real, over HTTP. SQLite, and
PostgreSQL when configured.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from watcher_rig import Rig, blocks_text, dlf_client

from bot.services.incidents import Done, IncidentService, Origin, Target
from bot.watcher.escalation import DUE_BATCH, send_due_reminders

MINUTE = 60_000
JOB = "job_e"
ONCALL = "<!subteam^S0ONCALL>"


def _replies(rig: Rig) -> list[str]:
    (card,) = rig.top_level("C1")
    return [blocks_text(m) for m in rig.slack.thread("C1", card["ts"])]


async def _open_incident(rig: Rig, **subscription: object) -> int:
    rig.add_job(JOB)
    await rig.subscribe("C1", JOB, mention=ONCALL, **subscription)
    iid = rig.fail(JOB)
    await rig.cycle()
    return iid


async def test_one_reminder_mentioning_the_target_once_the_delay_is_over(clocked_rig: Rig) -> None:
    rig = clocked_rig
    iid = await _open_incident(rig)
    rig.advance(14 * MINUTE)
    await rig.cycle()
    assert _replies(rig) == []

    rig.advance(2 * MINUTE)
    await rig.cycle()

    assert _replies(rig) == [
        f":alarm_clock: Still open after 16 min and nobody has acknowledged it: instance {iid} of `{JOB}`.\ncc {ONCALL}"
    ]
    (reminder,) = [p for p in rig.posts("C1") if p.get("thread_ts")]
    assert str(reminder["text"]).startswith(ONCALL)  # the fallback text pings too
    rig.advance(30 * MINUTE)
    await rig.cycle()
    await rig.cycle()
    assert len(_replies(rig)) == 1


async def test_acknowledging_first_cancels_the_reminder(clocked_rig: Rig) -> None:
    rig = clocked_rig
    await _open_incident(rig)
    async with rig.store.transaction() as tx:
        (incident,) = await tx.incidents.unresolved("default")
        await tx.incidents.try_acknowledge(incident.id, by="U0ACK")

    rig.advance(60 * MINUTE)
    await rig.cycle()

    assert _replies(rig) == []


async def test_the_reminder_survives_a_restart(clocked_rig: Rig) -> None:
    rig = clocked_rig
    iid = await _open_incident(rig)
    await rig.replace_watcher()  # a new process: nothing in memory, only the store

    rig.advance(16 * MINUTE)
    await rig.cycle()

    assert _replies(rig) == [
        f":alarm_clock: Still open after 16 min and nobody has acknowledged it: instance {iid} of `{JOB}`.\ncc {ONCALL}"
    ]


async def test_a_subscription_says_when_or_never(clocked_rig: Rig) -> None:
    rig = clocked_rig
    await _open_incident(rig, escalate_after_s=30 * 60)
    rig.advance(20 * MINUTE)
    await rig.cycle()
    assert _replies(rig) == []
    rig.advance(11 * MINUTE)
    await rig.cycle()
    assert len(_replies(rig)) == 1


async def test_escalate_off_never_reminds(clocked_rig: Rig) -> None:
    rig = clocked_rig
    await _open_incident(rig, escalate_after_s=0)
    rig.advance(24 * 60 * MINUTE)
    await rig.cycle()
    assert _replies(rig) == []


def _reminders(rig: Rig) -> list[str]:
    """The escalation reminders in C1's threads (a card a mute held back may be posted with its reminder)."""
    return [
        blocks_text(m)
        for card in rig.top_level("C1")
        for m in rig.slack.thread("C1", card["ts"])
        if blocks_text(m).startswith(":alarm_clock:")
    ]


@contextlib.asynccontextmanager
async def _service(rig: Rig) -> AsyncIterator[IncidentService]:
    """The bot's incident service on the rig's store (and so its manual clock): what `/dlf mute` and the card's
    Mute / Unmute / Acknowledge call."""
    async with dlf_client(rig.dlf_url) as client:
        yield IncidentService(store=rig.store, clients={"default": client}, operators=None)


SLASH = Origin(user="U0MUTE", channel="C1", team=None, via="slash")


async def test_a_reminder_falling_due_while_muted_is_sent_its_delay_after_the_mute_ends(clocked_rig: Rig) -> None:
    rig = clocked_rig
    iid = await _open_incident(rig)
    async with rig.store.transaction() as tx:  # a mute written straight to the store: held at send time
        await tx.mutes.mute(channel="C1", profile="default", job_name=JOB, until_at=tx.now + 60 * MINUTE, by="U0MUTE")

    rig.advance(20 * MINUTE)  # due at 15 min, but muted
    await rig.cycle()
    rig.advance(54 * MINUTE)  # the mute ended at 60 min: due at 75
    await rig.cycle()
    assert _reminders(rig) == []

    rig.advance(2 * MINUTE)
    await rig.cycle()
    rig.advance(60 * MINUTE)
    await rig.cycle()

    assert _reminders(rig) == [
        f":alarm_clock: Still open after 1 h 16 min and nobody has acknowledged it: instance {iid} of `{JOB}`.\ncc {ONCALL}"
    ]


async def test_an_incident_opened_while_muted_is_reminded_its_delay_after_the_mute_ends(clocked_rig: Rig) -> None:
    rig = clocked_rig
    rig.add_job(JOB)
    await rig.subscribe("C1", JOB, mention=ONCALL)
    async with _service(rig) as service:
        muted = await service.mute_job(JOB, SLASH, duration_s=3600)  # /dlf mute job_e 1h: no incident yet
        assert isinstance(muted, Done)
        rig.advance(5 * MINUTE)
        iid = rig.fail(JOB)
        await rig.cycle()  # opened under the mute: nothing posted
        assert rig.top_level("C1") == []

        rig.advance(69 * MINUTE)  # the mute ended at 60 min: the reminder is due at 75, not at 20
        await rig.cycle()
        assert _reminders(rig) == []
        rig.advance(2 * MINUTE)
        await rig.cycle()
        rig.advance(60 * MINUTE)
        await rig.cycle()

    assert len(rig.top_level("C1")) == 1  # the card the mute held back, posted with its reminder
    assert _reminders(rig) == [
        f":alarm_clock: Still open after 1 h 11 min and nobody has acknowledged it: instance {iid} of `{JOB}`.\ncc {ONCALL}"
    ]


async def test_unmuting_sets_the_reminder_due_its_delay_later(
    clocked_rig: Rig,
) -> None:
    rig = clocked_rig
    iid = await _open_incident(rig)  # due at 15 min
    async with _service(rig) as service:
        rig.advance(5 * MINUTE)
        assert isinstance(await service.mute_job(JOB, SLASH, duration_s=None), Done)  # until unmuted
        rig.advance(25 * MINUTE)
        await rig.cycle()
        assert _reminders(rig) == []
        assert isinstance(await service.mute_job(JOB, SLASH, duration_s=None, unmute=True), Done)  # at 30 min
        rig.advance(14 * MINUTE)
        await rig.cycle()
        assert _reminders(rig) == []
        rig.advance(2 * MINUTE)  # 46 min: 15 after the unmute
        await rig.cycle()
        rig.advance(60 * MINUTE)
        await rig.cycle()
        assert _reminders(rig) == [
            f":alarm_clock: Still open after 46 min and nobody has acknowledged it: instance {iid} of `{JOB}`."
            f"\ncc {ONCALL}"
        ]


async def test_acknowledging_while_muted_leaves_no_reminder_for_the_unmute_to_bring_back(clocked_rig: Rig) -> None:
    rig = clocked_rig
    await _open_incident(rig)
    async with _service(rig) as service:
        assert isinstance(await service.mute_job(JOB, SLASH, duration_s=3600), Done)
        assert isinstance(await service.acknowledge(Target(job=JOB), SLASH), Done)
        rig.advance(10 * MINUTE)
        assert isinstance(await service.mute_job(JOB, SLASH, duration_s=None, unmute=True), Done)
        rig.advance(120 * MINUTE)
        await rig.cycle()

    assert _reminders(rig) == []


async def test_a_full_batch_of_another_profiles_reminders_does_not_hide_this_profiles(clocked_rig: Rig) -> None:
    rig = clocked_rig
    async with rig.store.transaction() as tx:  # reminders of the other profile, due before this one's
        for n in range(DUE_BATCH):
            await tx.incidents.open_or_get(
                channel="C2",
                profile="analytics",
                job_name=f"job_other_{n}",
                instance_id=n + 1,
                root_key=f"card-other-{n}",
                escalate_at=tx.now + MINUTE,
            )
    iid = await _open_incident(rig)
    rig.advance(16 * MINUTE)

    assert await send_due_reminders(rig.store, "default") == 1  # the default profile's cycle
    await rig.watcher.drain()

    assert _replies(rig) == [
        f":alarm_clock: Still open after 16 min and nobody has acknowledged it: instance {iid} of `{JOB}`.\ncc {ONCALL}"
    ]
    async with rig.store.transaction(read_only=True) as tx:
        assert len(await tx.incidents.due_escalations("analytics", limit=2 * DUE_BATCH)) == DUE_BATCH  # left alone
