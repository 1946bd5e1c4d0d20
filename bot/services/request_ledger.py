"""Requests handled once: the Slack listeners ask whether a request key is new, the store's request_keys answer.

Every replica shares the table, so an event Slack redelivers to another replica is recognised too. When the store
cannot answer (unreachable, locked past its busy timeout) the request is handled: a rare second answer is better
than none.
"""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError

from bot import messages
from bot.store import Store

log = logging.getLogger(__name__)


class StoreRequestLedger:
    """`first_time(key)` on the store's request_keys (insert-or-ignore is the check)."""

    def __init__(self, *, store: Store) -> None:
        self._store = store

    async def first_time(self, key: str) -> bool:
        """True when `key` was not recorded before (it is now); True as well when the store cannot say."""
        try:
            async with self._store.transaction() as tx:
                return await tx.request_keys.claim(key)
        except (SQLAlchemyError, OSError) as exc:
            log.warning(messages.log_request_keys_unavailable(type(exc).__name__))
            return True


__all__ = ["StoreRequestLedger"]
