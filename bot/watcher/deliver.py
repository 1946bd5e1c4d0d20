"""The outbox deliverer: sends queued rows to Slack exactly once, through outages, crashes and replicas.

Each pass claims the oldest due row of each channel (so one channel's backlog or back-off never holds up another,
and a channel gets at most one message per pass: with a pass every `pace_s` ≈ 1 s that is Slack's ~1 message per
second per channel), sends them concurrently, and records the outcome. No database transaction is held open while
Slack is called. Before re-posting a row that was tried before, the channel's recent history is searched for a
message carrying the row's key in its metadata: a crash between Slack's "ok" and the database write leaves exactly
that trace, and finding it records the ts instead of posting a second alert. A history that cannot be read
(`not_in_channel` for a public channel the bot posts to without being a member, a missing scope) never stops the
post: only a post's own answer marks a channel broken.

A channel Slack refuses to post to (CHANNEL_ERRORS) has its subscriptions marked broken; while all of them are,
its rows are held, pending and in order, not tried (`Outbox.claim_heads`). `/dlf watch` in the channel repairs it
and queues again the rows that failed that way (`SubscriptionService.watch`), so no alert is lost meanwhile.

A reply whose thread was deleted is posted at the top of the channel with a line saying so; an update of a deleted
card is dropped (logged at INFO).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.render.detached import render_detached_reply
from bot.render.message import Message
from bot.store import OutboxRow, Store
from bot.watcher.outbox import (
    UNKNOWN_ERROR_ATTEMPTS,
    Failure,
    backoff_s,
    classify_slack_error,
    find_posted,
    lookup_failure_is_transient,
    message_metadata,
)

logger = logging.getLogger(__name__)

DEFAULT_PACE_S = 1.0
DEFAULT_IDLE_S = 1.0
DEFAULT_BATCH = 50
DEFAULT_CONCURRENCY = 8
DEFAULT_CLAIM_TTL_S = 120.0
# How far before a row was queued to look for it in channel history (covers clock skew between bot and Slack).
HISTORY_MARGIN_S = 120
HISTORY_PAGES = 10
# How soon to look again at a row whose parent is not sent yet.
PARENT_WAIT_S = 1.0
# Attempts of a row during which a history lookup failing on Slack's side (5xx, 429, network) postpones the row;
# after that it is posted unchecked, so a history endpoint that stays down cannot hold an alert back for ever.
LOOKUP_ATTEMPTS = UNKNOWN_ERROR_ATTEMPTS

_NETWORK_ERRORS = (TimeoutError, aiohttp.ClientError, OSError, SlackRequestError)

Outcome = Literal["sent", "recovered", "retry", "broken", "rejected", "waiting", "dropped"]
_OUTCOMES: tuple[Outcome, ...] = ("sent", "recovered", "retry", "broken", "rejected", "waiting", "dropped")


def make_delivery_client(*, token: str, base_url: str = "https://slack.com/api/", timeout: int = 15) -> AsyncWebClient:
    """An AsyncWebClient for the deliverer: no built-in retries, because a retry inside one request could post a
    message twice; the deliverer retries itself, after checking what Slack already has."""
    return AsyncWebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])


@dataclass
class DeliveryReport:
    """What one pass did, by outcome."""

    sent: int = 0  # posted or updated now
    recovered: int = 0  # found already posted (crash after Slack's "ok"): ts recorded, not posted again
    retry: int = 0  # transient failure: stays pending with a back-off
    broken: int = 0  # channel can no longer be posted to: subscriptions marked broken
    rejected: int = 0  # Slack will never accept the message
    waiting: int = 0  # a reply whose parent is not sent yet
    dropped: int = 0  # an update of a card someone deleted: nothing left to update

    @property
    def claimed(self) -> int:
        """Rows this pass looked at."""
        return sum(getattr(self, name) for name in _OUTCOMES)

    def add(self, outcome: Outcome) -> None:
        """Count one row's outcome."""
        setattr(self, outcome, getattr(self, outcome) + 1)


