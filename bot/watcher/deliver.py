"""The outbox deliverer: sends queued rows to Slack exactly once, through outages, crashes and replicas.

Each channel's rows go out in order, one at a time: the deliverer claims a channel's oldest pending row when it is
due and the channel's pace allows (`channel_pace`, shared by replicas: one chat.postMessage per `pace_s` per channel,
Slack's rate, and a 429's Retry-After holds the whole channel). Card updates (chat.update, another method with its
own per-workspace limit) are not held by the channel's post pace and do not use it up. The loop (`run`) sleeps until
the earliest channel is due, not a fixed tick. No database transaction is held open while Slack is called.

Exactly once. Every attempt is counted when its row is claimed; `settled_attempts` counts the attempts known not to
have posted (Slack answered with an error, a 429, or the connection could not be opened). A claimed row with
`attempts - 1 > settled_attempts` had an attempt whose outcome is unknown (a timeout, a 5xx, a reset, a crash): it is
*in doubt*, and before anything is posted the channel's history (or the thread's replies) is searched for the row's
key in message metadata. Found: its ts (the oldest copy's) is recorded, nothing is posted. Searched to the end and not
found: the earlier attempts are settled and the row is posted. The history cannot be read (Slack down or slow, rate
limited, a missing scope, too long to search): the row stays pending and in doubt, backing off, and is NEVER posted
meanwhile — `/metrics` counts it and `/healthz` reports it when it stays in doubt for long. A public channel the bot
posts to without being a member (chat:write.public; its history answers `not_in_channel`) is joined first
(conversations.join, scope channels:join), then read.

Crashes and replicas. A row is claimed atomically; a claim is taken over as soon as its holder's heartbeat lease has
lapsed (`bot.watcher.heartbeat`), or after `claim_ttl_s` for a holder alive but stuck. The deliverer starts no Slack
call when its own heartbeat is stale or lapsed since the claim (the fence), and every call ends within the Slack
timeout, which is shorter than the heartbeat's margin: a takeover never overlaps a send in flight, and the taker,
finding the row in doubt, looks it up before posting.

A channel Slack refuses to post to (`bot.watcher.outbox.CHANNEL_ERRORS`) has its subscriptions marked broken; while all of them are,
its rows are held, pending and in order, not tried (`Outbox.claim_heads`). `/dlf watch` in the channel repairs it
and queues again the rows that failed that way (`SubscriptionService.watch`), so no alert is lost meanwhile.

A reply whose thread was deleted is posted at the top of the channel with a line saying so; an update of a deleted
card is dropped (logged at INFO).

    slack_answers.py  the Slack client and what its errors say;  history.py  finding an earlier attempt
    recording.py      the outcome of an attempt written to the store;  delivery_report.py  outcomes and pass reports
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import StoreUnavailable
from bot.render.detached import render_detached_reply
from bot.render.message import Message
from bot.store import OutboxRow, Store
from bot.watcher.delivery_report import OUTCOMES, STILL_PENDING, DeliveryReport, Outcome
from bot.watcher.heartbeat import Heartbeat
from bot.watcher.history import Found, HistoryLookup
from bot.watcher.metrics import DeliveryMetrics
from bot.watcher.outage import StoreOutage
from bot.watcher.outbox import Failure, LookupProblem, answer_settles, message_metadata
from bot.watcher.recording import DeliveryRecorder
from bot.watcher.slack_answers import (
    DEFAULT_SLACK_TIMEOUT_S,
    NETWORK_ERRORS,
    NOT_SENT_ERRORS,
    classify,
    make_delivery_client,
    status_of,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_PACE_S = 1.0
DEFAULT_IDLE_S = 1.0
DEFAULT_BATCH = 50
DEFAULT_CONCURRENCY = 8
DEFAULT_CLAIM_TTL_S = 120.0
# How soon to look again at a row whose parent is not sent yet.
PARENT_WAIT_S = 1.0
METRICS_EVERY_S = 5.0
# How long `run` waits, once stopped, for the rows it is sending.
STOP_GRACE_S = 30.0


@dataclass(frozen=True)
class _Target:
    thread_ts: str | None = None  # post in this thread
    update_ts: str | None = None  # chat.update this message


class _Fenced(Exception):
    """This replica may not start a Slack call now (see `Heartbeat.may_send`)."""


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
        slack_timeout_s: float = DEFAULT_SLACK_TIMEOUT_S,
        heartbeat: Heartbeat | None = None,
        metrics: DeliveryMetrics | None = None,
    ) -> None:
        self._store = store
        self._outage = StoreOutage("the delivery pass", store.now)
        self._slack = slack
        self._holder = holder
        self._pace_ms = int(pace_s * 1000)
        self._idle_s = idle_s
        self._batch = batch
        self._claim_ttl_ms = int(claim_ttl_s * 1000)
        self._max_in_flight = concurrency
        self._concurrency = asyncio.Semaphore(concurrency)
        self._slack_timeout_s = slack_timeout_s
        self._heartbeat = heartbeat
        self._metrics = metrics
        self._wake = asyncio.Event()
        self._in_flight: set[asyncio.Task[Outcome]] = set()
        self._history = HistoryLookup(slack=slack, timeout_s=slack_timeout_s, ratelimited=self._count_ratelimited)
        self._recorder = DeliveryRecorder(
            store=store,
            holder=holder,
            pace_ms=self._pace_ms,
            slack_timeout_s=slack_timeout_s,
            ratelimited=self._count_ratelimited,
        )

    @property
    def in_flight(self) -> int:
        """Rows `run` is delivering right now."""
        return len(self._in_flight)

    def wake(self) -> None:
        """Look for due rows now instead of at the next planned wake-up (call after enqueueing)."""
        self._wake.set()

    # --- the loop ------------------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set: claim every due channel head (up to `concurrency` rows in flight), then sleep
        until the earliest channel is due (at most `idle_s`), a row finishes, or `wake()`. A failing pass is logged
        and the next one runs: delivery never stops."""
        loop = asyncio.get_running_loop()
        next_metrics = loop.time()
        try:
            while not stop.is_set():
                self._wake.clear()
                wait = self._idle_s
                try:
                    claimed = await self._start_due()
                    if len(self._in_flight) < self._max_in_flight:
                        wait = await self._seconds_until_due(claimed=claimed)
                    self._outage.answered()
                except StoreUnavailable as exc:
                    self._outage.failed(exc)
                except Exception:
                    logger.exception("outbox delivery pass failed; retrying")
                if self._metrics is not None and loop.time() >= next_metrics:
                    next_metrics = loop.time() + METRICS_EVERY_S
                    await self.refresh_metrics()
                await _wait_any(stop, self._wake, timeout=wait)
        finally:
            if self._in_flight:
                await asyncio.wait(set(self._in_flight), timeout=STOP_GRACE_S)

    async def _start_due(self) -> int:
        free = self._max_in_flight - len(self._in_flight)
        if free <= 0 or not self._may_send():
            return 0
        generation = self._generation()
        async with self._store.transaction() as tx:
            rows = await tx.outbox.claim_heads(
                holder=self._holder, limit=min(free, self._batch), claim_ttl_ms=self._claim_ttl_ms
            )
        for row in rows:
            task = asyncio.create_task(self._bounded(row, generation), name=f"outbox:{row.key}")
            self._in_flight.add(task)
            task.add_done_callback(self._finished)
        return len(rows)

    def _finished(self, task: asyncio.Task[Outcome]) -> None:
        self._in_flight.discard(task)
        self._wake.set()

    async def _seconds_until_due(self, *, claimed: int) -> float:
        async with self._store.transaction() as tx:
            due = await tx.outbox.next_due()
            now = tx.now
        if due is None:
            return self._idle_s
        seconds = (due - now) / 1000
        if seconds <= 0:
            # Due now: go again at once after claiming something; otherwise (another replica just took it) briefly.
            return 0.0 if claimed else min(self._idle_s, 0.05)
        return min(seconds, self._idle_s)

    async def refresh_metrics(self) -> None:
        """Set the outbox gauges from the database (the loop does it every few seconds)."""
        if self._metrics is None:
            return
        try:
            async with self._store.transaction() as tx:
                self._metrics.observe(await tx.outbox.snapshot())
        except Exception:
            logger.warning("could not read the outbox for its metrics", exc_info=True)

    # --- on demand -----------------------------------------------------------------------------------------------

    async def deliver_once(self, *, paced: bool = True) -> DeliveryReport:
        """One pass: claim the oldest due row of up to `batch` channels and deliver each. `paced=False` ignores the
        channels' pace (tests, the demo)."""
        report = DeliveryReport()
        if not self._may_send():
            return report
        generation = self._generation()
        async with self._store.transaction() as tx:
            rows = await tx.outbox.claim_heads(
                holder=self._holder, limit=self._batch, claim_ttl_ms=self._claim_ttl_ms, paced=paced
            )
        for outcome in await asyncio.gather(*(self._bounded(row, generation) for row in rows)):
            report.add(outcome)
        if rows:
            logger.debug("outbox pass: %s", report)
        return report

    async def drain(self, *, max_passes: int = 1000) -> DeliveryReport:
        """Pass after pass, without pacing, until a pass finds nothing due (tests, shutdown, the demo)."""
        total = DeliveryReport()
        for _ in range(max_passes):
            report = await self.deliver_once(paced=False)
            for name in OUTCOMES:
                setattr(total, name, getattr(total, name) + getattr(report, name))
            if report.claimed == sum(getattr(report, name) for name in STILL_PENDING):
                break
        return total

    # --- one row -------------------------------------------------------------------------------------------------

    def _generation(self) -> int | None:
        return self._heartbeat.generation if self._heartbeat is not None else None

    def _may_send(self, generation: int | None = None) -> bool:
        return self._heartbeat is None or self._heartbeat.may_send(generation)

    async def _call(self, generation: int | None, call: Callable[[], Awaitable[T]]) -> T:
        """A Slack call that may post, started only while the fence allows, and bounded by the Slack timeout."""
        if not self._may_send(generation):
            raise _Fenced
        async with asyncio.timeout(self._slack_timeout_s):
            return await call()

    async def _bounded(self, row: OutboxRow, generation: int | None) -> Outcome:
        async with self._concurrency:
            outcome: Outcome
            try:
                # Finish well within the claim, so no other deliverer takes the row while this one still works on it.
                async with asyncio.timeout(self._claim_ttl_ms / 2000):
                    outcome = await self._deliver(row, generation)
            except Exception as exc:  # a bug or a hang must not lose the row: it stays pending with a back-off
                logger.exception("outbox row %s: unexpected failure; will retry", row.key)
                try:
                    # Whatever happened may have reached Slack: the row stays in doubt (looked up before any post).
                    outcome = await self._recorder.failure(
                        row, Failure("transient", type(exc).__name__), settled=self._settled_if_unknown(row)
                    )
                except Exception:
                    logger.warning(
                        "outbox row %s: could not record the failure; its claim lapses by itself",
                        row.key,
                        exc_info=True,
                    )
                    outcome = "retry"
        if self._metrics is not None:
            self._metrics.deliveries.labels(outcome=outcome).inc()
        return outcome

    @staticmethod
    def _settled_if_unknown(row: OutboxRow) -> int:
        # An update is idempotent (sending it twice shows the same card): it is never in doubt.
        return row.attempts if row.kind == "update" else row.settled_attempts

    async def _deliver(self, row: OutboxRow, generation: int | None) -> Outcome:
        target = await self._resolve_parent(row)
        if isinstance(target, str):
            return target
        settled = row.settled_attempts
        if row.kind != "update" and row.attempts - 1 > settled:
            found = await self._history.lookup(row, target.thread_ts)
            if isinstance(found, Found):
                logger.info("outbox row %s was already posted (ts %s); recording it, not re-posting", row.key, found.ts)
                self._count_lookup("found")
                await self._recorder.sent(row, ts=found.ts, thread_ts=found.thread_ts, paced=False)
                return "recovered"
            if isinstance(found, LookupProblem):
                self._count_lookup("unreadable")
                return await self._recorder.held_in_doubt(row, found)
            self._count_lookup("not_found")
            settled = row.attempts - 1  # searched to the end: no earlier attempt posted
        try:
            if row.kind == "update":
                assert target.update_ts is not None
                return await self._update(row, target.update_ts, generation)
            return await self._post(
                row, thread_ts=target.thread_ts, payload=row.payload, settled=settled, generation=generation
            )
        except _Fenced:
            logger.info("outbox row %s not sent: this replica's heartbeat is stale; giving the row back", row.key)
            async with self._store.transaction() as tx:
                await tx.outbox.release(row.id, holder=self._holder, next_attempt_at=tx.now, settled_attempts=settled)
            return "fenced"

    async def _post(
        self,
        row: OutboxRow,
        *,
        thread_ts: str | None,
        payload: Mapping[str, Any],
        settled: int,
        generation: int | None,
    ) -> Outcome:
        """Post `row` (in `thread_ts` when given). `settled`: the row's attempts known not to have posted, all but
        this one (it was looked up, or never in doubt)."""
        try:
            response = await self._call(
                generation,
                lambda: self._slack.chat_postMessage(
                    channel=row.channel,
                    text=payload.get("text", ""),
                    blocks=payload.get("blocks"),
                    thread_ts=thread_ts,
                    metadata=message_metadata(row.key, row.payload),
                    unfurl_links=False,
                    unfurl_media=False,
                ),
            )
        except SlackApiError as exc:
            failure = classify(exc, row.attempts)
            answered = row.attempts if answer_settles(status_of(exc)) else settled
            if failure.kind == "parent_gone" and thread_ts is not None:
                return await self._parent_gone_reply(row, thread_ts, failure, settled=settled, generation=generation)
            return await self._recorder.failure(row, failure, settled=answered, exc=exc, method="chat.postMessage")
        except NOT_SENT_ERRORS as exc:
            return await self._recorder.failure(
                row, Failure("transient", f"network: {type(exc).__name__}"), settled=row.attempts
            )
        except NETWORK_ERRORS as exc:
            # Timed out or cut off mid-request: Slack may have posted it. The row is now in doubt.
            return await self._recorder.failure(
                row, Failure("transient", f"network: {type(exc).__name__}"), settled=settled
            )
        await self._recorder.sent(row, ts=str(response["ts"]), thread_ts=thread_ts, paced=True)
        return "sent"

    async def _update(self, row: OutboxRow, update_ts: str, generation: int | None) -> Outcome:
        """chat.update the card: idempotent, so an unknown outcome is simply tried again (never in doubt)."""
        try:
            response = await self._call(
                generation,
                lambda: self._slack.chat_update(
                    channel=row.channel,
                    ts=update_ts,
                    text=row.payload.get("text", ""),
                    blocks=row.payload.get("blocks"),
                ),
            )
        except SlackApiError as exc:
            failure = classify(exc, row.attempts)
            if failure.kind == "parent_gone":
                async with self._store.transaction() as tx:
                    await tx.outbox.mark_failed(row.id, error=failure.reason, holder=self._holder)
                logger.info(
                    "outbox row %s: the message it updates in %s is gone (%s); nothing to update, dropped",
                    row.key,
                    row.channel,
                    failure.reason,
                )
                return "dropped"
            return await self._recorder.failure(row, failure, settled=row.attempts, exc=exc, method="chat.update")
        except NETWORK_ERRORS as exc:
            return await self._recorder.failure(
                row, Failure("transient", f"network: {type(exc).__name__}"), settled=row.attempts
            )
        await self._recorder.sent(row, ts=str(response["ts"]), thread_ts=None, paced=False)
        return "sent"

    async def _parent_gone_reply(
        self, row: OutboxRow, thread_ts: str, failure: Failure, *, settled: int, generation: int | None
    ) -> Outcome:
        """The alert a reply threads under was deleted. A reply still carries news (a failure, a recovery): it is
        posted at the top of the channel, saying why (a later lookup of it searches the channel too)."""
        logger.warning(
            "outbox row %s: its thread %s in %s is gone (%s); posting it in the channel instead",
            row.key,
            thread_ts,
            row.channel,
            failure.reason,
        )
        reply = Message(text=str(row.payload.get("text", "")), blocks=list(row.payload.get("blocks") or []))
        return await self._post(
            row, thread_ts=None, payload=render_detached_reply(reply).to_dict(), settled=settled, generation=generation
        )

    async def _resolve_parent(self, row: OutboxRow) -> _Target | Outcome:
        """Where the row goes: its parent's thread or message. A row whose parent is still pending waits for it."""
        if row.parent_key is None:
            return _Target(thread_ts=row.thread_ts)
        async with self._store.transaction() as tx:
            parent = await tx.outbox.get(row.parent_key)
            if parent is not None and parent.status == "pending":
                wait_until = max(parent.next_attempt_at, tx.now + int(PARENT_WAIT_S * 1000))
                await tx.outbox.release(row.id, holder=self._holder, next_attempt_at=wait_until)
                return "waiting"
        if parent is not None and parent.status == "sent":
            assert parent.sent_ts is not None
            return _Target(thread_ts=parent.sent_thread_ts or parent.sent_ts, update_ts=parent.sent_ts)
        # The parent was never queued, or Slack refused it for good.
        if row.kind == "update":
            return await self._recorder.failure(
                row, Failure("rejected", "card_to_update_never_posted"), settled=row.attempts
            )
        logger.warning(
            "outbox row %s: parent %s was never posted; posting in the channel instead of its thread",
            row.key,
            row.parent_key,
        )
        return _Target(thread_ts=row.thread_ts)

    def _count_lookup(self, result: str) -> None:
        if self._metrics is not None:
            self._metrics.lookups.labels(result=result).inc()

    def _count_ratelimited(self, method: str) -> None:
        if self._metrics is not None:
            self._metrics.ratelimited.labels(method=method).inc()


async def _wait_any(*events: asyncio.Event, timeout: float) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


__all__ = [
    "DEFAULT_CLAIM_TTL_S",
    "DEFAULT_SLACK_TIMEOUT_S",
    "DeliveryReport",
    "OutboxDeliverer",
    "make_delivery_client",
]
