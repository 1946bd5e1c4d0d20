"""Incident actions from the card, through signed Slack requests against the real app: the watcher raises the
incident on a failed sandbox instance, the bot acts on it, the outbox tells the thread and redraws the card."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from incident_rig import ALICE, BOB, JOB, OPERATOR, IncidentRig, blocks_text, card_value, element_ids, incident_rig

from bot.render.actions import (
    INCIDENT_ACK,
    INCIDENT_MUTE,
    INCIDENT_REFRESH,
    INCIDENT_RERUN,
    INCIDENT_RESOLVE,
    INCIDENT_STOP,
    INCIDENT_UNMUTE,
    IncidentRef,
    encode_incident_ref,
)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[IncidentRig]:
    async with incident_rig(f"sqlite:///{tmp_path}/bot.db") as running:
        yield running


async def test_acknowledge_says_who_is_on_it_and_redraws_the_card_acknowledged(rig: IncidentRig) -> None:
    card = await rig.alert()
    # The alert carries the incident's buttons from its first post.
    assert element_ids(card) == [INCIDENT_ACK, INCIDENT_RERUN, INCIDENT_MUTE, INCIDENT_RESOLVE, INCIDENT_REFRESH]

    await rig.acted(lambda: rig.click(card, INCIDENT_ACK, user=ALICE))

    assert rig.replies(card) == [":eyes: <@U0ALICE> is on it (acknowledged from the card)."]
    redrawn = rig.card()
    text = blocks_text(redrawn)
    assert "Acknowledged by <@U0ALICE>" in text and "acknowledged after" in text
    ids = element_ids(redrawn)
    assert INCIDENT_ACK not in ids
    assert ids == [INCIDENT_RERUN, INCIDENT_MUTE, INCIDENT_RESOLVE, INCIDENT_REFRESH]
    counted = rig.bot.registry.get_sample_value("dlf_bot_actions_total", {"action": "incident_ack", "outcome": "ok"})
    assert counted == 1
    (entry,) = await rig.audit()
    assert (entry.actor, entry.action, entry.channel, entry.target, entry.outcome) == (
        ALICE,
        "ack",
        "C0DATA",
        JOB,
        "ok",
    )


async def test_a_second_acknowledge_is_told_who_took_it_and_changes_nothing(rig: IncidentRig) -> None:
    card = await rig.alert()
    await rig.acted(lambda: rig.click(card, INCIDENT_ACK, user=ALICE))

    answer = await rig.answer(await rig.click(card, INCIDENT_ACK, user=BOB))

    assert "<@U0ALICE> acknowledged this incident already" in answer
    assert len(rig.replies(card)) == 1 and len(await rig.audit()) == 1


async def test_rerun_by_an_operator_asks_to_confirm_then_calls_dlf_once_from_the_failed_node(rig: IncidentRig) -> None:
    card = await rig.alert()
    incident = await rig.incident()

    await rig.click(card, INCIDENT_RERUN, user=OPERATOR, choice="error_node")
    (opened,) = await rig.slack.wait_for_calls("views.open")
    (dialog,) = rig.slack.opened_views
    text = blocks_text(dialog["view"])
    assert JOB in text and str(incident.last_instance_id) in text and "`load`" in text
    assert rig.dlf_actions() == []  # nothing happens before the confirmation

    await rig.acted(lambda: rig.submit(dialog, user=OPERATOR))

    (call,) = rig.dlf_actions()
    assert call.operation == "restart_instance" and call.body == {"retry_location": "error_node"}
    assert str(incident.last_instance_id) in call.path
    (reply,) = rig.replies(card)
    assert reply.startswith(":arrows_counterclockwise: <@U0OPS> asked from the card for a rerun of instance")
    assert "from the failed node (`load`): DLF accepted it." in reply
    redrawn = rig.card()
    assert "Rerunning from the failed node, asked by <@U0OPS>" in blocks_text(redrawn)
    assert INCIDENT_RERUN not in element_ids(redrawn) and INCIDENT_STOP in element_ids(redrawn)
    assert (await rig.incident()).rerun_state == "running"
    (entry,) = await rig.audit()
    assert (entry.action, entry.outcome, entry.details["retry_location"]) == ("rerun", "ok", "error_node")


async def test_rerun_from_the_first_node_sends_first_node(rig: IncidentRig) -> None:
    card = await rig.alert()
    await rig.click(card, INCIDENT_RERUN, user=OPERATOR, choice="first_node")
    await rig.slack.wait_for_calls("views.open")
    (dialog,) = rig.slack.opened_views
    assert "every node of the job again" in blocks_text(dialog["view"])

    await rig.acted(lambda: rig.submit(dialog, user=OPERATOR))

    (call,) = rig.dlf_actions()
    assert call.body == {"retry_location": "first_node"}


async def test_a_double_submit_or_a_redelivery_calls_dlf_once(rig: IncidentRig) -> None:
    card = await rig.alert()
    await rig.click(card, INCIDENT_RERUN, user=OPERATOR, choice="error_node")
    await rig.slack.wait_for_calls("views.open")
    (dialog,) = rig.slack.opened_views

    await rig.acted(lambda: rig.submit(dialog, user=OPERATOR))
    await rig.submit(dialog, user=OPERATOR)
    await rig.until(lambda: _calls(rig, "chat.postEphemeral", 1))

    assert len(rig.dlf_actions()) == 1
    (ephemeral,) = rig.slack.calls_to("chat.postEphemeral")
    assert "A rerun is running already (asked by <@U0OPS>): nothing was sent to DLF" in ephemeral.params["text"] + str(
        ephemeral.params.get("blocks")
    )
    await rig.watcher.drain()
    assert len(rig.replies(card)) == 1


async def test_rerun_by_a_non_operator_is_refused_nothing_goes_to_dlf_and_it_is_audited(rig: IncidentRig) -> None:
    card = await rig.alert()

    answer = await rig.answer(await rig.click(card, INCIDENT_RERUN, user=BOB, choice="error_node"))

    assert "Only the bot's operators may rerun in this channel: <@U0OPS>" in answer
    assert rig.slack.opened_views == [] and rig.dlf_actions() == []
    (entry,) = await rig.audit()
    assert (entry.actor, entry.action, entry.outcome, entry.details["reason"]) == (
        BOB,
        "rerun",
        "refused",
        "operators_only",
    )


async def test_without_operators_rerun_says_how_to_enable_them(tmp_path: Path) -> None:
    async with incident_rig(f"sqlite:///{tmp_path}/bot.db", operators=()) as rig:
        card = await rig.alert()
        answer = await rig.answer(await rig.click(card, INCIDENT_STOP, user=ALICE))
    assert "none are configured for this channel" in answer and "DLF_BOT_OPERATORS" in answer
    assert rig.dlf_actions() == []


@pytest.mark.parametrize(
    "forged",
    [
        encode_incident_ref(IncidentRef(card="alert:default:C0DATA:other_job:1:failure")),
        encode_incident_ref(IncidentRef(card="alert:default:C0OTHER:job_batch:1:failure")),
        '{"job": "../../jobs", "instance": 34765}',  # not a value the bot writes at all
        "x" * 1900,
    ],
)
async def test_a_forged_button_value_is_refused_and_audited(rig: IncidentRig, forged: str) -> None:
    card = await rig.alert()

    answer = await rig.answer(await rig.click(card, INCIDENT_ACK, value=forged))

    assert "does not belong to this card's incident" in answer
    assert (await rig.incident()).state == "open"
    (entry,) = await rig.audit()
    assert (entry.action, entry.outcome, entry.details["reason"]) == ("ack", "refused", "forged")


async def test_a_button_of_one_card_pressed_on_another_incident_is_refused(rig: IncidentRig) -> None:
    card_a = await rig.alert()
    rig.sandbox.state.add_job("job_other", None, nodes=[("only", "DLISQL")])
    other = await rig.alert("job_other", "C0DATA", failed_node="only")

    answer = await rig.answer(await rig.click(card_a, INCIDENT_RESOLVE, message_ts=other["ts"]))

    assert "does not belong" in answer
    entries = await rig.audit()
    assert [(e.action, e.outcome) for e in entries] == [("resolve", "refused")]


async def test_a_button_from_another_team_is_refused(rig: IncidentRig) -> None:
    card = await rig.alert()
    answer = await rig.answer(await rig.click(card, INCIDENT_RESOLVE, team="T0OTHER"))
    assert "does not belong" in answer
    assert (await rig.incident()).state == "open"


async def test_an_unknown_incident_action_gets_a_calm_answer(rig: IncidentRig) -> None:
    card = await rig.alert()
    answer = await rig.answer(await rig.click(card, "dlf.incident.explode"))
    assert "not one the bot knows" in answer and "Nothing was done" in answer


async def test_dlf_refusing_the_rerun_is_said_escaped_and_the_slot_is_free_again(rig: IncidentRig) -> None:
    card = await rig.alert()
    await rig.click(card, INCIDENT_RERUN, user=OPERATOR, choice="error_node")
    await rig.slack.wait_for_calls("views.open")
    (dialog,) = rig.slack.opened_views
    rig.sandbox.faults.refuse("DLF.3051", "<!channel> *nope* & <b>", operation="restart_instance")

    await rig.acted(lambda: rig.submit(dialog, user=OPERATOR))

    (reply,) = rig.replies(card)
    assert "DLF refused it: &lt;!channel&gt;" in reply and "&amp;" in reply and "`DLF.3051`" in reply
    assert "<!channel>" not in reply
    assert (await rig.incident()).rerun_state is None
    assert INCIDENT_RERUN in element_ids(rig.card())
    (entry,) = await rig.audit()
    assert entry.outcome == "refused" and entry.details["dlf"]["code"] == "DLF.3051"


async def test_stop_of_the_rerun_ends_it_with_one_reply_and_a_second_stop_calls_dlf_no_more(rig: IncidentRig) -> None:
    card = await rig.alert()
    await rig.click(card, INCIDENT_RERUN, user=OPERATOR, choice="error_node")
    await rig.slack.wait_for_calls("views.open")
    await rig.acted(lambda: rig.submit(rig.slack.opened_views[0], user=OPERATOR))

    await rig.click(rig.card(), INCIDENT_STOP, user=OPERATOR)
    await rig.slack.wait_for_calls("views.open", count=2)
    stop_dialog = rig.slack.opened_views[1]
    assert "Stop the rerun of" in blocks_text(stop_dialog["view"])
    await rig.acted(lambda: rig.submit(stop_dialog, user=OPERATOR))
    await rig.submit(stop_dialog, user=OPERATOR)
    await rig.until(lambda: _calls(rig, "chat.postEphemeral", 1))

    assert [c.operation for c in rig.dlf_actions()] == ["restart_instance", "stop_instance"]
    replies = rig.replies(card)
    assert len(replies) == 2
    assert replies[1].startswith(":octagonal_sign: <@U0OPS> stopped the rerun of instance")
    assert (await rig.incident()).rerun_state is None
    redrawn = rig.card()
    assert INCIDENT_STOP not in element_ids(redrawn) and INCIDENT_RERUN in element_ids(redrawn)


async def test_stop_on_an_instance_that_is_not_running_is_refused_before_any_dialog(rig: IncidentRig) -> None:
    card = await rig.alert()
    answer = await rig.answer(await rig.click(card, INCIDENT_STOP, user=OPERATOR))
    assert "is not running (status `fail`): there is nothing to stop" in answer
    assert rig.slack.opened_views == [] and rig.dlf_actions() == []


async def test_mute_then_unmute_say_so_in_the_thread_and_on_the_card(rig: IncidentRig) -> None:
    card = await rig.alert()

    await rig.acted(lambda: rig.click(card, INCIDENT_MUTE, choice="4h"))
    muted = rig.card()
    assert "Muted in this channel until" in blocks_text(muted)
    assert INCIDENT_UNMUTE in element_ids(muted) and INCIDENT_MUTE not in element_ids(muted)

    await rig.acted(lambda: rig.click(muted, INCIDENT_UNMUTE))

    replies = rig.replies(card)
    assert replies[0].startswith(":no_bell: <@U0ALICE> muted `job_batch` in this channel from the card, until")
    assert replies[1] == ":bell: <@U0ALICE> unmuted `job_batch` from the card: no failure was held back while muted."
    assert INCIDENT_MUTE in element_ids(rig.card())
    assert [(e.action, e.outcome) for e in await rig.audit()] == [("mute", "ok"), ("unmute", "ok")]


async def test_a_second_mute_of_the_same_choice_is_told_it_is_muted_already_and_nothing_is_queued(
    rig: IncidentRig,
) -> None:
    card = await rig.alert()
    await rig.acted(lambda: rig.click(card, INCIDENT_MUTE, choice="4h"))
    rows = await rig.outbox_rows()

    again = await rig.answer(await rig.click(card, INCIDENT_MUTE, choice="4h", user=BOB))

    assert again.startswith(":no_bell: `job_batch` is already muted here until <!date^")
    assert again.split("\n")[0].endswith(", by <@U0ALICE>; nothing more was done.")
    assert await rig.outbox_rows() == rows
    await rig.watcher.drain()
    assert len(rig.replies(card)) == 1
    assert [(e.action, e.outcome) for e in await rig.audit()] == [("mute", "ok")]


async def test_a_second_unmute_with_nothing_muted_is_told_so_and_nothing_is_queued(rig: IncidentRig) -> None:
    card = await rig.alert()
    await rig.acted(lambda: rig.click(card, INCIDENT_MUTE, choice="forever"))
    muted = rig.card()
    await rig.acted(lambda: rig.click(muted, INCIDENT_UNMUTE))
    rows = await rig.outbox_rows()

    again = await rig.answer(await rig.click(muted, INCIDENT_UNMUTE, user=BOB))

    assert again.startswith(":bell: `job_batch` is not muted here (any more); nothing was changed.")
    assert await rig.outbox_rows() == rows
    await rig.watcher.drain()
    assert len(rig.replies(card)) == 2  # muted, unmuted
    assert [(e.action, e.outcome) for e in await rig.audit()] == [("mute", "ok"), ("unmute", "ok")]


async def test_on_either_database_two_mute_clicks_at_once_mute_once_with_one_reply(
    migrated_database_url: str,
) -> None:
    async with incident_rig(migrated_database_url) as rig:
        card = await rig.alert()
        first, second = await asyncio.gather(
            rig.click(card, INCIDENT_MUTE, choice="1h", user=ALICE),
            rig.click(card, INCIDENT_MUTE, choice="1h", user=BOB),
        )
        await rig.until(lambda: _audited_action(rig, "mute"))
        await rig.until(lambda: _answered(rig, first, second))
        await rig.watcher.drain()
        muted = rig.card()
        unmute_a, unmute_b = await asyncio.gather(
            rig.click(muted, INCIDENT_UNMUTE, user=ALICE), rig.click(muted, INCIDENT_UNMUTE, user=BOB)
        )
        await rig.until(lambda: _audited_action(rig, "unmute"))
        await rig.until(lambda: _answered(rig, unmute_a, unmute_b))
        await rig.watcher.drain()

        replies = rig.replies(card)
        assert len(replies) == 2, replies  # one "muted", one "unmuted"
        assert replies[0].startswith(":no_bell: <@") and " muted `job_batch` in this channel" in replies[0]
        assert replies[1].startswith(":bell: <@") and " unmuted `job_batch` from the card" in replies[1]
        (already,) = [r["text"] for rid in (first, second) for r in rig.slack.responses_for(rid)]
        assert "is already muted here until" in already
        (not_muted,) = [r["text"] for rid in (unmute_a, unmute_b) for r in rig.slack.responses_for(rid)]
        assert "is not muted here (any more)" in not_muted
        assert [(e.action, e.outcome) for e in await rig.audit()] == [("mute", "ok"), ("unmute", "ok")]


async def test_on_either_database_two_acknowledges_or_two_resolves_at_once_each_reply_once(
    migrated_database_url: str,
) -> None:
    async with incident_rig(migrated_database_url) as rig:
        card = await rig.alert()
        acks = await asyncio.gather(rig.click(card, INCIDENT_ACK, user=ALICE), rig.click(card, INCIDENT_ACK, user=BOB))
        await rig.until(lambda: _audited_action(rig, "ack"))
        await rig.until(lambda: _answered(rig, *acks))
        await rig.watcher.drain()
        acknowledged = rig.card()
        resolves = await asyncio.gather(
            rig.click(acknowledged, INCIDENT_RESOLVE, user=ALICE), rig.click(acknowledged, INCIDENT_RESOLVE, user=BOB)
        )
        await rig.until(lambda: _audited_action(rig, "resolve"))
        await rig.until(lambda: _answered(rig, *resolves))
        await rig.until(lambda: _audit_count(rig, 3))  # the ack, the resolve, the refused second resolve
        await rig.watcher.drain()

        replies = rig.replies(card)
        assert len(replies) == 2, replies  # "is on it" once, "resolved" once
        assert " is on it" in replies[0] and " resolved this incident" in replies[1]
        (already,) = [r["text"] for rid in acks for r in rig.slack.responses_for(rid)]
        assert "acknowledged this incident already" in already
        (refused,) = [r["text"] for rid in resolves for r in rig.slack.responses_for(rid)]
        assert "resolved already" in refused
        assert sorted((e.action, e.outcome) for e in await rig.audit()) == [
            ("ack", "ok"),
            ("resolve", "ok"),
            ("resolve", "refused"),
        ]


async def _audit_count(rig: IncidentRig, count: int) -> bool:
    return await rig.audit_rows() >= count


async def _answered(rig: IncidentRig, *response_ids: str, count: int = 1) -> bool:
    return sum(len(rig.slack.responses_for(rid)) for rid in response_ids) >= count


async def test_resolve_closes_it_with_only_refresh_left_and_resolving_again_is_refused(rig: IncidentRig) -> None:
    card = await rig.alert()

    await rig.acted(lambda: rig.click(card, INCIDENT_RESOLVE))

    assert rig.replies(card) == [":white_check_mark: <@U0ALICE> resolved this incident from the card."]
    redrawn = rig.card()
    assert element_ids(redrawn) == [INCIDENT_REFRESH]
    assert "Resolved by hand by <@U0ALICE> (from the card)." in blocks_text(redrawn)
    assert "resolved by hand after" in blocks_text(redrawn) and "recovered" not in blocks_text(redrawn)

    answer = await rig.answer(await rig.click(card, INCIDENT_RESOLVE, user=BOB))
    assert "resolved already (by <@U0ALICE>)" in answer
    assert [(e.action, e.outcome) for e in await rig.audit()] == [("resolve", "ok"), ("resolve", "refused")]


async def test_refresh_redraws_the_card_without_a_reply(rig: IncidentRig) -> None:
    card = await rig.alert()
    await rig.acted(lambda: rig.click(card, INCIDENT_REFRESH), audited=False)
    assert rig.replies(card) == []
    assert INCIDENT_ACK in element_ids(rig.card())
    assert await rig.audit() == []


async def _calls(rig: IncidentRig, method: str, count: int) -> bool:
    return len([c for c in rig.slack.calls_to(method) if c.outcome == "ok"]) >= count


async def test_the_app_home_acknowledges_an_incident_of_the_users_channels_and_shows_it_again(
    rig: IncidentRig,
) -> None:
    card = await rig.alert()
    await rig.bot.event({"type": "app_home_opened", "user": ALICE, "tab": "home", "channel": "D0ALICE"})
    await rig.slack.wait_for_calls("views.publish")
    home = rig.slack.views[ALICE]
    assert [INCIDENT_ACK, INCIDENT_RESOLVE, INCIDENT_REFRESH] == [
        i for i in element_ids(home) if i.startswith("dlf.incident.")
    ]

    await rig.acted(lambda: rig.click(home, INCIDENT_ACK, user=ALICE, home=True))
    await rig.slack.wait_for_calls("views.publish", count=2)

    assert rig.replies(card) == [":eyes: <@U0ALICE> is on it (acknowledged from the App Home)."]
    assert "*acknowledged* by <@U0ALICE>" in blocks_text(rig.slack.views[ALICE])
    assert INCIDENT_ACK not in element_ids(rig.slack.views[ALICE])


async def test_a_home_click_on_an_incident_outside_the_users_channels_is_refused_and_audited(
    rig: IncidentRig,
) -> None:
    card = await rig.alert()
    value = encode_incident_ref(IncidentRef(card=(await rig.incident()).root_key))

    await rig.click(card, INCIDENT_RESOLVE, user=BOB, value=value, home=True)
    await rig.until(lambda: _audited(rig))

    assert (await rig.incident()).state == "open"
    (entry,) = await rig.audit()
    assert (entry.actor, entry.action, entry.outcome, entry.details["reason"]) == (BOB, "resolve", "refused", "forged")


async def test_a_redelivered_click_is_handled_once(rig: IncidentRig) -> None:
    card = await rig.alert()
    payload = {
        "type": "block_actions",
        "user": {"id": ALICE, "team_id": "T0FAKE"},
        "team": {"id": "T0FAKE"},
        "api_app_id": "A0DLFBOT",
        "trigger_id": "trigger.same",
        "container": {"type": "message", "message_ts": card["ts"], "channel_id": "C0DATA"},
        "channel": {"id": "C0DATA"},
        "response_url": rig.slack.response_url("again"),
        "actions": [{"action_id": INCIDENT_RESOLVE, "type": "button", "value": card_value(card, INCIDENT_RESOLVE)}],
    }
    headers = rig.bot.signed_headers(urlencode({"payload": json.dumps(payload)}))
    await rig.acted(lambda: rig.post_payload(payload, headers=headers))
    await rig.post_payload(payload, headers=headers)  # the same signed request again: a replay
    # The replay's own verdict: the ledger found its key taken and the bot counted it as a redelivery (the listener
    # returns right after, doing nothing) — no guess at how long a second handling would take to show.
    await rig.until(lambda: _redeliveries(rig, "click", 1))

    await rig.watcher.drain()
    assert len(rig.replies(card)) == 1
    assert [(e.action, e.outcome) for e in await rig.audit()] == [("resolve", "ok")]


async def _redeliveries(rig: IncidentRig, kind: str, count: int) -> bool:
    """Whether the bot has dropped `count` requests of `kind` as already handled (its metrics registry)."""
    seen = rig.bot.registry.get_sample_value("dlf_bot_redeliveries_total", {"kind": kind}) or 0.0
    assert seen <= count, f"{seen} redeliveries of {kind} dropped, expected {count}"
    return seen == count


async def _audited(rig: IncidentRig) -> bool:
    return await rig.audit_rows() > 0


async def test_on_either_database_a_double_submit_calls_dlf_once_and_acknowledge_redraws(
    migrated_database_url: str,
) -> None:
    async with incident_rig(migrated_database_url) as rig:
        card = await rig.alert()
        await rig.acted(lambda: rig.click(card, INCIDENT_ACK, user=ALICE))
        await rig.click(rig.card(), INCIDENT_RERUN, user=OPERATOR, choice="error_node")
        await rig.slack.wait_for_calls("views.open")
        (dialog,) = rig.slack.opened_views
        await asyncio.gather(rig.submit(dialog, user=OPERATOR), rig.submit(dialog, user=OPERATOR))
        await rig.until(lambda: _audited_action(rig, "rerun"))
        await rig.until(lambda: _calls(rig, "chat.postEphemeral", 1))
        await rig.watcher.drain()

        assert len(rig.dlf_actions()) == 1
        assert len(rig.replies(card)) == 2  # "is on it", then the one rerun
        assert "Acknowledged by <@U0ALICE>" in blocks_text(rig.card())


async def _audited_action(rig: IncidentRig, action: str) -> bool:
    return any(e.action == action for e in await rig.audit())


async def test_a_rerun_whose_answer_is_lost_is_marked_unknown_and_not_sent_again(rig: IncidentRig) -> None:
    card = await rig.alert()
    await rig.click(card, INCIDENT_RERUN, user=OPERATOR, choice="error_node")
    await rig.slack.wait_for_calls("views.open")
    (dialog,) = rig.slack.opened_views
    rig.sandbox.faults.server_error(operation="restart_instance")  # DLF took the request; its answer is a 503

    await rig.acted(lambda: rig.submit(dialog, user=OPERATOR))

    assert len(rig.dlf_actions()) == 1  # a rerun is never sent twice
    (reply,) = rig.replies(card)
    assert "DLF's answer was lost" in reply and "it does not ask DLF again" in reply
    assert (await rig.incident()).rerun_state == "unknown"  # the poll cycle finds out from the instance
    assert "DLF's answer was lost, the bot is checking the instance" in blocks_text(rig.card())
    (entry,) = await rig.audit()
    assert entry.outcome == "unknown"


async def test_a_stop_that_never_reached_dlf_can_be_tried_again_by_a_later_click(rig: IncidentRig) -> None:
    card = await rig.alert()
    await rig.acted(lambda: rig.mention("rerun", thread_ts=card["ts"], user=OPERATOR))
    rig.sandbox.faults.throttle(5, retry_after=0.01, operation="stop_instance")  # DLF never takes it

    await rig.acted(lambda: rig.mention("stop", thread_ts=card["ts"], user=OPERATOR))
    assert (
        "DLF could not be asked" in rig.replies(card)[1] and "Nothing was stopped; try again." in rig.replies(card)[1]
    )
    rig.sandbox.faults.clear()
    await rig.acted(lambda: rig.mention("stop", thread_ts=card["ts"], user=OPERATOR))

    assert rig.replies(card)[2].startswith(":octagonal_sign: <@U0OPS> stopped the rerun of instance")
    assert (await rig.incident()).rerun_state is None
    assert [(e.action, e.outcome) for e in await rig.audit()] == [("rerun", "ok"), ("stop", "failed"), ("stop", "ok")]


async def test_a_repeat_failure_after_acknowledge_keeps_the_card_acknowledged_with_its_buttons(
    rig: IncidentRig,
) -> None:
    card = await rig.alert()
    await rig.acted(lambda: rig.click(card, INCIDENT_ACK, user=ALICE))

    await rig.alert()  # the job fails again: a reply and a redraw by the poll cycle

    redrawn = rig.card()
    assert "failed 2 times" in blocks_text(redrawn) and "Acknowledged by <@U0ALICE>" in blocks_text(redrawn)
    assert element_ids(redrawn) == [INCIDENT_RERUN, INCIDENT_MUTE, INCIDENT_RESOLVE, INCIDENT_REFRESH]
