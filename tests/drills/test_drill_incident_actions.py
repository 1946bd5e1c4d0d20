"""`dlf-bot run` as shipped acts on an incident from its card: Acknowledge, then an operator's Rerun confirmed in its
dialog — DLF asked once, the thread told, the card redrawn (signed requests to the real process)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from rig import World, metadata_of, signed_headers, wait_for

pytestmark = [pytest.mark.drill, pytest.mark.slow]
FORM = "application/x-www-form-urlencoded"


def _click(card: dict[str, Any], action_id: str, value: str, *, user: str, option: bool = False) -> dict[str, Any]:
    element: dict[str, Any] = {"action_id": action_id, "block_id": "b", "action_ts": "1.0"}
    element |= (
        {"type": "static_select", "selected_option": {"value": value}} if option else {"type": "button", "value": value}
    )
    return {
        "type": "block_actions",
        "user": {"id": user, "team_id": "T0DRILL"},
        "team": {"id": "T0DRILL"},
        "api_app_id": "A0DRILL",
        "trigger_id": f"trigger.{user}.{action_id}",
        "container": {"type": "message", "message_ts": card["ts"], "channel_id": "C0INC"},
        "channel": {"id": "C0INC"},
        "response_url": "http://127.0.0.1:9/unused",
        "actions": [element],
    }


async def test_acknowledge_and_an_operators_rerun_through_the_shipped_bot(world: World, tmp_path: Path) -> None:
    world.add_jobs(["job_inc"])
    bot = await world.start_bot(f"sqlite:///{tmp_path}/bot.db", log=tmp_path / "bot.log", DLF_BOT_OPERATORS="U0OPS")
    await world.watch(bot, "C0INC", "job_inc")
    world.fail("job_inc")
    await wait_for(lambda: bool(world.cards("C0INC")), timeout=60)
    (card,) = world.cards("C0INC")
    value = json.dumps({"card": metadata_of(card)["key"]}, separators=(",", ":"))

    async def send(payload: dict[str, Any]) -> None:
        body = urlencode({"payload": json.dumps(payload)})
        assert (await bot.post(body, headers=signed_headers(body, FORM))).status_code == 200

    def thread() -> list[str]:
        return [m["text"] for m in world.slack.thread("C0INC", card["ts"]) if m["ts"] != card["ts"]]

    await send(_click(card, "dlf.incident.ack", value, user="U0ALICE"))
    await wait_for(lambda: len(thread()) == 1, timeout=30)
    rerun = json.dumps({"card": metadata_of(card)["key"], "choice": "error_node"}, separators=(",", ":"))
    await send(_click(card, "dlf.incident.rerun", rerun, user="U0OPS", option=True))
    await world.slack.wait_for_calls("views.open", timeout=30)
    (dialog,) = world.slack.opened_views
    submission = {
        "type": "view_submission",
        "team": {"id": "T0DRILL"},
        "user": {"id": "U0OPS", "team_id": "T0DRILL"},
        "api_app_id": "A0DRILL",
        "view": {**dialog["view"], "id": dialog["id"], "state": {"values": {}}},
    }
    await send(submission)
    await wait_for(lambda: len(thread()) == 2, timeout=30)

    assert thread()[0] == ":eyes: <@U0ALICE> is on it (acknowledged from the card)."
    assert "DLF accepted it" in thread()[1]
    restarts = [c for c in world.sandbox.calls if c.operation == "restart_instance"]
    assert len(restarts) == 1 and restarts[0].body == {"retry_location": "error_node"}
    assert await bot.stop() == 0
