"""Use cases shared by the Slack handlers and the CLI: each takes typed arguments and returns a result.

`InstanceService` shows one DLF instance; `SubscriptionService` manages channel subscriptions. Services call the
DLF client and the store and return result dataclasses (`InstanceShown`, `WatchResult`, …, `Refused`); the caller
renders them (`bot.slack.answers`). They know nothing of Bolt, HTTP or Block Kit.
"""

from bot.services.instances import InstanceService, InstanceShown
from bot.services.outcomes import DatabaseUnavailable, Refused
from bot.services.subscriptions import SubscriptionOutcome, SubscriptionService

__all__ = [
    "DatabaseUnavailable",
    "InstanceService",
    "InstanceShown",
    "Refused",
    "SubscriptionOutcome",
    "SubscriptionService",
]
