"""Each Slack request handled once, though Slack may deliver it twice (to any replica).

An Events API event is known by its `event_id` (the same in every redelivery); any other HTTP request by its
signature (the same signed body sent again is a replay). The store's request keys (`RequestLedger`) say whether a
key is new; a slow or locked database does not hold up the answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Protocol

from slack_bolt.request.async_request import AsyncBoltRequest

from bot import messages
from bot.errors import StoreUnavailable
from bot.slack.metrics import SlackMetrics

log = logging.getLogger(__name__)

# How long a request waits for the store to say whether it was handled before. Past that it is handled (the check
# goes on and records it): a slow or locked database must not hold up an answer that does not need it.
REQUEST_KEY_WAIT_S = 1.0
_SLACK_EVENT_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}")


class RequestLedger(Protocol):
    """What the listeners need of `bot.services.request_ledger`: whether a request key is new (and record it)."""

    async def first_time(self, key: str) -> bool: ...


class FirstDelivery:
    """`await first_delivery(key, kind=...)`: whether to handle a request (always, without a ledger or a key)."""

    def __init__(
        self, *, ledger: RequestLedger | None, metrics: SlackMetrics | None = None, wait_s: float = REQUEST_KEY_WAIT_S
    ) -> None:
        self._ledger = ledger
        self._metrics = metrics
        self._wait_s = wait_s
        self._pending: set[asyncio.Task[bool]] = set()

    async def __call__(self, key: str | None, *, kind: str, retry: str | None = None) -> bool:
        """False when `key` was recorded before (said in the log, and counted by `kind`: "command", "click" or
        "event"); `retry` is Slack's retry number, for the log."""
        if self._ledger is None or key is None:
            return True
        check = asyncio.create_task(self._ledger.first_time(key))
        # Kept until done: the check records the key even when the request stops waiting for it.
        self._pending.add(check)
        check.add_done_callback(self._settled)
        try:
            first = await asyncio.wait_for(asyncio.shield(check), timeout=self._wait_s)
        except TimeoutError:
            log.warning(messages.log_request_keys_unavailable("the database did not answer in time"))
            return True
        except Exception:  # noqa: BLE001 — said by `_settled`; the request is handled and answers for itself
            return True
        if not first:
            log.info(messages.log_redelivered(kind, retry))
            if self._metrics is not None:
                self._metrics.redeliveries.labels(kind=kind).inc()
        return first

    def _settled(self, check: asyncio.Task[bool]) -> None:
        self._pending.discard(check)
        error = None if check.cancelled() else check.exception()
        if error is not None:
            level = logging.WARNING if isinstance(error, StoreUnavailable) else logging.ERROR
            log.log(level, messages.log_request_keys_unavailable(type(error).__name__))


def event_key(body: dict[str, Any]) -> str | None:
    """An Events API callback's key: its `event_id`, the same in every redelivery (None when it has none)."""
    event_id = body.get("event_id")
    if isinstance(event_id, str) and _SLACK_EVENT_ID.fullmatch(event_id):
        return f"slack:event:{event_id}"
    return None


def retry_num(request: AsyncBoltRequest) -> str | None:
    """Slack's `X-Slack-Retry-Num` (which redelivery this is), for the log."""
    values = request.headers.get("x-slack-retry-num") or ()
    return values[0][:8] if values else None


__all__ = ["REQUEST_KEY_WAIT_S", "FirstDelivery", "RequestLedger", "event_key", "retry_num"]
