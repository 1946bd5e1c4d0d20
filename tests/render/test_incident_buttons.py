"""The incident card's buttons by state, its status lines, and a golden card with every action."""

from __future__ import annotations

import json

import pytest
from render_fixtures import check_golden

from bot.dlf.models import Instance, Node
from bot.render.actions import (
    INCIDENT_ACK,
    INCIDENT_MUTE,
    INCIDENT_REFRESH,
    INCIDENT_RERUN,
    INCIDENT_RESOLVE,
    INCIDENT_STOP,
    INCIDENT_UNMUTE,
    INSTANCE_REFRESH,
    MAX_OPTION_VALUE_LENGTH,
    decode_incident_ref,
    names_card,
)
from bot.render.incident_actions import element_ids
from bot.render.incident_card import IncidentView, RerunView, render_incident_card
from bot.render.limits import problems

NOW = 1_700_000_000_000
KEY = "alert:default:C0DATA:job_a:7:failure"
NODES = (Node(node_name="extract", status="success"), Node(node_name="load", status="fail", log_path="obs://l/1"))
FAILED = Instance(job_name="job_a", instance_id=7, status="fail", end_time=NOW - 60_000, nodes=NODES)
RUNNING = FAILED.model_copy(update={"status": "running"})
RERUN = RerunView(by="U0OPS", retry_location="error_node", state="running", progress="1/2")


def _card(view: IncidentView) -> dict[str, object]:
    message = render_incident_card(view, now_ms=NOW, profile="default")
    assert problems(message.to_dict()) == []
    return message.to_dict()


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (
            IncidentView(instance=FAILED, card_key=KEY),
            [INCIDENT_ACK, INCIDENT_RERUN, INCIDENT_MUTE, INCIDENT_RESOLVE, INCIDENT_REFRESH],
        ),
        (
            IncidentView(instance=FAILED, card_key=KEY, state="acknowledged", acknowledged_by="U0A"),
            [INCIDENT_RERUN, INCIDENT_MUTE, INCIDENT_RESOLVE, INCIDENT_REFRESH],
        ),
        (
            IncidentView(instance=RUNNING, card_key=KEY, state="acknowledged", acknowledged_by="U0A", rerun=RERUN),
            [INCIDENT_STOP, INCIDENT_MUTE, INCIDENT_RESOLVE, INCIDENT_REFRESH],
        ),
        (
            IncidentView(instance=FAILED, card_key=KEY, muted=True, muted_until=NOW + 3_600_000),
            [INCIDENT_ACK, INCIDENT_RERUN, INCIDENT_UNMUTE, INCIDENT_RESOLVE, INCIDENT_REFRESH],
        ),
        (IncidentView(instance=FAILED, card_key=KEY, state="resolved", resolver="U0A"), [INCIDENT_REFRESH]),
        # No card key (a preview): the instance's own Refresh, no incident actions.
        (IncidentView(instance=FAILED), [INSTANCE_REFRESH]),
    ],
)
def test_the_buttons_are_the_ones_that_make_sense_now(view: IncidentView, expected: list[str]) -> None:
    assert element_ids(_card(view)["blocks"]) == expected  # type: ignore[arg-type]


def test_every_element_names_the_incident_by_its_card_key_and_menus_carry_the_choice() -> None:
    blocks = _card(IncidentView(instance=FAILED, card_key=KEY))["blocks"]
    (actions,) = [b for b in blocks if b["type"] == "actions"]  # type: ignore[index]
    for element in actions["elements"]:
        values = [o["value"] for o in element.get("options", [])] or [element["value"]]
        for value in values:
            assert names_card(decode_incident_ref(value), KEY)
    rerun = next(e for e in actions["elements"] if e["action_id"] == INCIDENT_RERUN)
    assert [json.loads(o["value"])["choice"] for o in rerun["options"]] == ["error_node", "first_node"]
    mute = next(e for e in actions["elements"] if e["action_id"] == INCIDENT_MUTE)
    assert [json.loads(o["value"])["choice"] for o in mute["options"]] == ["1h", "4h", "24h", "forever"]


def test_a_long_card_key_still_fits_a_menu_option_and_still_names_its_card() -> None:
    key = "alert:default:C0DATA:" + "j" * 200 + ":7:failure"
    blocks = _card(IncidentView(instance=FAILED, card_key=key))["blocks"]
    (actions,) = [b for b in blocks if b["type"] == "actions"]  # type: ignore[index]
    rerun = next(e for e in actions["elements"] if e["action_id"] == INCIDENT_RERUN)
    for option in rerun["options"]:
        assert len(option["value"]) <= MAX_OPTION_VALUE_LENGTH
        ref = decode_incident_ref(option["value"])
        assert names_card(ref, key) and not names_card(ref, key + "x")


def test_the_card_says_who_reruns_from_where_the_progress_the_mute_and_the_timings() -> None:
    rerunning = _text(
        _card(
            IncidentView(
                instance=RUNNING,
                card_key=KEY,
                state="acknowledged",
                acknowledged_by="U0A",
                opened_at=NOW - 600_000,
                acknowledged_at=NOW - 360_000,
                rerun=RERUN,
                muted=True,
                muted_until=None,
            )
        )
    )
    assert "Rerunning from the failed node, asked by <@U0OPS> · 1 of 2 nodes done" in rerunning
    assert "Muted in this channel until unmuted" in rerunning
    assert "acknowledged after 4 min" in rerunning
    resolved = _text(
        _card(
            IncidentView(
                instance=FAILED,
                card_key=KEY,
                state="resolved",
                opened_at=NOW - 2_520_000,
                resolved_at=NOW,
                recovered_by_rerun_of="U0OPS",
            )
        )
    )
    assert "Recovered by <@U0OPS>'s rerun." in resolved and "recovered after 42 min" in resolved


def _text(card: dict[str, object]) -> str:
    return json.dumps(card, ensure_ascii=False)


def test_golden_incident_card_with_every_action() -> None:
    view = IncidentView(instance=FAILED, card_key=KEY, failure_count=3, opened_at=NOW - 60_000)
    check_golden("incident_card_actions", _card(view))
