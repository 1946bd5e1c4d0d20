"""The incident card: one view model, every state the incident can be in."""

from __future__ import annotations

import pytest

from bot.dlf.models import Instance, InstanceSummary
from bot.render.incident_card import IncidentView, render_incident_card
from bot.render.limits import problems

NOW = 1_700_000_000_000
FAILED = Instance(job_name="job_a", instance_id=7, status="fail", end_time=NOW - 60_000)


def _headline(view: IncidentView) -> str:
    message = render_incident_card(view, now_ms=NOW, profile="default", mentions=("<@U0ONCALL>",))
    assert problems(message.to_dict()) == []
    return str(message.blocks[1]["text"]["text"])


@pytest.mark.parametrize(
    ("view", "expected", "absent"),
    [
        # A new incident: open, and the on-call person is asked to look.
        (IncidentView(instance=FAILED), ["Open", "cc <@U0ONCALL>"], ["Acknowledged"]),
        # Someone took it: the card says who, whatever redraws it next.
        (
            IncidentView(instance=FAILED, state="acknowledged", acknowledged_by="U0ACK", failure_count=2),
            ["Acknowledged by <@U0ACK>", "failed 2 times"],
            ["Open"],
        ),
        # A name that is not a user id pings no one.
        (
            IncidentView(instance=FAILED, state="acknowledged", acknowledged_by="<!channel>"),
            ["Acknowledged by `&lt;!channel&gt;`"],
            ["<!channel>"],
        ),
        # Resolved by a rerun of the failed instance: how, and nobody is pinged any more.
        (
            IncidentView(
                instance=FAILED, resolved_by=InstanceSummary(job_name="job_a", instance_id=7, status="success")
            ),
            ["Resolved", "The rerun of instance 7 succeeded"],
            ["cc "],
        ),
        # Resolved by a person: what they said.
        (
            IncidentView(instance=FAILED, state="resolved", resolution="fixed upstream"),
            ["Resolved", "fixed upstream"],
            ["cc "],
        ),
    ],
)
def test_the_headline_says_where_the_incident_stands(
    view: IncidentView, expected: list[str], absent: list[str]
) -> None:
    headline = _headline(view)
    for text in expected:
        assert text in headline
    for text in absent:
        assert text not in headline
