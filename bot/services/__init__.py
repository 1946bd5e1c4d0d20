"""Use cases shared by the Slack handlers and the CLI: each takes typed arguments and returns what to say.

`instances.InstanceService` shows one DLF instance; `subscriptions` (the watcher's side) manages channel
subscriptions. Services call the DLF client and the store and hand models to the renderers; they know nothing of
Bolt or HTTP requests.
"""

from bot.services.instances import InstanceAnswer, InstanceService

__all__ = ["InstanceAnswer", "InstanceService"]
