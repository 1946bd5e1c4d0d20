"""Use cases shared by the Slack handlers and the CLI: each takes typed arguments and returns what to say.

`InstanceService` shows one DLF instance; `SubscriptionService` (store owner) manages channel subscriptions.
Services call the DLF client and the store and hand models to the renderers; they know nothing of Bolt or HTTP.
"""

from bot.services.instances import InstanceAnswer, InstanceService
from bot.services.subscriptions import SubscriptionService

__all__ = ["InstanceAnswer", "InstanceService", "SubscriptionService"]
