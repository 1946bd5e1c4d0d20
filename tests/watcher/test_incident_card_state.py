"""A redrawn alert card says where its incident stands: a repeat failure keeps what a person did to it."""

from __future__ import annotations

from watcher_rig import Rig, blocks_text

from bot.dlf.models import Instance
from bot.render.limits import problems
from bot.watcher.compose import compose
from bot.watcher.intents import RepeatFailure


async def test_a_repeat_failure_of_an_acknowledged_incident_keeps_the_card_acknowledged_and_by_whom(rig: Rig) -> None:
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    rig.fail("job_a")
    await rig.cycle()
    async with rig.store.transaction() as tx:
        (incident,) = await tx.incidents.unresolved("default")
        await tx.incidents.acknowledge(incident.id, by="U0ACK")
    rig.fail("job_a")

    await rig.cycle()

    (card,) = rig.top_level("C1")
    text = blocks_text(card)
    assert "failed 2 times" in text
    assert "Acknowledged by <@U0ACK>" in text  # before: redrawn as "Open", as if nobody had taken it
    assert "Open" not in text


def test_a_repeat_card_built_from_the_list_row_shows_the_incident_state_too() -> None:
    instance = Instance(job_name="job_a", instance_id=7, status="fail")
    repeat = RepeatFailure(
        key="repeat:k",
        update_key="update:k",
        channel="C1",
        profile="default",
        event="failure",
        root_key="alert:k",
        failure_count=3,
        instance=instance,
        state="acknowledged",
        acknowledged_by="U0ACK",
        details_error="DLF no longer has this instance.",
    )

    reply, update = compose([repeat], now_ms=1_700_000_000_000)

    assert (reply.kind, update.kind) == ("thread_reply", "update")
    assert update.parent_key == reply.parent_key == "alert:k"
    text = str(update.payload["blocks"])
    assert "Acknowledged by <@U0ACK>" in text and "Details could not be fetched" in text
    assert "Open" not in text  # render_summary_alert used to hard-code the open state
    assert problems(update.payload) == []
