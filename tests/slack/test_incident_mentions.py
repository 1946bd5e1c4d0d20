"""Talking to the bot in an alert's thread: `@dlf ack`, `rerun`, `stop`, `resolve`, `refresh`, `nodes`, `logs`,
`help` act on that thread's incident; elsewhere they say how to use them. Signed event callbacks, the real app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from incident_rig import ALICE, BOB, JOB, OPERATOR, IncidentRig, blocks_text, incident_rig


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[IncidentRig]:
    async with incident_rig(f"sqlite:///{tmp_path}/bot.db") as running:
        yield running


async def _direct_answer(rig: IncidentRig, say: Any) -> dict[str, Any]:
    """Say something, and return the bot's own answer (a chat.postMessage of the app, not of the outbox)."""
    before = len(rig.slack.calls_to("chat.postMessage"))
    await say()
    calls = await rig.slack.wait_for_calls("chat.postMessage", count=before + 1)
    return calls[before].params


async def test_ack_in_the_thread_acknowledges_its_incident(rig: IncidentRig) -> None:
    card = await rig.alert()

    await rig.acted(lambda: rig.mention("ack", thread_ts=card["ts"], user=BOB))

    assert rig.replies(card) == [":eyes: <@U0BOB> is on it (acknowledged in this thread)."]
    assert "Acknowledged by <@U0BOB>" in blocks_text(rig.card())
    (entry,) = await rig.audit()
    assert (entry.action, entry.details["via"]) == ("ack", "mention")


async def test_rerun_in_the_thread_by_an_operator_calls_dlf_once_though_slack_redelivers(rig: IncidentRig) -> None:
    card = await rig.alert()

    event_id = await rig.acted(lambda: rig.mention("rerun from first", thread_ts=card["ts"], user=OPERATOR))
    await rig.mention("rerun from first", thread_ts=card["ts"], user=OPERATOR, event_id=event_id)  # a redelivery
    await rig.mention("rerun", thread_ts=card["ts"], user=OPERATOR)  # said again: refused, a rerun runs
    await rig.until(lambda: _answered(rig, "A rerun is running already"))

    (call,) = rig.dlf_actions()
    assert call.body == {"retry_location": "first_node"}
    (reply,) = rig.replies(card)[:1]
    assert "asked in this thread for a rerun" in reply and "from the first node: DLF accepted it" in reply


async def test_rerun_in_the_thread_by_someone_else_is_refused_there_and_audited(rig: IncidentRig) -> None:
    card = await rig.alert()

    answer = await _direct_answer(rig, lambda: rig.mention("rerun", thread_ts=card["ts"], user=ALICE))

    assert answer["thread_ts"] == card["ts"]
    assert "Only the bot's operators may rerun" in str(answer["blocks"])
    assert rig.dlf_actions() == []
    (entry,) = await rig.audit()
    assert (entry.action, entry.outcome) == ("rerun", "refused")


async def test_stop_in_the_thread_of_a_failed_instance_says_there_is_nothing_to_stop(rig: IncidentRig) -> None:
    card = await rig.alert()
    answer = await _direct_answer(rig, lambda: rig.mention("stop", thread_ts=card["ts"], user=OPERATOR))
    assert "is not running (status `fail`)" in str(answer["blocks"])
    assert rig.dlf_actions() == []


async def test_resolve_and_refresh_in_the_thread(rig: IncidentRig) -> None:
    card = await rig.alert()
    await rig.acted(lambda: rig.mention("refresh", thread_ts=card["ts"]), audited=False)
    await rig.acted(lambda: rig.mention("resolve", thread_ts=card["ts"]))
    assert rig.replies(card) == [":white_check_mark: <@U0ALICE> resolved this incident in this thread."]
    assert (await rig.incident()).state == "resolved"


