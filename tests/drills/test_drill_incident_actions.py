"""`dlf-bot run` as shipped acts on an incident from its card: Acknowledge, then an operator's Rerun confirmed in its
dialog — DLF asked once, the thread told, the card redrawn (signed requests to the real process)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from rig import World, metadata_of, metric, signed_headers, wait_for

pytestmark = [pytest.mark.drill, pytest.mark.slow]
FORM = "application/x-www-form-urlencoded"


def _click(
    card: dict[str, Any], action_id: str, value: str, *, user: str, option: bool = False, channel: str = "C0INC"
) -> dict[str, Any]:
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
        "container": {"type": "message", "message_ts": card["ts"], "channel_id": channel},
        "channel": {"id": channel},
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


CHANNELS = ("C0INCA", "C0INCB", "C0INCC", "C0INCD")
JOBS_PER_CHANNEL = 5  # at the digest threshold, not over it: each failure gets its own card


async def test_many_incidents_acted_on_twice_at_once_call_dlf_once_each(
    world: World, database: str, tmp_path: Path
) -> None:
    """20 incidents over 4 channels on the shipped bot (SQLite and PostgreSQL): on each card two people press
    Acknowledge at the same moment and the operator's confirmation dialog is submitted twice at once (a double click,
    a redelivery). Each incident gets ONE "is on it", ONE "DLF accepted it" and ONE restart call to DLF."""
    jobs = {channel: [f"job_{channel[-1].lower()}{n}" for n in range(JOBS_PER_CHANNEL)] for channel in CHANNELS}
    world.add_jobs([job for names in jobs.values() for job in names])
    bot = await world.start_bot(database, log=tmp_path / "bot.log", DLF_BOT_OPERATORS="U0OPS")
    for channel, names in jobs.items():
        for job in names:
            await world.watch(bot, channel, job)
    for names in jobs.values():
        for job in names:
            world.fail(job)
    await wait_for(lambda: all(len(world.cards(channel)) == JOBS_PER_CHANNEL for channel in CHANNELS), timeout=120)

    async def send(payload: dict[str, Any]) -> None:
        body = urlencode({"payload": json.dumps(payload)})
        assert (await bot.post(body, headers=signed_headers(body, FORM))).status_code == 200

    def replies(channel: str, card: dict[str, Any]) -> list[str]:
        return [m["text"] for m in world.slack.thread(channel, card["ts"]) if m["ts"] != card["ts"]]

    opened = 0
    for channel in CHANNELS:
        for card in world.cards(channel):
            key = metadata_of(card)["key"]
            value = json.dumps({"card": key}, separators=(",", ":"))
            await asyncio.gather(
                send(_click(card, "dlf.incident.ack", value, user="U0ALICE", channel=channel)),
                send(_click(card, "dlf.incident.ack", value, user="U0BOB", channel=channel)),
            )
            rerun = json.dumps({"card": key, "choice": "error_node"}, separators=(",", ":"))
            await send(_click(card, "dlf.incident.rerun", rerun, user="U0OPS", option=True, channel=channel))
            opened += 1
            await wait_for(lambda n=opened: len(world.slack.opened_views) == n, timeout=30)
            dialog = world.slack.opened_views[-1]

            def submission(attempt: int, dialog: dict[str, Any] = dialog) -> dict[str, Any]:
                # Two deliveries of one submission that differ in their bytes (so both pass the replay check and
                # reach the service): only the store's claim on the rerun can keep DLF from being asked twice.
                view = {**dialog["view"], "id": dialog["id"], "state": {"values": {}}, "hash": f"1.{attempt}"}
                return {
                    "type": "view_submission",
                    "team": {"id": "T0DRILL"},
                    "user": {"id": "U0OPS", "team_id": "T0DRILL"},
                    "api_app_id": "A0DRILL",
                    "view": view,
                }

            await asyncio.gather(send(submission(1)), send(submission(2)))

    def told(channel: str, card: dict[str, Any]) -> tuple[int, int]:
        texts = replies(channel, card)
        return sum("is on it" in t for t in texts), sum("DLF accepted it" in t for t in texts)

    everything = [(channel, card) for channel in CHANNELS for card in world.cards(channel)]
    # Every click and every submission decided (the bot counts each once it has the service's answer) ...
    await _until_counted(bot, {"incident_ack": 2 * len(everything), "incident_rerun_confirmed": 2 * len(everything)})
    # ... and everything they queued delivered: a second "is on it" or "accepted" would be in Slack by now.
    await wait_for(lambda: all(told(c, card) >= (1, 1) for c, card in everything), timeout=120)
    await _until_outbox_empty(bot)
    assert [told(c, card) for c, card in everything] == [(1, 1)] * len(everything)
    restarts = [c for c in world.sandbox.calls if c.operation == "restart_instance"]
    assert len(restarts) == len(everything) == len(CHANNELS) * JOBS_PER_CHANNEL
    assert len({c.path for c in restarts}) == len(restarts)  # one per instance
    assert all(c.body == {"retry_location": "error_node"} for c in restarts)
    assert world.duplicated_keys() == []
    assert await bot.stop() == 0


def _actions(text: str, action: str) -> float:
    """How many clicks of `action` the bot has answered (every outcome), from its /metrics."""
    prefix = f'dlf_bot_actions_total{{action="{action}",'
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(prefix))


async def _until_counted(bot: Any, expected: dict[str, int], *, timeout: float = 120) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        text = await bot.metrics()
        if all(_actions(text, action) >= n for action, n in expected.items()):
            return
        assert asyncio.get_running_loop().time() < deadline, f"not every click was answered: {expected}"
        await asyncio.sleep(0.2)


async def _until_outbox_empty(bot: Any, *, timeout: float = 120) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while metric(await bot.metrics(), "dlf_bot_outbox_pending_rows") != 0:
        assert asyncio.get_running_loop().time() < deadline, "the outbox did not drain"
        await asyncio.sleep(0.2)
