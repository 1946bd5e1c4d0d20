"""`build_app(deps)`: the Bolt AsyncApp, with every listener registered from ONE explicit table.

Nothing registers itself at import time. The Web API client is built here with retry handlers for connection
errors, 429 (honouring Retry-After) and 5xx, and `base_url=SLACK_API_URL` (GovSlack, tests); Bolt copies both into
the clients it makes per request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.render.actions import INSTANCE_REFRESH, INSTANCE_SHARE
from bot.services.instances import InstanceService
from bot.slack.handlers import Listeners, RequestLedger, SubscriptionCommands
from bot.slack.metrics import SlackMetrics

COMMAND = "/dlf"
BOLT_LOGGER = "bot.slack.bolt"
# Retries inside one request; the SDK counts attempts across handlers, so each allows the same total.
MAX_SLACK_RETRIES = 3


@dataclass(frozen=True)
class ListenerSpec:
    """One row of the listener table: what Slack sends (`kind` + `match`) and which `Listeners` method answers."""

    kind: Literal["command", "action", "event"]
    match: str
    method: str


LISTENERS: tuple[ListenerSpec, ...] = (
    ListenerSpec("command", COMMAND, "on_dlf_command"),
    ListenerSpec("action", INSTANCE_REFRESH, "on_instance_refresh"),
    ListenerSpec("action", INSTANCE_SHARE, "on_instance_share"),
    ListenerSpec("event", "app_mention", "on_app_mention"),
    ListenerSpec("event", "app_home_opened", "on_app_home_opened"),
)


@dataclass(frozen=True, kw_only=True)
class AppDeps:
    """Everything the Slack app needs, built by the entry point.

    `signing_secret` None means Socket Mode (Slack's requests arrive over the socket, unsigned). `ledger` (the
    store's request keys) makes each request handled once though Slack delivers it twice.
    """

    bot_token: str
    signing_secret: str | None
    slack_api_url: str
    instances: InstanceService
    subscriptions: SubscriptionCommands | None = None
    metrics: SlackMetrics | None = None
    ledger: RequestLedger | None = None
    # The process's one aiohttp session (created and closed by the entry point): Bolt's per-request clients reuse
    # its connections. None: slack_sdk opens a connection per call.
    session: aiohttp.ClientSession | None = None


class _ClientTokenNoticeFilter(logging.Filter):
    """Drops Bolt's "As you gave client as well, token will be unused" warning, and only that.

    Bolt takes `token or os.environ["SLACK_BOT_TOKEN"]` (slack_bolt/app/async_app.py), so no argument keeps it from
    reading the variable, and with our own client given too it warns on every start. Our client carries that very
    token (from the settings), so the warning says nothing.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_CLIENT_TOKEN_NOTICE = _ClientTokenNoticeFilter()


def slack_retry_handlers() -> list[AsyncRetryHandler]:
    """Connection errors, 429 (sleeps Retry-After) and 500/503 are retried; nothing else is."""
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=MAX_SLACK_RETRIES),
        AsyncRateLimitErrorRetryHandler(max_retry_count=MAX_SLACK_RETRIES),
        AsyncServerErrorRetryHandler(max_retry_count=MAX_SLACK_RETRIES),
    ]


def build_web_client(*, token: str, base_url: str, session: aiohttp.ClientSession | None = None) -> AsyncWebClient:
    """The Slack Web API client every part of the bot uses; with `session`, over that session's connection pool."""
    return AsyncWebClient(token=token, base_url=base_url, retry_handlers=slack_retry_handlers(), session=session)


def build_app(deps: AppDeps) -> AsyncApp:
    """The Bolt app with the listeners of `LISTENERS` and the error hook."""
    bolt_logger = logging.getLogger(BOLT_LOGGER)
    bolt_logger.addFilter(_CLIENT_TOKEN_NOTICE)  # once: the same filter object is not added twice
    app = AsyncApp(
        client=build_web_client(token=deps.bot_token, base_url=deps.slack_api_url, session=deps.session),
        signing_secret=deps.signing_secret or "",
        request_verification_enabled=deps.signing_secret is not None,
        process_before_response=False,
        # A request no listener takes goes to the error hook (one line) instead of Bolt's multi-line suggestion.
        raise_error_for_unhandled_request=True,
        logger=bolt_logger,
        name="dlf-bot",
    )
    listeners = Listeners(
        instances=deps.instances, subscriptions=deps.subscriptions, metrics=deps.metrics, ledger=deps.ledger
    )
    for spec in LISTENERS:
        function = getattr(listeners, spec.method)
        if spec.kind == "command":
            app.command(spec.match)(function)
        elif spec.kind == "action":
            app.action(spec.match)(function)
        else:
            app.event(spec.match)(function)
    app.error(listeners.on_unhandled_error)
    return app


__all__ = ["COMMAND", "LISTENERS", "AppDeps", "ListenerSpec", "build_app", "build_web_client", "slack_retry_handlers"]
