"""The App Home tab's contents: the subscriptions a user created, and the open incidents of their channels.

"The channels where the user's subscriptions are" are read as the channels of the subscriptions the user CREATED
(`created_by`): the store knows who made a subscription, not who reads a channel. A database that cannot be read
gives a Home without them (`HomeView.unavailable`) and one log line: the tab still opens.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot import messages
from bot.errors import StoreUnavailable
from bot.store import Store, Subscription
from bot.store.engine import COMMAND_LOCK_WAIT_S
from bot.store.records import Incident

log = logging.getLogger(__name__)

MAX_SUBSCRIPTIONS = 200


@dataclass(frozen=True)
class HomeView:
    """What the user's Home tab shows, as of `now_ms`; `unavailable` names why the database could not be read."""

    subscriptions: Sequence[Subscription] = ()
    incidents: Sequence[Incident] = ()
    now_ms: int = 0
    unavailable: str | None = None


class HomeService:
    """Reads one user's Home tab from the store."""

    def __init__(self, *, store: Store, lock_wait_s: float = COMMAND_LOCK_WAIT_S) -> None:
        self._store = store
        self._lock_wait_s = lock_wait_s

    async def view(self, user: str) -> HomeView:
        """The subscriptions `user` created and the unresolved incidents of their channels, newest first."""
        try:
            async with self._store.transaction(read_only=True, lock_wait_s=self._lock_wait_s) as tx:
                subscriptions = await tx.subscriptions.list_created_by(user, limit=MAX_SUBSCRIPTIONS)
                channels = list(dict.fromkeys(sub.channel for sub in subscriptions))
                incidents = await tx.incidents.in_channels(channels) if channels else []
                return HomeView(subscriptions=subscriptions, incidents=incidents, now_ms=tx.now)
        except StoreUnavailable as err:
            log.warning(messages.log_command_store_unavailable("App Home", "the Home tab", err))
            return HomeView(unavailable=err.kind)


__all__ = ["HomeService", "HomeView"]
