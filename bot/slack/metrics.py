"""Prometheus metrics of the Slack side, registered in a registry the caller hands in (no global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class SlackMetrics:
    """What users asked of the bot and how it went."""

    def __init__(self, *, registry: CollectorRegistry) -> None:
        self.commands = Counter(
            "dlf_bot_commands",
            "Slash commands and mentions by subcommand and outcome.",
            ("subcommand", "outcome"),
            registry=registry,
        )
        self.actions = Counter(
            "dlf_bot_actions", "Button clicks by action id and outcome.", ("action", "outcome"), registry=registry
        )
        self.crashes = Counter(
            "dlf_bot_unhandled_errors", "Unexpected exceptions in Slack listeners.", registry=registry
        )
        self.respond_failures = Counter(
            "dlf_bot_respond_failures", "Answers Slack refused at the response_url.", registry=registry
        )
        self.refused = Counter(
            "dlf_bot_refused_requests",
            "Requests refused before the app read them (unsigned, stale, forged, too large, malformed), by reason.",
            ("reason",),
            registry=registry,
        )
        self.redeliveries = Counter(
            "dlf_bot_redeliveries",
            "Slack requests already handled once (an event redelivered, a request replayed), by kind.",
            ("kind",),
            registry=registry,
        )
