"""`build_app(deps)`: the Bolt AsyncApp, with every listener registered from ONE explicit table.

Nothing registers itself at import time. The Web API client comes in `AppDeps`, built by the entry point
(`bot.slack.web_client.build_web_client`); Bolt copies its retry handlers and base URL into the clients it makes per
request.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Literal

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.web.async_client import AsyncWebClient

from bot.render.actions import (
    AUDIT_PAGE,
    HOME_OPEN,
    HOME_REFRESH,
    HOME_UNWATCH,
    INCIDENT_ACTIONS,
    INCIDENT_RERUN_CONFIRM,
    INCIDENT_STOP_CONFIRM,
    INSTANCE_REFRESH,
    INSTANCE_SHARE,
    INSTANCES_OPEN,
    INSTANCES_PAGE,
)
from bot.services.audit import AuditService
from bot.services.home import HomeService
from bot.services.incidents import IncidentService
from bot.services.instance_list import InstanceListService
from bot.services.instances import InstanceService
from bot.services.mentions import MentionResolver
from bot.services.operators import Operators
from bot.slack.directory import SlackDirectory
from bot.slack.handlers import Listeners, SubscriptionCommands
from bot.slack.metrics import SlackMetrics
from bot.slack.once import RequestLedger

COMMAND = "/dlf"
BOLT_LOGGER = "bot.slack.bolt"


@dataclass(frozen=True)
class ListenerSpec:
    """One row of the listener table: what Slack sends (`kind` + `match`, an exact id or a pattern of them) and
    which `Listeners` method answers."""

    kind: Literal["command", "action", "view", "event"]
    match: str | re.Pattern[str]
    method: str


LISTENERS: tuple[ListenerSpec, ...] = (
    ListenerSpec("command", COMMAND, "on_dlf_command"),
    ListenerSpec("action", INSTANCE_REFRESH, "on_instance_refresh"),
    ListenerSpec("action", INSTANCE_SHARE, "on_instance_share"),
    ListenerSpec("action", INSTANCES_OPEN, "on_instances_open"),
    ListenerSpec("action", AUDIT_PAGE, "on_audit_page"),
    ListenerSpec("action", HOME_REFRESH, "on_home_refresh"),
    ListenerSpec("action", HOME_OPEN, "on_home_open"),
    ListenerSpec("action", HOME_UNWATCH, "on_home_unwatch"),
    # Newer and Older sit in one actions block, where action ids must differ.
    ListenerSpec("action", re.compile(rf"^{re.escape(INSTANCES_PAGE)}\.(newer|older)$"), "on_instances_page"),
    # The incident card's buttons and menus, and the Rerun / Stop dialogs (`incidents.` methods: IncidentListeners).
    *(ListenerSpec("action", action_id, "incidents.on_incident_button") for action_id in INCIDENT_ACTIONS),
    ListenerSpec("view", INCIDENT_RERUN_CONFIRM, "incidents.on_incident_confirm"),
    ListenerSpec("view", INCIDENT_STOP_CONFIRM, "incidents.on_incident_confirm"),
    # Last of the actions: an incident action id this version does not know gets a calm answer.
    ListenerSpec("action", re.compile(r"^dlf\.incident\."), "incidents.on_unknown_incident_action"),
    ListenerSpec("event", "app_mention", "on_app_mention"),
    ListenerSpec("event", "app_home_opened", "on_app_home_opened"),
)


@dataclass(frozen=True, kw_only=True)
class AppDeps:
    """Everything the Slack app needs, built by the entry point.

    `client` answers Slack (`build_web_client`: the bot token, SLACK_API_URL, the process's aiohttp session).
    `signing_secret` None means Socket Mode (Slack's requests arrive over the socket, unsigned). `ledger` (the
    store's request keys) makes each request handled once though Slack delivers it twice. `mentions` turns a
    `--mention @handle` typed as text into a mention token (by default through `client`: usergroups.list,
    users.list). `operators` says who may rerun, stop and read the audit (None: nobody is configured).
    """

    client: AsyncWebClient
    signing_secret: str | None
    instances: InstanceService
    subscriptions: SubscriptionCommands | None = None
    instance_lists: InstanceListService | None = None
    audit: AuditService | None = None
    home: HomeService | None = None
    metrics: SlackMetrics | None = None
    ledger: RequestLedger | None = None
    mentions: MentionResolver | None = None  # None: one reading Slack's directory with `client`
    operators: Operators | None = None
    incidents: IncidentService | None = None  # None: no incident actions (no store)


class _ClientTokenNoticeFilter(logging.Filter):
    """Drops Bolt's "As you gave client as well, token will be unused" warning, and only that.

    Bolt takes `token or os.environ["SLACK_BOT_TOKEN"]` (slack_bolt/app/async_app.py), so no argument keeps it from
    reading the variable, and with our own client given too it warns on every start. Our client carries that very
    token (from the settings), so the warning says nothing.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_CLIENT_TOKEN_NOTICE = _ClientTokenNoticeFilter()


def build_app(deps: AppDeps) -> AsyncApp:
    """The Bolt app with the listeners of `LISTENERS` and the error hook."""
    bolt_logger = logging.getLogger(BOLT_LOGGER)
    bolt_logger.addFilter(_CLIENT_TOKEN_NOTICE)  # once: the same filter object is not added twice
    app = AsyncApp(
        client=deps.client,
        signing_secret=deps.signing_secret or "",
        request_verification_enabled=deps.signing_secret is not None,
        process_before_response=False,
        # A request no listener takes goes to the error hook (one line) instead of Bolt's multi-line suggestion.
        raise_error_for_unhandled_request=True,
        logger=bolt_logger,
        name="dlf-bot",
    )
    listeners = Listeners(
        instances=deps.instances,
        mentions=deps.mentions or MentionResolver(directory=SlackDirectory(deps.client)),
        subscriptions=deps.subscriptions,
        instance_lists=deps.instance_lists,
        audit=deps.audit,
        home=deps.home,
        metrics=deps.metrics,
        ledger=deps.ledger,
        incidents=deps.incidents,
    )
    for spec in LISTENERS:
        owner: object = listeners
        name = spec.method
        if name.startswith("incidents."):
            if listeners.incidents is None:
                continue
            owner, name = listeners.incidents, name.removeprefix("incidents.")
        function = getattr(owner, name)
        if spec.kind == "command":
            assert isinstance(spec.match, str)
            app.command(spec.match)(function)
        elif spec.kind == "action":
            app.action(spec.match)(function)
        elif spec.kind == "view":
            app.view(spec.match)(function)
        else:
            app.event(spec.match)(function)
    app.error(listeners.on_unhandled_error)
    return app


__all__ = ["COMMAND", "LISTENERS", "AppDeps", "ListenerSpec", "build_app"]
