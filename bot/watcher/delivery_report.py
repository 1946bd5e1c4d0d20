"""What the deliverer did with a row (`Outcome`), and with a pass of rows (`DeliveryReport`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Outcome = Literal["sent", "recovered", "retry", "in_doubt", "broken", "rejected", "waiting", "dropped", "fenced"]
OUTCOMES: tuple[Outcome, ...] = (
    "sent",
    "recovered",
    "retry",
    "in_doubt",
    "broken",
    "rejected",
    "waiting",
    "dropped",
    "fenced",
)
# Outcomes after which the row is still pending: a drain stops when a pass has nothing else.
STILL_PENDING: tuple[Outcome, ...] = ("retry", "in_doubt", "waiting", "fenced")


@dataclass
class DeliveryReport:
    """What one pass did, by outcome."""

    sent: int = 0  # posted or updated now
    recovered: int = 0  # found already posted by an earlier attempt: its ts recorded, not posted again
    retry: int = 0  # transient failure: stays pending with a back-off (in doubt if the outcome is unknown)
    in_doubt: int = 0  # an earlier attempt may have posted and the history could not be read: held, not posted
    broken: int = 0  # channel can no longer be posted to: subscriptions marked broken
    rejected: int = 0  # Slack will never accept the message
    waiting: int = 0  # a reply whose parent is not sent yet
    dropped: int = 0  # an update of a card someone deleted: nothing left to update
    fenced: int = 0  # not sent: this replica's heartbeat is stale (another may take its claims over)

    @property
    def claimed(self) -> int:
        """Rows this pass looked at."""
        return sum(getattr(self, name) for name in OUTCOMES)

    def add(self, outcome: Outcome) -> None:
        """Count one row's outcome."""
        setattr(self, outcome, getattr(self, outcome) + 1)


__all__ = ["OUTCOMES", "STILL_PENDING", "DeliveryReport", "Outcome"]
