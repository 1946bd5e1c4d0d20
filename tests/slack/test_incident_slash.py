"""`/dlf mute <job> 4h` and `/dlf unmute <job>` through the incident service: audited, and told in the open
incident's thread when there is one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from botwire import CHANNEL
from incident_rig import ALICE, JOB, NODES, IncidentRig, blocks_text, element_ids, incident_rig

from bot.render.actions import INCIDENT_UNMUTE
from slack_fake import TEAM_ID


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[IncidentRig]:
    async with incident_rig(f"sqlite:///{tmp_path}/bot.db") as running:
        yield running


async def _command(rig: IncidentRig, text: str) -> str:
    response_id = text.replace(" ", "_")
    answer = await rig.bot.command(text, response_id)
    assert answer.status_code == 200
    (response,) = await rig.slack.wait_for_responses(response_id)
    return str(response["text"]) + str(response.get("blocks"))


async def test_mute_with_an_open_incident_tells_its_thread_and_redraws_its_card(rig: IncidentRig) -> None:
    card = await rig.alert()

    said = await rig.acted(lambda: _command(rig, f"mute {JOB} 4h"))

    assert "Muted `job_batch` in this channel until" in said
    (reply,) = rig.replies(card)
    assert reply.startswith(":no_bell: <@U0ALICE> muted `job_batch` in this channel with `/dlf`, until")
    redrawn = rig.card()
    assert "Muted in this channel until" in blocks_text(redrawn) and INCIDENT_UNMUTE in element_ids(redrawn)
    (entry,) = await rig.audit()
    assert (entry.action, entry.target, entry.outcome, entry.details["via"]) == ("mute", JOB, "ok", "slash")


async def test_mute_without_an_incident_holds_back_the_failures_of_real_cycles_and_unmute_says_how_many(
    rig: IncidentRig,
) -> None:
    rig.sandbox.state.add_job(JOB, None, nodes=NODES)
    async with rig.store.transaction() as tx:
        await tx.subscriptions.subscribe(channel=CHANNEL, profile="default", target=JOB, created_by=ALICE, team=TEAM_ID)
    said = await _command(rig, f"mute {JOB} forever")
    assert "until `/dlf unmute`" in said
    async with rig.store.transaction(read_only=True) as tx:
        mute = await tx.mutes.get(channel=CHANNEL, profile="default", job_name=JOB)
        assert mute is not None and mute.until_at is None and mute.created_by == "U0ALICE"

    for _ in range(3):  # the job fails three times, each seen by a poll cycle of the real watcher
        rig.fail(JOB)
        await rig.cycle()
    assert rig.slack.channel_messages(CHANNEL) == []  # muted: nothing posted

    said = await rig.acted(lambda: _command(rig, f"unmute {JOB}"))

    assert "Unmuted `job_batch`: 3 failures held back while muted." in said
    assert [(e.action, e.outcome) for e in await rig.audit()] == [("mute", "ok"), ("unmute", "ok")]
    async with rig.store.transaction(read_only=True) as tx:
        assert await tx.mutes.get(channel=CHANNEL, profile="default", job_name=JOB) is None
    card = rig.card()  # the incident the mute held back is posted now, and its thread says what was held back
    assert rig.replies(card)[-1] == (
        ":bell: <@U0ALICE> unmuted `job_batch` with `/dlf`: 3 failures held back while muted."
    )


@pytest.mark.parametrize("text", ["mute 'job_*' 4h", "unmute 'job_*'"])
async def test_a_pattern_cannot_be_muted_or_unmuted_and_the_usage_says_so(rig: IncidentRig, text: str) -> None:
    answer = await rig.bot.command(text, "r-pattern")  # refused in the ack, before any I/O
    said = str(answer.json()["text"]) + str(answer.json()["blocks"])
    assert (
        said.startswith("`job_*` is a pattern;")
        and ":warning: `job_*` is a pattern;" in said
        and "takes one exact job name" in said
    )
    subcommand = text.split()[0]
    assert f"*Usage*\\n`/dlf {subcommand} &lt;job&gt;" in said
    assert await rig.audit() == []
