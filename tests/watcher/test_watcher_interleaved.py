"""Failures and successes of one job interleaved within and across poll cycles: every success after a failure
resolves that failure's incident, and every failure after a success opens a new one — whichever cycle DLF's lists
show them in. (Found by the PostgreSQL soak drill: a success and the next failure in one cycle left a card that
never resolved, and a success listed in its failure's cycle was missed until the next one.)"""

from __future__ import annotations

import pytest
from watcher_rig import Rig, metadata_of


def _events(rig: Rig, channel: str) -> list[str]:
    return [str(metadata_of(m).get("event")) for m in rig.slack.channel_messages(channel)]


@pytest.mark.parametrize(
    "plan",
    [
        "F S | F | | S",
        "F S F | S",
        "F | F | F | F | S",
        "F | S F | S",
        "F S | F S | F | S",
    ],
)
async def test_every_success_after_a_failure_resolves_exactly_its_incident(rig: Rig, plan: str) -> None:
    """`plan`: F a failure, S a success, `|` a poll cycle."""
    rig.add_job("job_a")
    await rig.subscribe("C1", "job_a")
    incidents = recoveries = 0
    is_open = False
    for cycle in plan.split("|"):
        for step in cycle.split():
            if step == "F":
                rig.fail("job_a")
                incidents += not is_open
                is_open = True
            else:
                rig.succeed("job_a")
                recoveries += is_open
                is_open = False
        await rig.cycle()
    await rig.cycle()

    events = _events(rig, "C1")
    assert events.count("failure") == incidents, events
    assert events.count("resolved") == recoveries, events
    async with rig.store.transaction() as tx:
        assert len(await tx.incidents.unresolved("default")) == int(is_open)
    # Every card but the one of a still open incident is drawn resolved.
    cards = rig.top_level("C1")
    assert sum("Resolved" in str(card.get("text", "")) for card in cards) == recoveries
