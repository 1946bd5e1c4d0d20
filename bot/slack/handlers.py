"""The Bolt listeners: acknowledge at once, parse, call a service, answer with what a renderer made.

No blocks are built here and no SQL runs here: services return results, `bot.slack.answers` renders them,
`bot.slack.replies` sends them, `bot.slack.once` keeps a redelivered request from being handled twice. Every listener
is a uniquely named method (Bolt's logs name listeners by function); `bot.slack.app` registers them from one table.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any, Protocol

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.commands import (
    AuditCommand,
    Command,
    HelpCommand,
    InstanceCommand,
    InstancesCommand,
    MuteCommand,
    UnmuteCommand,
    UnwatchCommand,
    WatchCommand,
    WatchesCommand,
    command_text_of_mention,
    is_handle,
    parse_command,
    parse_instance_id,
    parse_thread_verb,
    profile_name,
    validate_job_name,
)
from bot.commands.model import INSTANCE_STATUS_FILTERS
from bot.commands.names import INT64_MAX
from bot.commands.parse import INSTANCES_SINCE_BOUNDS
from bot.errors import CommandError
from bot.render.actions import InstanceRef, ListPageRef, decode_instance_ref, decode_list_page
from bot.render.errors import render_command_error, render_crash
from bot.render.help import render_help
from bot.render.home import render_home
from bot.render.message import Message
from bot.services.audit import AuditQuery, AuditService
from bot.services.home import HomeService
from bot.services.incidents import IncidentService
from bot.services.instance_list import InstanceListQuery, InstanceListService, InstancesListed
from bot.services.instances import InstanceService, InstanceShown
from bot.services.mentions import MentionResolver, Unresolved
from bot.services.subscriptions import SubscriptionOutcome
from bot.slack.answers import audit_message, instance_list_message, instance_message, subscription_message
from bot.slack.incident_listeners import IncidentListeners
from bot.slack.ingress import REPLAY_KEY, is_verified
from bot.slack.metrics import SlackMetrics
from bot.slack.once import REQUEST_KEY_WAIT_S, FirstDelivery, RequestLedger, event_key, retry_num
from bot.slack.replies import (
    RESPOND_RETRY_DELAY_S,
    Fallback,
    Replier,
    Thread,
    answer_in_thread,
    delete_original,
    ephemeral,
)

log = logging.getLogger(__name__)

_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


class SubscriptionCommands(Protocol):
    """What the listeners need of `bot.services.subscriptions` (the watcher's side)."""

    async def handle(
        self,
        command: WatchCommand | UnwatchCommand | WatchesCommand,
        *,
        channel_id: str,
        user_id: str,
        team_id: str | None,
    ) -> SubscriptionOutcome: ...

    async def unwatch_own(self, subscription_id: int, *, user_id: str) -> bool: ...


class Listeners:
    """The bot's Slack listeners, bound to the services they call.

    With a `ledger`, each request is handled once even when it arrives twice: an Events API event by its
    `event_id` (Slack redelivers an event it thinks was not acknowledged, to any replica), any other HTTP request by
    its signature (the same signed body sent again, i.e. a replay). A double click is two requests, handled twice."""

    def __init__(
        self,
        *,
        instances: InstanceService,
        mentions: MentionResolver,
        subscriptions: SubscriptionCommands | None = None,
        instance_lists: InstanceListService | None = None,
        audit: AuditService | None = None,
        home: HomeService | None = None,
        metrics: SlackMetrics | None = None,
        ledger: RequestLedger | None = None,
        incidents: IncidentService | None = None,
        respond_retry_delay_s: float = RESPOND_RETRY_DELAY_S,
        request_key_wait_s: float = REQUEST_KEY_WAIT_S,
    ) -> None:
        self._instances = instances
        self._mentions = mentions
        self._subscriptions = subscriptions
        self._instance_lists = instance_lists
        self._audit = audit
        self._home = home
        self._metrics = metrics
        self._replies = Replier(metrics=metrics, retry_delay_s=respond_retry_delay_s)
        self._first_delivery = FirstDelivery(ledger=ledger, metrics=metrics, wait_s=request_key_wait_s)
        # The incident actions (a card's buttons, its dialogs, the thread verbs, `/dlf mute`): None without a store.
        self.incidents = (
            IncidentListeners(
                service=incidents,
                first_delivery=self._first_delivery,
                replies=self._replies,
                home=self._publish_home,
                metrics=metrics,
            )
            if incidents is not None
            else None
        )

    # ------------------------------------------------------------------ /dlf
    async def on_dlf_command(
        self,
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
        context: AsyncBoltContext,
    ) -> None:
        """`/dlf ...`: instant answers (help, bad input) in the ack; everything that calls DLF after it."""
        try:
            parsed = parse_command(str(command.get("text") or ""))
        except CommandError as err:
            self._count_command("invalid", "usage")
            await ack(**ephemeral(render_command_error(err)))
            return
        if isinstance(parsed, HelpCommand):
            self._count_command("help", "ok")
            await ack(**ephemeral(render_help(parsed.topic)))
            return
        await ack()
        if not await self._first_delivery(context.get(REPLAY_KEY), kind="command"):
            return
        async with self._crash_guard(command, respond):
            message, ok = await self._answer(
                parsed,
                channel_id=command.get("channel_id", ""),
                user_id=command.get("user_id", ""),
                team_id=command.get("team_id"),
            )
            self._count_command(_subcommand(parsed), "ok" if ok else "error")
            fallback = Fallback(
                client=client,
                channel=command.get("channel_id", ""),
                user=command.get("user_id", ""),
                what=f"{command.get('command') or '/dlf'} {_subcommand(parsed)}",
            )
            await self._replies.send(respond, message, response_type="ephemeral", fallback=fallback)

    # ------------------------------------------------------------------ buttons
    async def on_instance_refresh(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        """Refresh: fetch the instance again and replace the private card; a failure is said beside it."""
        await ack()
        if not await self._first_delivery(context.get(REPLAY_KEY), kind="click"):
            return
        async with self._crash_guard(body, respond):
            await self._refresh(body, respond)

    async def _refresh(self, body: dict[str, Any], respond: AsyncRespond) -> None:
        ref = _instance_ref(body)
        if ref is None:
            self._count_action("refresh", "bad_value")
            await self._replies.send(
                respond, _line(messages.bad_button()), response_type="ephemeral", replace_original=False
            )
            return
        outcome = await self._instances.show(job=ref.job, instance_id=ref.instance_id, profile=ref.profile)
        ok = isinstance(outcome, InstanceShown)
        self._count_action("refresh", "ok" if ok else "error")
        # Only the clicker's own private card is replaced. A message in the channel (a shared card, or an alert
        # whose incident state the watcher keeps up to date) is never overwritten: the clicker gets the fresh card
        # privately, and can share it.
        private_card = bool((body.get("container") or {}).get("is_ephemeral"))
        if ok and private_card:
            await self._replies.send(respond, instance_message(outcome), replace_original=True)
        else:
            await self._replies.send(
                respond, instance_message(outcome), response_type="ephemeral", replace_original=False
            )

    async def on_instance_share(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        """Share: post a fresh card in the channel for everyone, then remove the private one."""
        await ack()
        if not await self._first_delivery(context.get(REPLAY_KEY), kind="click"):
            return
        async with self._crash_guard(body, respond):
            await self._share(body, respond)

    async def _share(self, body: dict[str, Any], respond: AsyncRespond) -> None:
        ref = _instance_ref(body)
        if ref is None:
            self._count_action("share", "bad_value")
            await self._replies.send(
                respond, _line(messages.bad_button()), response_type="ephemeral", replace_original=False
            )
            return
        user_id = str((body.get("user") or {}).get("id") or "")
        shared_by = f"<@{user_id}>" if _SLACK_USER_ID.fullmatch(user_id) else None
        outcome = await self._instances.show(job=ref.job, instance_id=ref.instance_id, profile=ref.profile)
        ok = isinstance(outcome, InstanceShown)
        self._count_action("share", "ok" if ok else "error")
        card = instance_message(outcome, shareable=False, shared_by=shared_by)
        if not ok:
            await self._replies.send(respond, card, response_type="ephemeral", replace_original=False)
            return
        if await self._replies.send(respond, card, response_type="in_channel", replace_original=False):
            await delete_original(respond)

    async def on_instances_open(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        """Open, beside a row of `/dlf instances`: that instance's card, privately, below the list."""
        await ack()
        if not await self._first_delivery(context.get(REPLAY_KEY), kind="click"):
            return
        async with self._crash_guard(body, respond):
            ref = _checked_instance_ref(body)
            if ref is None:
                self._count_action("instances_open", "bad_value")
                await self._replies.send(
                    respond, _line(messages.bad_button()), response_type="ephemeral", replace_original=False
                )
                return
            outcome = await self._instances.show(job=ref.job, instance_id=ref.instance_id, profile=ref.profile)
            self._count_action("instances_open", "ok" if isinstance(outcome, InstanceShown) else "error")
            await self._replies.send(
                respond, instance_message(outcome), response_type="ephemeral", replace_original=False
            )

    async def on_instances_page(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        """Newer / Older under `/dlf instances`: the list's other page, in place of the page shown."""
        await ack()
        if not await self._first_delivery(context.get(REPLAY_KEY), kind="click"):
            return
        async with self._crash_guard(body, respond):
            query = _checked_list_query(body)
            if query is None or self._instance_lists is None:
                self._count_action("instances_page", "bad_value")
                await self._replies.send(
                    respond, _line(messages.bad_button()), response_type="ephemeral", replace_original=False
                )
                return
            outcome = await self._instance_lists.list(query)
            ok = isinstance(outcome, InstancesListed)
            self._count_action("instances_page", "ok" if ok else "error")
            private = bool((body.get("container") or {}).get("is_ephemeral"))
            if ok and private:
                await self._replies.send(respond, instance_list_message(outcome), replace_original=True)
            else:
                await self._replies.send(
                    respond, instance_list_message(outcome), response_type="ephemeral", replace_original=False
                )

    async def on_audit_page(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        """Older under `/dlf audit`: the next page, for an operator of the channel the click came from."""
        await ack()
        if not await self._first_delivery(context.get(REPLAY_KEY), kind="click"):
            return
        async with self._crash_guard(body, respond):
            query = _checked_audit_query(body)
            if query is None or self._audit is None:
                self._count_action("audit_page", "bad_value")
                await self._replies.send(
                    respond, _line(messages.bad_button()), response_type="ephemeral", replace_original=False
                )
                return
            # The channel and the user are Slack's (the signed payload's), never the button value's.
            channel = str((body.get("channel") or {}).get("id") or "")
            user = str((body.get("user") or {}).get("id") or "")
            outcome = await self._audit.show(query, user=user, channel=channel)
            self._count_action("audit_page", "ok")
            private = bool((body.get("container") or {}).get("is_ephemeral"))
            await self._replies.send(
                respond, audit_message(outcome), response_type="ephemeral", replace_original=private
            )

    # ------------------------------------------------------------------ events
    async def on_app_mention(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, request: AsyncBoltRequest
    ) -> None:
        """`@dlf-bot instance job_batch 34765` in a channel or thread: the answer goes in the thread (privately to
        its author when the thread refuses it)."""
        if not await self._first_delivery(event_key(body), kind="event", retry=retry_num(request)):
            return
        try:
            message = await self._mention_answer(event, bot_user_id=_bot_user_id(body))
        except Exception as error:  # noqa: BLE001 — the crash hook: logged with its traceback, a calm line in Slack
            message = render_crash(self._log_crash(error, event))
        if message is not None:  # None: an incident action, whose thread reply the outbox sends
            await answer_in_thread(_thread_of(event, client), message)

    async def _mention_answer(self, event: dict[str, Any], *, bot_user_id: str | None) -> Message | None:
        # The bot's mention anywhere in the message: `hey @dlf instance job_batch 34765` is a command too.
        text = command_text_of_mention(event.get("text") or "", bot_user_id)
        try:
            verb = parse_thread_verb(text)
        except CommandError as err:
            self._count_command("invalid", "usage")
            return render_command_error(err)
        if verb is not None and (verb.verb != "help" or event.get("thread_ts")):
            self._count_command(f"thread_{verb.verb}", "ok")
            if self.incidents is None:
                return _line(messages.not_available("incident actions"))
            return await self.incidents.thread_verb(verb, event)
        try:
            parsed = parse_command(text)
        except CommandError as err:
            self._count_command("invalid", "usage")
            return render_command_error(err)
        if isinstance(parsed, HelpCommand):
            message, ok = render_help(parsed.topic), True
        else:
            message, ok = await self._answer(
                parsed,
                channel_id=event.get("channel", ""),
                user_id=event.get("user", ""),
                team_id=event.get("team"),
                in_channel=True,
            )
        self._count_command(_subcommand(parsed), "ok" if ok else "error")
        return message

    async def on_app_home_opened(
        self, event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient, request: AsyncBoltRequest
    ) -> None:
        """The App Home tab: the open incidents of the user's channels, their subscriptions, what the bot can do."""
        if event.get("tab") != "home" or not event.get("user"):
            return
        if not await self._first_delivery(event_key(body), kind="event", retry=retry_num(request)):
            return
        await self._publish_home(client, str(event["user"]))

    async def on_home_refresh(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """Refresh on the Home tab: read it again for the user who clicked (Slack's, not the button's, user)."""
        await ack()
        if not await self._first_delivery(context.get(REPLAY_KEY), kind="click"):
            return
        user = str((body.get("user") or {}).get("id") or "")
        if _SLACK_USER_ID.fullmatch(user):
            self._count_action("home_refresh", "ok")
            await self._publish_home(client, user)

    async def on_home_unwatch(
        self, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
    ) -> None:
        """Unwatch on the Home tab: remove one of the clicking user's own subscriptions, then show the Home again."""
        await ack()
        if not await self._first_delivery(context.get(REPLAY_KEY), kind="click"):
            return
        user = str((body.get("user") or {}).get("id") or "")
        value = _button_value(body)
        if not _SLACK_USER_ID.fullmatch(user) or self._subscriptions is None:
            return
        if not re.fullmatch(r"[1-9][0-9]{0,17}", value):
            self._count_action("home_unwatch", "bad_value")
        else:
            removed = await self._subscriptions.unwatch_own(int(value), user_id=user)
            self._count_action("home_unwatch", "ok" if removed else "refused")
        await self._publish_home(client, user)

    async def on_home_open(self, ack: AsyncAck) -> None:
        """Open channel on the Home tab is a link Slack opens itself; its click is reported and only acknowledged."""
        await ack()

    async def _publish_home(self, client: AsyncWebClient, user: str) -> None:
        view = await self._home.view(user) if self._home is not None else None
        await client.views_publish(user_id=user, view=render_home(view))

    # ------------------------------------------------------------------ errors
    async def on_unhandled_error(
        self,
        error: Exception,
        body: dict[str, Any],
        request: AsyncBoltRequest,
        respond: AsyncRespond | None = None,
        client: AsyncWebClient | None = None,
    ) -> BoltResponse | None:
        """Bolt's error hook. An exception no listener expected: traceback to the log with a reference, one calm
        line to the user. A request that was not verified is answered nowhere and nothing of it is logged."""
        if not is_verified(request.context):
            # Only reachable by bypassing `bot.slack.ingress` (whose refusals never get here): its response_url,
            # channel and text are the sender's choice.
            log.error(messages.log_unverified_crash(type(error).__name__))
            return BoltResponse(status=401, body="")
        if isinstance(error, BoltUnhandledRequestError):
            log.warning(messages.log_unhandled_request(str(body.get("type") or body.get("command") or "unknown")))
            return None
        event = body.get("event")
        if isinstance(event, dict) and client is not None and event.get("channel"):
            # An event has no response_url to answer at: the calm line goes in the event's thread.
            await answer_in_thread(_thread_of(event, client), render_crash(self._log_crash(error, body)))
            return None
        await self._answer_crash(error, body, respond)
        return None

    async def _answer_crash(self, error: Exception, body: dict[str, Any], respond: AsyncRespond | None) -> None:
        reference = self._log_crash(error, body)
        if respond is not None and body.get("response_url"):
            await self._replies.send(
                respond, render_crash(reference), response_type="ephemeral", replace_original=False
            )

    def _log_crash(self, error: Exception, body: dict[str, Any]) -> str:
        reference = uuid.uuid4().hex[:12]
        if self._metrics is not None:
            self._metrics.crashes.inc()
        log.error(
            messages.log_crash(reference),
            exc_info=(type(error), error, error.__traceback__),
            extra={"reference": reference, "request_type": body.get("type") or body.get("command")},
        )
        return reference

    @contextlib.asynccontextmanager
    async def _crash_guard(self, body: dict[str, Any], respond: AsyncRespond) -> AsyncIterator[None]:
        # Once acked, a crash is answered here rather than by Bolt: Bolt's runner resets the ack it has seen when a
        # listener raises right after acking, and Slack would then get a 404 instead of the acknowledgement.
        try:
            yield
        except Exception as error:  # noqa: BLE001 — the crash hook: logged with its traceback, a calm line in Slack
            await self._answer_crash(error, body, respond)

    # ------------------------------------------------------------------ helpers
    async def _answer(
        self, parsed: Command, *, channel_id: str, user_id: str, team_id: str | None, in_channel: bool = False
    ) -> tuple[Message, bool]:
        if isinstance(parsed, InstanceCommand):
            shown = await self._instances.show(job=parsed.job, instance_id=parsed.instance_id, profile=parsed.profile)
            return instance_message(shown, shareable=not in_channel), isinstance(shown, InstanceShown)
        if isinstance(parsed, InstancesCommand):
            if self._instance_lists is None:
                return _line(messages.not_available("instances")), False
            listed = await self._instance_lists.list(self._instance_lists.query(parsed))
            return instance_list_message(listed), isinstance(listed, InstancesListed)
        if isinstance(parsed, AuditCommand):
            if self._audit is None:
                return _line(messages.not_available("audit")), False
            if in_channel:
                # A mention's answer is posted where everyone sees it; the audit is for operators' eyes.
                return _line(messages.audit_only_privately()), False
            audited = await self._audit.show(self._audit.query(parsed), user=user_id, channel=channel_id)
            return audit_message(audited), True
        if isinstance(parsed, MuteCommand | UnmuteCommand):
            if self.incidents is None:
                return _line(messages.watching_unavailable()), False
            answer = await self.incidents.slash_mute(parsed, channel_id=channel_id, user_id=user_id, team_id=team_id)
            return answer, True
        if isinstance(parsed, WatchCommand | UnwatchCommand | WatchesCommand):
            if self._subscriptions is None:
                return _line(messages.watching_unavailable()), False
            if isinstance(parsed, WatchCommand) and parsed.mention is not None and is_handle(parsed.mention):
                # `--mention @oncall` typed as text: the parser cannot know whom it names, Slack's directory does.
                found = await self._mentions.resolve(parsed.mention)
                if isinstance(found, Unresolved):
                    return _line(found.message), False
                parsed = dataclasses.replace(parsed, mention=found.token)
            outcome = await self._subscriptions.handle(parsed, channel_id=channel_id, user_id=user_id, team_id=team_id)
            return subscription_message(outcome), True
        # A command this listener has no branch for (help is answered before): said plainly, nothing done.
        return _line(messages.not_active_yet(parsed.subcommand)), False

    def _count_command(self, subcommand: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.commands.labels(subcommand=subcommand, outcome=outcome).inc()

    def _count_action(self, action: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.actions.labels(action=action, outcome=outcome).inc()


def _line(text: str) -> Message:
    """A one-line answer that is not a card: the bot's own wording, shown as a command error is."""
    return render_command_error(CommandError(text))


def _subcommand(parsed: Command) -> str:
    return parsed.subcommand


def _thread_of(event: dict[str, Any], client: AsyncWebClient) -> Thread:
    """Where an event's answer goes: the thread it was written in (or starts), its author as the fallback."""
    return Thread(
        client=client,
        channel=str(event.get("channel") or ""),
        thread_ts=event.get("thread_ts") or event.get("ts"),
        user=str(event.get("user") or ""),
    )


def _bot_user_id(body: dict[str, Any]) -> str | None:
    """The bot's own user id, from the (verified) event callback's authorizations."""
    for authorization in body.get("authorizations") or ():
        if isinstance(authorization, dict) and authorization.get("is_bot") and authorization.get("user_id"):
            return str(authorization["user_id"])
    return None


def _instance_ref(body: dict[str, Any]) -> InstanceRef | None:
    """The instance a button is about, or None when its value is not one of ours (or not a usable instance)."""
    actions = body.get("actions") or []
    if not actions:
        return None
    try:
        ref = decode_instance_ref(str(actions[0].get("value") or ""))
        # The value is the sender's to write: it meets the rules of a typed command before anything reaches DLF.
        validate_job_name(ref.job)
        parse_instance_id(str(ref.instance_id))
        if ref.profile is not None:
            profile_name(ref.profile)
    except (ValueError, CommandError):
        return None
    return ref


def _button_value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or []
    return str((actions[0] or {}).get("value") or "") if actions and isinstance(actions[0], dict) else ""


def _checked_instance_ref(body: dict[str, Any]) -> InstanceRef | None:
    """The instance a button names, checked as a typed `/dlf instance` is (job name rules, id range); None when the
    value is not one of ours or names what the parser would refuse."""
    try:
        ref = decode_instance_ref(_button_value(body))
        validate_job_name(ref.job)
    except (ValueError, CommandError):
        return None
    if not 1 <= ref.instance_id <= INT64_MAX:
        return None
    return ref


def _checked_list_query(body: dict[str, Any]) -> InstanceListQuery | None:
    """The page of `/dlf instances` a button asks for, checked as the typed command is (job name, status filter,
    a window DLF accepts); None otherwise."""
    try:
        ref: ListPageRef = decode_list_page(_button_value(body))
        if ref.job is None:
            return None
        validate_job_name(ref.job, subcommand="instances")
    except (ValueError, CommandError):
        return None
    if ref.status is not None and ref.status not in INSTANCE_STATUS_FILTERS:
        return None
    longest_ms = INSTANCES_SINCE_BOUNDS[1] * 1000
    if ref.until_ms is None or not 0 <= ref.until_ms - ref.since_ms <= longest_ms:
        return None
    return InstanceListQuery(
        job=ref.job,
        status=ref.status,
        since_ms=ref.since_ms,
        until_ms=ref.until_ms,
        page=ref.page,
        profile=ref.profile,
        since_midnight=ref.since_midnight,
    )


def _checked_audit_query(body: dict[str, Any]) -> AuditQuery | None:
    """The page of `/dlf audit` a button asks for, checked as the typed command is; None otherwise."""
    try:
        ref = decode_list_page(_button_value(body))
        if ref.job is not None:
            validate_job_name(ref.job, subcommand="audit")
    except (ValueError, CommandError):
        return None
    if ref.before_id is None or ref.before_id < 1 or ref.until_ms is not None or ref.status is not None:
        return None
    return AuditQuery(job=ref.job, since_ms=ref.since_ms, before_id=ref.before_id, page=ref.page)


__all__ = ["Listeners", "RequestLedger", "SubscriptionCommands"]
