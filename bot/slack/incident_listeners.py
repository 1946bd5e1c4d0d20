"""The Bolt listeners of incident actions: a card's buttons and menus, the Rerun / Stop dialogs, the thread verbs.

Thin: each reads who, where and which incident from Slack's (signed) payload, calls `IncidentService`, and shows
what `bot.render.incident_answers` made of the result — privately to the person who acted. What everyone sees (the
thread reply, the redrawn card) the service queued in the outbox. A click on the App Home (container "view") has no
channel: the service checks the incident against the user's subscriptions and the Home is shown again.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.commands import MuteCommand, ThreadVerb, UnmuteCommand
from bot.render import actions as ids
from bot.render.incident_answers import (
    parse_confirmation_metadata,
    render_already,
    render_confirmation,
    render_done,
    render_refused,
    render_thread_usage,
    render_unknown_action,
)
from bot.render.incident_nodes import render_logs, render_nodes
from bot.render.message import Message
from bot.services.incidents import (
    ActionResult,
    AlreadyHandled,
    Confirmation,
    Done,
    IncidentService,
    Origin,
    Refused,
    Target,
)
from bot.slack.ingress import REPLAY_KEY
from bot.slack.metrics import SlackMetrics
from bot.slack.once import FirstDelivery
from bot.slack.replies import Replier

log = logging.getLogger(__name__)

# The audit's name of each incident action id.
_ACTION_NAMES = {
    ids.INCIDENT_ACK: "ack",
    ids.INCIDENT_RERUN: "rerun",
    ids.INCIDENT_STOP: "stop",
    ids.INCIDENT_MUTE: "mute",
    ids.INCIDENT_UNMUTE: "unmute",
    ids.INCIDENT_RESOLVE: "resolve",
    ids.INCIDENT_REFRESH: "refresh",
}


def answer(result: ActionResult | Confirmation) -> Message | None:
    """What the person who acted is told; None when the thread says it all (a done action from a card)."""
    if isinstance(result, Refused):
        return render_refused(result)
    if isinstance(result, AlreadyHandled):
        return render_already(result)
    return None


class IncidentListeners:
    """The incident listeners, bound to the service. `first_delivery` drops a replayed request; `home` re-publishes
    the App Home after a click there (a callable taking the client and the user)."""

    def __init__(
        self,
        *,
        service: IncidentService,
        first_delivery: FirstDelivery,
        replies: Replier,
        home: Any = None,
        metrics: SlackMetrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._service = service
        self._first_delivery = first_delivery
        self._replies = replies
        self._home = home

    # ------------------------------------------------------------------ buttons and menus
    async def on_incident_button(
        self,
        ack: AsyncAck,
        body: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """Acknowledge, Resolve, Refresh, Unmute, the Mute menu, and Rerun / Stop (which open their dialog)."""
        await ack()
        if not await self._first_delivery(context.get(REPLAY_KEY), kind="click"):
            return
        action = (body.get("actions") or [{}])[0]
        action_id = str(action.get("action_id") or "")
        origin = _origin(body)
        ref = _ref(action)
        if ref is None:
            refused = await self._service.refuse_malformed(
                _ACTION_NAMES.get(action_id, "unknown"), origin, _raw(action)
            )
            await self._tell(respond, client, origin, render_refused(refused))
            return
        target = Target(card=ref)
        result: ActionResult | Confirmation
        if action_id == ids.INCIDENT_ACK:
            result = await self._service.acknowledge(target, origin)
        elif action_id == ids.INCIDENT_RESOLVE:
            result = await self._service.resolve(target, origin)
        elif action_id == ids.INCIDENT_REFRESH:
            result = await self._service.refresh(target, origin)
        elif action_id == ids.INCIDENT_UNMUTE:
            result = await self._service.unmute(target, origin)
        elif action_id == ids.INCIDENT_MUTE and ref.choice in ids.MUTE_CHOICES:
            result = await self._service.mute(target, origin, duration_s=ids.MUTE_CHOICES[ref.choice])
        elif action_id == ids.INCIDENT_RERUN and ref.choice in ids.RETRY_LOCATIONS:
            result = await self._service.prepare("rerun", target, origin, retry_location=ref.choice)
        elif action_id == ids.INCIDENT_STOP:
            result = await self._service.prepare("stop", target, origin)
        else:
            await self._tell(respond, client, origin, render_unknown_action())
            return
        self._count(f"incident_{_ACTION_NAMES.get(action_id, 'unknown')}", result)
        if isinstance(result, Confirmation):
            callback = ids.INCIDENT_RERUN_CONFIRM if result.action == "rerun" else ids.INCIDENT_STOP_CONFIRM
            await client.views_open(
                trigger_id=str(body.get("trigger_id") or ""), view=render_confirmation(result, callback_id=callback)
            )
            return
        message = answer(result)
        if message is not None:
            await self._tell(respond, client, origin, message)
        if origin.channel is None and self._home is not None:
            await self._home(client, origin.user)

    async def on_unknown_incident_action(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        """An action id of ours the bot does not know (another version's card): a calm answer, nothing done."""
        await ack()
        await self._tell(respond, client, _origin(body), render_unknown_action())

    # ------------------------------------------------------------------ dialogs
    async def on_incident_confirm(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """The Rerun / Stop dialog submitted: the action itself (the dialog closes at once; the thread tells)."""
        await ack()
        if not await self._first_delivery(context.get(REPLAY_KEY), kind="click"):
            return
        view = body.get("view") or {}
        try:
            meta = parse_confirmation_metadata(str(view.get("private_metadata") or ""))
        except ValueError:
            return
        user = str((body.get("user") or {}).get("id") or "")
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
        origin = Origin(user=user, channel=meta["channel"], team=team, message_ts=meta["ts"], via="dialog")
        target = Target(card=ids.IncidentRef(card=meta["card"], choice=meta.get("choice")))
        if view.get("callback_id") == ids.INCIDENT_RERUN_CONFIRM:
            location = meta.get("choice") if meta.get("choice") in ids.RETRY_LOCATIONS else "error_node"
            result = await self._service.rerun(target, origin, retry_location=str(location))
        else:
            result = await self._service.stop(target, origin)
        self._count(f"incident_{result.action or 'unknown'}_confirmed", result)
        message = answer(result)
        if message is not None:
            await _ephemeral(client, origin, message)

    # ------------------------------------------------------------------ thread verbs and slash commands
    async def thread_verb(self, verb: ThreadVerb, event: dict[str, Any]) -> Message | None:
        """A verb said in a thread: what to answer there (None: the thread reply the service queued says it)."""
        channel = str(event.get("channel") or "")
        thread_ts = event.get("thread_ts")
        if verb.verb == "help" or not thread_ts or event.get("channel_type") == "im" or channel.startswith("D"):
            return render_thread_usage()
        origin = Origin(
            user=str(event.get("user") or ""),
            channel=channel,
            team=event.get("team"),
            message_ts=str(thread_ts),
            via="mention",
        )
        target = Target()
        if verb.verb in ("nodes", "logs"):
            shown = await self._service.show(target, origin)
            if isinstance(shown, Refused):
                return render_refused(shown)
            if shown.instance is None:
                return render_refused(
                    Refused(action="refresh", reason="dlf_failed", job=shown.incident.job_name, dlf_message=shown.error)
                )
            return render_nodes(shown.instance, page=verb.page) if verb.verb == "nodes" else render_logs(shown.instance)
        result: ActionResult | Confirmation
        if verb.verb == "ack":
            result = await self._service.acknowledge(target, origin)
        elif verb.verb == "resolve":
            result = await self._service.resolve(target, origin)
        elif verb.verb == "refresh":
            result = await self._service.refresh(target, origin)
        elif verb.verb == "rerun":
            result = await self._service.rerun(target, origin, retry_location=verb.retry_location or "error_node")
        else:
            result = await self._service.stop(target, origin)
        if isinstance(result, Refused) and result.told_thread:
            return None  # DLF's refusal is the thread reply already: said once
        return answer(result)

    async def slash_mute(
        self, command: MuteCommand | UnmuteCommand, *, channel_id: str, user_id: str, team_id: str | None
    ) -> Message:
        """`/dlf mute <job> 4h`, `/dlf unmute <job>`: the answer for the one who typed it."""
        origin = Origin(user=user_id, channel=channel_id, team=team_id, via="slash")
        if isinstance(command, MuteCommand):
            result = await self._service.mute_job(command.target, origin, duration_s=command.duration_s)
        else:
            result = await self._service.mute_job(command.target, origin, duration_s=None, unmute=True)
        if isinstance(result, Done):
            return render_done(result)
        return answer(result) or render_unknown_action()

    def _count(self, action: str, result: ActionResult | Confirmation) -> None:
        if self._metrics is None:
            return
        outcome = {Done: "ok", Confirmation: "confirm", AlreadyHandled: "already"}.get(type(result))
        if outcome is None:
            outcome = "forged" if isinstance(result, Refused) and result.reason == "forged" else "refused"
        self._metrics.actions.labels(action=action, outcome=outcome).inc()

    async def _tell(self, respond: AsyncRespond, client: AsyncWebClient, origin: Origin, message: Message) -> None:
        if origin.channel is None:
            return  # the App Home has no message to answer under; it is shown again
        await self._replies.send(respond, message, response_type="ephemeral", replace_original=False)


def _origin(body: dict[str, Any]) -> Origin:
    """Who clicked, where: Slack's fields of the signed payload, never the button's value."""
    container = body.get("container") or {}
    user = body.get("user") or {}
    team = (body.get("team") or {}).get("id") or user.get("team_id")
    if container.get("type") == "view":
        return Origin(user=str(user.get("id") or ""), channel=None, team=team, via="home")
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    ts = container.get("message_ts")
    return Origin(
        user=str(user.get("id") or ""),
        channel=str(channel) if channel else "",
        team=team,
        message_ts=str(ts) if ts else None,
        via="button",
    )


def _raw(action: dict[str, Any]) -> str:
    selected = action.get("selected_option")
    return str((selected.get("value") if isinstance(selected, dict) else action.get("value")) or "")


def _ref(action: dict[str, Any]) -> ids.IncidentRef | None:
    """The incident a button or a menu choice names (its value's shape only), None when it is not one of ours."""
    selected = action.get("selected_option")
    value = selected.get("value") if isinstance(selected, dict) else action.get("value")
    try:
        return ids.decode_incident_ref(str(value or ""))
    except ValueError:
        return None


async def _ephemeral(client: AsyncWebClient, origin: Origin, message: Message) -> None:
    """A private answer beside the card (a dialog's submission has no response_url)."""
    try:
        await client.chat_postEphemeral(
            channel=origin.channel or "",
            user=origin.user,
            text=message.text,
            blocks=message.blocks,
            thread_ts=origin.message_ts,
        )
    except Exception as error:  # noqa: BLE001 — an answer lost is one log line; the audit has the refusal
        log.warning("the answer to an incident dialog for %s was lost: %s", origin.user, type(error).__name__)


__all__ = ["IncidentListeners", "answer"]