async def test_nodes_lists_every_node_and_logs_the_failed_nodes_log_paths(rig: IncidentRig) -> None:
    card = await rig.alert()

    nodes = await _direct_answer(rig, lambda: rig.mention("nodes", thread_ts=card["ts"]))
    logs = await _direct_answer(rig, lambda: rig.mention("logs", thread_ts=card["ts"]))

    listed = str(nodes["blocks"])
    assert all(f"`{name}`" in listed for name in ("extract", "transform", "load")) and "3 nodes, page 1 of 1" in listed
    # The cards' words for the statuses, not DLF's values.
    assert ":white_check_mark: `extract` · succeeded" in listed and ":x: `load` · failed" in listed
    assert "`success`" not in listed and "`fail`" not in listed
    assert "`load`" in str(logs["blocks"]) and "`extract`" not in str(logs["blocks"])
    assert nodes["thread_ts"] == logs["thread_ts"] == card["ts"]


@pytest.mark.parametrize("where", ["top", "other_thread", "dm"])
async def test_a_verb_outside_an_incident_thread_says_how_to_use_it(rig: IncidentRig, where: str) -> None:
    card = await rig.alert()
    thread = {"top": None, "other_thread": "1700000000.999999", "dm": card["ts"]}[where]
    channel = "D0ALICE" if where == "dm" else "C0DATA"

    answer = await _direct_answer(rig, lambda: rig.mention("ack", thread_ts=thread, channel=channel))

    assert "In an alert's thread, mention the bot with `ack`" in str(answer["blocks"])
    assert (await rig.incident()).state == "open" and await rig.audit() == []


async def test_help_in_the_thread_lists_the_verbs_and_instance_still_works_there(rig: IncidentRig) -> None:
    card = await rig.alert()
    incident = await rig.incident()

    helped = await _direct_answer(rig, lambda: rig.mention("help", thread_ts=card["ts"]))
    shown = await _direct_answer(
        rig, lambda: rig.mention(f"instance {JOB} {incident.last_instance_id}", thread_ts=card["ts"])
    )

    assert "`rerun from first`" in str(helped["blocks"])
    assert str(incident.last_instance_id) in str(shown["text"])


async def _answered(rig: IncidentRig, words: str) -> bool:
    return any(words in str(c.params) for c in rig.slack.calls_to("chat.postMessage"))


async def test_a_verb_written_wrong_shows_each_verb_as_its_own_code_span(rig: IncidentRig) -> None:
    card = await rig.alert()

    answer = await _direct_answer(rig, lambda: rig.mention("stop now", thread_ts=card["ts"]))

    said = str(answer["blocks"])
    assert ":warning: `stop` takes no more words here." in said
    assert "*Usage*\\n`@dlf ack`\\n`@dlf rerun`\\n`@dlf rerun from first`\\n`@dlf stop`" in said
    assert "ˋ" not in said
    assert rig.dlf_actions() == []


async def test_help_outside_a_thread_is_the_dlf_help_with_the_thread_words(rig: IncidentRig) -> None:
    answer = await _direct_answer(rig, lambda: rig.mention("help", thread_ts=None))

    said = str(answer["blocks"])
    assert "`/dlf instance &lt;job&gt; &lt;instance_id&gt; [--profile NAME]`" in said
    assert "*In an alert's thread*" in said and "`@dlf rerun from first`" in said and "`@dlf nodes [page]`" in said


@pytest.mark.parametrize(("text", "said"), [("help ack", "@dlf ack"), ("help rerun", "@dlf rerun")])
async def test_dlf_help_on_a_thread_verb_says_it_is_said_in_an_alerts_thread(
    rig: IncidentRig, text: str, said: str
) -> None:
    answer = (await rig.bot.command(text, "r-help")).json()  # help is answered in the ack

    shown = str(answer["text"]) + str(answer["blocks"])
    assert "not a /dlf subcommand" not in shown
    assert f"is said to the bot in an alert's thread (`{said}`)" in shown and "`@dlf stop`" in shown


async def test_an_escalate_error_shows_the_usage_with_escalate(rig: IncidentRig) -> None:
    answer = (await rig.bot.command("watch job_batch --escalate 900", "r-escalate")).json()

    shown = str(answer["blocks"])
    assert ":warning: `--escalate 900` needs a unit" in shown
    assert "[--escalate 30m|off]" in shown.split("*Usage*")[1]
