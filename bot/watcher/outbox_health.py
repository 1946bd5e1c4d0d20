"""Is the outbox moving? What `/healthz` says about delivery (beside `bot.watcher.health`, which judges polling).

Unhealthy (503, with the reason) when:
- a channel's next message has been due for `stuck_after_s` without being sent: no live deliverer is taking it (all
  replicas dead or fenced, or one alive but stuck on it);
- a message has been in doubt for `in_doubt_after_s`: an earlier attempt may have posted it and the channel's history
  cannot be read to say, so it is held (never posted twice) until someone fixes what keeps the history unreadable;
- a message has kept failing for `failing_after_s` (Slack down or refusing it for that long).
A backlog that moves (a storm paced at Slack's rate) is healthy however long it is; held rows of broken channels are
reported (they wait for a person's `/dlf watch`) but are not a failure of the bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.store import Store
from bot.store.outbox import OutboxSnapshot
from bot.watcher.metrics import DeliveryMetrics

DEFAULT_STUCK_AFTER_S = 60.0
DEFAULT_IN_DOUBT_AFTER_S = 300.0
DEFAULT_FAILING_AFTER_S = 900.0


@dataclass(frozen=True, kw_only=True)
class OutboxHealthLimits:
    """How long a due message, a message in doubt and a failing message may wait before the outbox is unhealthy."""

    stuck_after_s: float = DEFAULT_STUCK_AFTER_S
    in_doubt_after_s: float = DEFAULT_IN_DOUBT_AFTER_S
    failing_after_s: float = DEFAULT_FAILING_AFTER_S


@dataclass(frozen=True, kw_only=True)
class OutboxHealth:
    """The verdict: why the outbox is unhealthy (empty when it is not) and what `/healthz` shows of it."""

    reasons: tuple[str, ...]
    details: dict[str, Any]

    @property
    def healthy(self) -> bool:
        """No reason to complain."""
        return not self.reasons


def _age_s(now_ms: int, since_ms: int | None) -> float | None:
    return round(max(now_ms - since_ms, 0) / 1000, 1) if since_ms is not None else None


def judge_outbox(snapshot: OutboxSnapshot, limits: OutboxHealthLimits | None = None) -> OutboxHealth:
    """Pure verdict over a snapshot of the outbox."""
    limits = limits or OutboxHealthLimits()
    due_age = _age_s(snapshot.now, snapshot.oldest_due_at)
    doubt_age = _age_s(snapshot.now, snapshot.oldest_in_doubt_since)
    failing_age = _age_s(snapshot.now, snapshot.oldest_failing_since)
    reasons: list[str] = []
    if due_age is not None and due_age > limits.stuck_after_s:
        reasons.append(
            f"outbox: a message due {due_age:.0f} s ago is not sent (allowed: {limits.stuck_after_s:.0f} s): "
            "no live deliverer is taking it"
        )
    if doubt_age is not None and doubt_age > limits.in_doubt_after_s:
        reasons.append(
            f"outbox: {snapshot.in_doubt} message(s) in doubt, the oldest for {doubt_age:.0f} s (allowed: "
            f"{limits.in_doubt_after_s:.0f} s): an earlier attempt may have posted them and the channel's history "
            "cannot be read to tell, so they are held, not posted again (see the log for why it cannot be read)"
        )
    if failing_age is not None and failing_age > limits.failing_after_s:
        reasons.append(
            f"outbox: a message has failed to reach Slack for {failing_age:.0f} s (allowed: "
            f"{limits.failing_after_s:.0f} s)"
        )
    details = {
        "pending": snapshot.pending,
        "held_for_broken_channels": snapshot.held,
        "in_doubt": snapshot.in_doubt,
        "oldest_due_age_s": due_age,
        "oldest_in_doubt_age_s": doubt_age,
        "oldest_failing_age_s": failing_age,
    }
    return OutboxHealth(reasons=tuple(reasons), details=details)


class OutboxHealthProbe:
    """Reads the outbox's snapshot from the store, judges it, and refreshes the outbox gauges on the way."""

    def __init__(
        self,
        *,
        store: Store,
        limits: OutboxHealthLimits | None = None,
        metrics: DeliveryMetrics | None = None,
    ) -> None:
        self.store = store
        self.limits = limits or OutboxHealthLimits()
        self.metrics = metrics

    async def check(self) -> OutboxHealth:
        """The verdict now."""
        async with self.store.transaction() as tx:
            snapshot = await tx.outbox.snapshot()
        if self.metrics is not None:
            self.metrics.observe(snapshot)
        return judge_outbox(snapshot, self.limits)


__all__ = ["OutboxHealth", "OutboxHealthLimits", "OutboxHealthProbe", "judge_outbox"]
