"""The whole incident loop, as a channel lives it: a failure's alert, an acknowledgement from the card, an operator's
rerun confirmed in its dialog, its progress as one reply edited in place, its success, "recovered" — every thread
reply and every card redraw in order, through signed Slack requests to the real app and real poll cycles against the
sandbox, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from botwire import CHANNEL
from incident_rig import ALICE, JOB, OPERATOR, IncidentRig, blocks_text, element_ids, incident_rig

from bot.render.actions import INCIDENT_ACK, INCIDENT_RERUN, INCIDENT_RESOLVE, INCIDENT_STOP


@pytest.fixture
async def rig(migrated_database_url: str) -> AsyncIterator[IncidentRig]:
    async with incident_rig(migrated_database_url) as running:
        yield running


def _updates_of(rig: IncidentRig, ts: str) -> list[dict[str, Any]]:
    """The chat.update calls that redrew the message `ts`, in order."""
    return [call.params for call in rig.slack.calls_to("chat.update") if call.params.get("ts") == ts]


async def test_fail_alert_acknowledge_rerun_progress_success_recovered(rig: IncidentRig) -> None:
    card = await rig.alert()
    incident = await rig.incident()
    iid = incident.last_instance_id
    assert {INCIDENT_ACK, INCIDENT_RERUN, INCIDENT_RESOLVE} <= set(element_ids(card))

    # Alice takes it from the card.
    await rig.acted(lambda: rig.click(card, INCIDENT_ACK, user=ALICE))
    assert rig.replies(card) == [":eyes: <@U0ALICE> is on it (acknowledged from the card)."]
    assert f":eyes: Acknowledged by <@{ALICE}>" in blocks_text(rig.card())
    assert INCIDENT_ACK not in element_ids(rig.card())

    # An operator reruns it from the failed node; the sandbox will let that rerun succeed.
    rig.sandbox.timeline.on_rerun("success", after_ms=3_000, job=JOB, instance_id=iid)
    await rig.click(rig.card(), INCIDENT_RERUN, user=OPERATOR, choice="error_node")
    await rig.slack.wait_for_calls("views.open")
    (dialog,) = rig.slack.opened_views
    await rig.acted(lambda: rig.submit(dialog, user=OPERATOR))
    acknowledged, asked = rig.replies(card)
    assert asked == (
        f":arrows_counterclockwise: <@{OPERATOR}> asked from the card for a rerun of instance `{iid}` from the failed"
        " node (`load`): DLF accepted it. Its progress follows here."
    )
    rerunning = blocks_text(rig.card())
    assert f"Acknowledged by <@{ALICE}>" in rerunning and f"asked by <@{OPERATOR}>" in rerunning
    assert INCIDENT_STOP in element_ids(rig.card()) and INCIDENT_RERUN not in element_ids(rig.card())

    # Poll cycles follow it: one progress reply, edited in place as nodes finish.
    await rig.cycle()
    assert len(rig.replies(card)) == 3
    thread = [m for m in rig.slack.thread(CHANNEL, card["ts"]) if m["ts"] != card["ts"]]
    progress_ts = thread[2]["ts"]
    assert thread[2]["text"].startswith(f"rerun of {JOB} {iid}: ") and "nodes done" in thread[2]["text"]
    while rig.sandbox.timeline.step() is not None:
        await rig.cycle()
    await rig.cycle()

    replies = rig.replies(card)
    assert replies[:2] == [acknowledged, asked]
    assert replies[2] == f"rerun of {JOB} {iid}: 3 of 3 nodes done — finished"
    assert replies[3] == f"{JOB} recovered after under a minute, 1 failure, by <@{OPERATOR}>'s rerun"
    assert len(replies) == 4  # nothing else: no second recovery from the decision seeing the success
    assert _updates_of(rig, progress_ts), "the progress reply is edited in place, not posted again"

    # The card, redrawn at every change, ends resolved and keeps who acknowledged; only Refresh is left.
    states = [blocks_text(update) for update in _updates_of(rig, card["ts"])]
    assert any("Acknowledged by" in s and "Rerunning" in s for s in states)
    final = blocks_text(rig.card())
    assert ":white_check_mark: Resolved" in final and f"The rerun of instance {iid} succeeded" in final
    assert f"asked for by <@{OPERATOR}>." in final and f"acknowledged by <@{ALICE}> after" in final
    assert "recovered after" in final
    assert element_ids(rig.card()) == ["dlf.incident.refresh"]
    resolved = await rig.incident()
    assert (resolved.state, resolved.resolution, resolved.recovered_by_rerun_of) == ("resolved", "rerun", OPERATOR)
    assert len(rig.dlf_actions()) == 1
    actions = [entry.action for entry in await rig.audit()]
    assert actions == ["ack", "rerun"]
