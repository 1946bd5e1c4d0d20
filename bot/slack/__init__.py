"""The Slack side: the Bolt app built from one listener table, its listeners, and the servers that run it.

`build_app(AppDeps(client=build_web_client(...), ...))` -> AsyncApp; `run_bot(...)` serves it (HTTP mode or Socket Mode) with `/healthz` and
`/metrics` and the background services. Listeners parse, call services and answer with rendered messages.
"""

from bot.slack.app import LISTENERS, AppDeps, ListenerSpec, build_app
from bot.slack.handlers import Listeners, SubscriptionCommands
from bot.slack.metrics import SlackMetrics
from bot.slack.server import (
    EVENTS_PATH,
    BackgroundService,
    build_web_app,
    run_bot,
    serve_http,
)
from bot.slack.web_client import build_web_client, slack_retry_handlers

__all__ = [
    "EVENTS_PATH",
    "LISTENERS",
    "AppDeps",
    "BackgroundService",
    "ListenerSpec",
    "Listeners",
    "SlackMetrics",
    "SubscriptionCommands",
    "build_app",
    "build_web_app",
    "build_web_client",
    "run_bot",
    "serve_http",
    "slack_retry_handlers",
]