@dataclass(frozen=True)
class _Target:
    thread_ts: str | None = None  # post in this thread
    update_ts: str | None = None  # chat.update this message


class OutboxDeliverer:
    """Delivers outbox rows. Safe to run in several replicas at once: rows are claimed atomically."""

    def __init__(
        self,
        *,
        store: Store,
        slack: AsyncWebClient,
        holder: str,
        pace_s: float = DEFAULT_PACE_S,
        idle_s: float = DEFAULT_IDLE_S,
        batch: int = DEFAULT_BATCH,
        concurrency: int = DEFAULT_CONCURRENCY,
        claim_ttl_s: float = DEFAULT_CLAIM_TTL_S,
    ) -> None:
        self._store = store
        self._slack = slack
        self._holder = holder
        self._pace_s = pace_s
        self._idle_s = idle_s
        self._batch = batch
        self._claim_ttl_ms = int(claim_ttl_s * 1000)
        self._concurrency = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Start the next pass now instead of after the idle wait (call after enqueueing)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set. A failing pass is logged and the next one runs: delivery never stops."""
        while not stop.is_set():
            claimed = 0
            try:
                claimed = (await self.deliver_once()).claimed
            except Exception:
                logger.exception("outbox delivery pass failed; retrying")
            self._wake.clear()
            await _wait_any(stop, self._wake, timeout=self._pace_s if claimed else self._idle_s)

    async def deliver_once(self) -> DeliveryReport:
        """One pass: claim the oldest due row of up to `batch` channels and deliver each."""
        async with self._store.transaction() as tx:
            rows = await tx.outbox.claim_heads(holder=self._holder, limit=self._batch, claim_ttl_ms=self._claim_ttl_ms)
        report = DeliveryReport()
        for outcome in await asyncio.gather(*(self._bounded(row) for row in rows)):
            report.add(outcome)
        if rows:
            logger.debug("outbox pass: %s", report)
        return report

    async def drain(self, *, max_passes: int = 1000) -> DeliveryReport:
        """Pass after pass, without pacing, until a pass finds nothing due (tests, shutdown, the demo)."""
        total = DeliveryReport()
        for _ in range(max_passes):
            report = await self.deliver_once()
            for name in _OUTCOMES:
                setattr(total, name, getattr(total, name) + getattr(report, name))
            if report.claimed == 0 or report.claimed == report.retry + report.waiting:
                break
        return total

    async def _bounded(self, row: OutboxRow) -> Outcome:
        async with self._concurrency:
            try:
                # Finish well within the claim, so no other deliverer takes the row while this one still works on it.
                async with asyncio.timeout(self._claim_ttl_ms / 2000):
                    return await self._deliver(row)
            except Exception as exc:  # a bug or a hang must not lose the row: it stays pending with a back-off
                logger.exception("outbox row %s: unexpected failure; will retry", row.key)
                return await self._record_failure(row, Failure("transient", type(exc).__name__))

    async def _deliver(self, row: OutboxRow) -> Outcome:
        target = await self._resolve_parent(row)
        if isinstance(target, str):
            return target
        try:
            if row.kind == "update":
                assert target.update_ts is not None
                response = await self._slack.chat_update(
                    channel=row.channel,
                    ts=target.update_ts,
                    text=row.payload.get("text", ""),
                    blocks=row.payload.get("blocks"),
                )
                await self._record_sent(row, ts=str(response["ts"]), thread_ts=None)
                return "sent"
            return await self._post(row, thread_ts=target.thread_ts, payload=row.payload)
        except SlackApiError as exc:
            failure = _classify(exc, row.attempts)
            if failure.kind == "parent_gone" and (row.kind == "update" or target.thread_ts is not None):
                return await self._parent_gone(row, target, failure)
            return await self._record_failure(row, failure, exc=exc)
        except _NETWORK_ERRORS as exc:
            return await self._record_failure(row, Failure("transient", f"network: {type(exc).__name__}"))

    async def _post(self, row: OutboxRow, *, thread_ts: str | None, payload: Mapping[str, Any]) -> Outcome:
        """Post `row` (in `thread_ts` when given), unless an earlier attempt of it is found already posted."""
        if row.attempts > 1:
            found = await self._find_in_slack(row, thread_ts)
            if found is not None:
                logger.info("outbox row %s was already posted (ts %s); recording it, not re-posting", row.key, found)
                await self._record_sent(row, ts=found, thread_ts=thread_ts)
                return "recovered"
        response = await self._slack.chat_postMessage(
            channel=row.channel,
            text=payload.get("text", ""),
            blocks=payload.get("blocks"),
            thread_ts=thread_ts,
            metadata=message_metadata(row.key, row.payload),
            unfurl_links=False,
            unfurl_media=False,
        )
        await self._record_sent(row, ts=str(response["ts"]), thread_ts=thread_ts)
        return "sent"

    async def _parent_gone(self, row: OutboxRow, target: _Target, failure: Failure) -> Outcome:
        """The alert a reply threads under, or an update edits, was deleted. A reply still carries news (a failure,
        a recovery): it is posted at the top of the channel, saying why. An update has nothing left to edit."""
        if row.kind == "update":
            async with self._store.transaction() as tx:
                await tx.outbox.mark_failed(row.id, error=failure.reason)
            logger.info("outbox row %s: the message it updates in %s is gone (%s); nothing to update, dropped",
                        row.key, row.channel, failure.reason)
            return "dropped"
        assert target.thread_ts is not None
        logger.warning("outbox row %s: its thread %s in %s is gone (%s); posting it in the channel instead",
                       row.key, target.thread_ts, row.channel, failure.reason)
        reply = Message(text=str(row.payload.get("text", "")), blocks=list(row.payload.get("blocks") or []))
        try:
            return await self._post(row, thread_ts=None, payload=render_detached_reply(reply).to_dict())
        except SlackApiError as exc:
            return await self._record_failure(row, _classify(exc, row.attempts), exc=exc)
        except _NETWORK_ERRORS as exc:
            return await self._record_failure(row, Failure("transient", f"network: {type(exc).__name__}"))

    async def _resolve_parent(self, row: OutboxRow) -> _Target | Outcome:
        """Where the row goes: its parent's thread or message. Delivers a pending parent first when it can."""
        if row.parent_key is None:
            return _Target(thread_ts=row.thread_ts)
        async with self._store.transaction() as tx:
            parent = await tx.outbox.get(row.parent_key)
            if parent is not None and parent.status == "pending":
                claimed = await tx.outbox.claim_key(
                    parent.key, holder=self._holder, claim_ttl_ms=self._claim_ttl_ms
                )
            else:
                claimed = None
        if claimed is not None:
            await self._deliver(claimed)
            async with self._store.transaction() as tx:
                parent = await tx.outbox.get(row.parent_key)
        if parent is not None and parent.status == "sent":
            assert parent.sent_ts is not None
            return _Target(thread_ts=parent.sent_thread_ts or parent.sent_ts, update_ts=parent.sent_ts)
        if parent is not None and parent.status == "pending":
            wait_until = max(parent.next_attempt_at, self._store.now() + int(PARENT_WAIT_S * 1000))
            async with self._store.transaction() as tx:
                await tx.outbox.release(row.id, next_attempt_at=wait_until)
            return "waiting"
        # The parent was never queued, or Slack refused it for good.
        if row.kind == "update":
            return await self._record_failure(row, Failure("rejected", "card_to_update_never_posted"))
        logger.warning("outbox row %s: parent %s was never posted; posting in the channel instead of its thread",
                       row.key, row.parent_key)
        return _Target(thread_ts=row.thread_ts)

    async def _find_in_slack(self, row: OutboxRow, thread_ts: str | None) -> str | None:
        """The ts of an earlier attempt of `row` that reached Slack, found by the key in the message metadata.

        None when there is none, and when the history cannot be read: a bot posting to a public channel it is not
        a member of (chat:write.public) gets `not_in_channel` here while its posts work. Only the post's own answer
        may mark a channel broken; a possible duplicate is better than a lost alert. Slack being down or rate
        limiting is raised (the row is retried later), up to a few attempts, then the row is posted unchecked.
        """
        cursor: str | None = None
        oldest = f"{row.created_at / 1000 - HISTORY_MARGIN_S:.6f}"
        for _ in range(HISTORY_PAGES):
            try:
                if thread_ts is not None:
                    page = await self._slack.conversations_replies(
                        channel=row.channel, ts=thread_ts, include_all_metadata=True, limit=200, cursor=cursor
                    )
                else:
                    page = await self._slack.conversations_history(
                        channel=row.channel, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
                    )
            except SlackApiError as exc:
                status = getattr(exc.response, "status_code", None)
                if lookup_failure_is_transient(status=status, error=_error_code(exc)) and self._may_retry(row):
                    raise
                self._warn_unchecked(row, _error_code(exc) or f"http_{status}")
                return None
            except _NETWORK_ERRORS as exc:
                if self._may_retry(row):
                    raise
                self._warn_unchecked(row, f"network: {type(exc).__name__}")
                return None
            found = find_posted(page.get("messages") or [], row.key)
            if found is not None:
                return found
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        return None

    @staticmethod
    def _may_retry(row: OutboxRow) -> bool:
        return row.attempts < LOOKUP_ATTEMPTS

    @staticmethod
    def _warn_unchecked(row: OutboxRow, reason: str) -> None:
        logger.warning("cannot read the history of %s (%s) to check for an earlier post of %s; posting it",
                       row.channel, reason, row.key)

    async def _record_sent(self, row: OutboxRow, *, ts: str, thread_ts: str | None) -> None:
        async with self._store.transaction() as tx:
            await tx.outbox.mark_sent(row.id, ts=ts, thread_ts=thread_ts)

    async def _record_failure(self, row: OutboxRow, failure: Failure, *, exc: Exception | None = None) -> Outcome:
        async with self._store.transaction() as tx:
            if failure.kind == "transient":
                delay = backoff_s(row.attempts, retry_after_s=failure.retry_after_s)
                await tx.outbox.mark_retry(row.id, error=failure.reason, next_attempt_at=tx.now + int(delay * 1000))
                logger.info("outbox row %s to %s: %s; retrying in %.0f s", row.key, row.channel, failure.reason, delay)
                return "retry"
            await tx.outbox.mark_failed(row.id, error=failure.reason)
            if failure.kind == "broken":
                count = await tx.subscriptions.mark_broken(row.channel, failure.reason)
                logger.warning("Slack refuses to post to channel %s (%s): message %s not sent; %d subscription(s) "
                               "marked broken; its messages wait until someone runs /dlf watch there again",
                               row.channel, failure.reason, row.key, count)
                return "broken"
        logger.error("Slack rejected message %s for channel %s (%s)%s: it will not be sent",
                     row.key, row.channel, failure.reason, _details(exc))
        return "rejected"


def _classify(exc: SlackApiError, attempts: int) -> Failure:
    response = exc.response
    headers: Mapping[str, Any] = getattr(response, "headers", None) or {}
    retry_after = headers.get("Retry-After") or headers.get("retry-after")
    return classify_slack_error(
        status=getattr(response, "status_code", None),
        error=_error_code(exc),
        retry_after=None if retry_after is None else str(retry_after),
        attempts=attempts,
    )


def _error_code(exc: SlackApiError) -> str | None:
    data = getattr(exc.response, "data", None)
    if isinstance(data, Mapping):
        error = data.get("error")
        return str(error) if error is not None else None
    return None


def _details(exc: Exception | None) -> str:
    data = getattr(getattr(exc, "response", None), "data", None)
    if isinstance(data, Mapping) and data.get("errors"):
        return f" {data['errors']}"
    return ""


async def _wait_any(*events: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


__all__ = ["DeliveryReport", "OutboxDeliverer", "make_delivery_client"]
