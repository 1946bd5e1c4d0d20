"""Prometheus metrics of the outbox and its delivery, registered in a registry the caller hands in (no global state).

The gauges describe the whole outbox (the shared database), so every replica reports the same values: aggregate
them with `max` across replicas.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from bot.store.outbox import OutboxSnapshot


class DeliveryMetrics:
    """Outcomes of delivery attempts, history lookups and 429s (counters); the outbox's state (gauges)."""

    def __init__(self, *, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "dlf_bot_outbox_deliveries",
            "Outbox rows handled by this replica, by outcome (sent, recovered, retry, in_doubt, broken, ...).",
            ("outcome",),
            registry=registry,
        )
        self.lookups = Counter(
            "dlf_bot_outbox_lookups",
            "History lookups of rows in doubt, by result (found, not_found, unreadable).",
            ("result",),
            registry=registry,
        )
        self.ratelimited = Counter(
            "dlf_bot_slack_ratelimited",
            "Slack answers 429 received by the deliverer, by Web API method.",
            ("method",),
            registry=registry,
        )
        self.pending = Gauge("dlf_bot_outbox_pending_rows", "Outbox rows waiting to be sent.", registry=registry)
        self.held = Gauge(
            "dlf_bot_outbox_held_rows",
            "Pending rows of channels Slack refused (held until someone runs /dlf watch there again).",
            registry=registry,
        )
        self.oldest_due_age = Gauge(
            "dlf_bot_outbox_oldest_due_age_seconds",
            "How long the longest-waiting channel head has been due and not sent (0 when none is due).",
            registry=registry,
        )
        self.in_doubt = Gauge(
            "dlf_bot_outbox_in_doubt_rows",
            "Rows whose last attempt may have posted, held until the channel's history says whether it did.",
            registry=registry,
        )
        self.oldest_in_doubt_age = Gauge(
            "dlf_bot_outbox_oldest_in_doubt_age_seconds",
            "How long the oldest row in doubt has been in doubt (0 when none).",
            registry=registry,
        )
        self.oldest_failing_age = Gauge(
            "dlf_bot_outbox_oldest_failing_age_seconds",
            "How long the longest-failing pending row has been failing (0 when none).",
            registry=registry,
        )

    def observe(self, snapshot: OutboxSnapshot) -> None:
        """Set the gauges from a snapshot of the outbox."""
        self.pending.set(snapshot.pending)
        self.held.set(snapshot.held)
        self.in_doubt.set(snapshot.in_doubt)
        self.oldest_due_age.set(_age_s(snapshot.now, snapshot.oldest_due_at))
        self.oldest_in_doubt_age.set(_age_s(snapshot.now, snapshot.oldest_in_doubt_since))
        self.oldest_failing_age.set(_age_s(snapshot.now, snapshot.oldest_failing_since))


def _age_s(now_ms: int, since_ms: int | None) -> float:
    return max(now_ms - since_ms, 0) / 1000 if since_ms is not None else 0.0


__all__ = ["DeliveryMetrics"]
