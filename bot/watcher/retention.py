"""Retention as the watcher runs it: every few minutes, on the replica holding the poll lease, old rows are pruned in
small batches (`bot.store.retention.prune`), and `dlf_bot_retention_pruned_rows_total{table}` counts them.

`DLF_RETENTION_DAYS` (default 30) is how long outbox rows, incidents, seen instances and audit entries are kept. It
must be longer than the watcher's window reaches back (`DLF_LOOKBACK_HOURS`, settings refuse anything else): a failure
DLF still lists must still be known, or its alert key could be queued again once its outbox row is gone. Request keys
(Slack redeliveries come within minutes) are kept a day, a channel's pacing row a day after its last message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter

from bot.store import Store
from bot.store.retention import DEFAULT_BATCH_ROWS, DEFAULT_MAX_BATCHES, TABLES, Cutoffs, prune

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 30
DEFAULT_RETENTION_INTERVAL_S = 300.0
REQUEST_KEY_RETENTION_S = 24 * 3600.0
CHANNEL_PACE_IDLE_S = 24 * 3600.0
_DAY_MS = 86_400_000


@dataclass(frozen=True, kw_only=True)
class RetentionOptions:
    """How long rows are kept, how often pruning runs, and how much one run may delete (per table:
    `batch_rows` × `max_batches`, each batch its own short transaction)."""

    days: float = DEFAULT_RETENTION_DAYS
    interval_s: float = DEFAULT_RETENTION_INTERVAL_S
    batch_rows: int = DEFAULT_BATCH_ROWS
    max_batches: int = DEFAULT_MAX_BATCHES
    request_key_s: float = REQUEST_KEY_RETENTION_S
    channel_pace_idle_s: float = CHANNEL_PACE_IDLE_S

    def __post_init__(self) -> None:
        if self.days <= 0 or self.interval_s <= 0 or self.request_key_s <= 0 or self.channel_pace_idle_s <= 0:
            raise ValueError("retention periods and interval must be positive")
        if self.batch_rows < 1 or self.max_batches < 1:
            raise ValueError("batch_rows and max_batches must be positive")

    def cutoffs(self, now_ms: int) -> Cutoffs:
        """What is old enough to go, at `now_ms`."""
        return Cutoffs(
            history=now_ms - round(self.days * _DAY_MS),
            request_keys=now_ms - round(self.request_key_s * 1000),
            channel_pace=now_ms - round(self.channel_pace_idle_s * 1000),
        )


class RetentionMetrics:
    """`dlf_bot_retention_pruned_rows_total{table}` and `dlf_bot_retention_runs_total{outcome}`."""

    def __init__(self, *, registry: CollectorRegistry) -> None:
        self.pruned = Counter(
            "dlf_bot_retention_pruned_rows", "Rows deleted by retention, by table.", ("table",), registry=registry
        )
        self.runs = Counter(
            "dlf_bot_retention_runs", "Retention runs by outcome (ok, failed).", ("outcome",), registry=registry
        )
        for table in TABLES:
            self.pruned.labels(table=table)


class Retention:
    """Prunes the store by `options`; the scheduler calls `run_once` on the poll lease holder."""

    def __init__(
        self,
        *,
        store: Store,
        options: RetentionOptions | None = None,
        metrics: RetentionMetrics | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.store = store
        self.options = options or RetentionOptions()
        self.metrics = metrics
        self._clock = clock or store.now

    async def run_once(self) -> dict[str, int]:
        """One run: at most `batch_rows` × `max_batches` rows per table; returns how many went, per table."""
        try:
            pruned = await prune(
                self.store,
                cutoffs=self.options.cutoffs(self._clock()),
                batch_rows=self.options.batch_rows,
                max_batches=self.options.max_batches,
            )
        except Exception:
            if self.metrics is not None:
                self.metrics.runs.labels(outcome="failed").inc()
            raise
        if self.metrics is not None:
            self.metrics.runs.labels(outcome="ok").inc()
            for table, count in pruned.items():
                self.metrics.pruned.labels(table=table).inc(count)
        if any(pruned.values()):
            log.info("retention: pruned %s", ", ".join(f"{n} {table}" for table, n in pruned.items() if n))
        return pruned


__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "DEFAULT_RETENTION_INTERVAL_S",
    "Retention",
    "RetentionMetrics",
    "RetentionOptions",
]
