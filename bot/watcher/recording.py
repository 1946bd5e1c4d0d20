"""What the deliverer records after an attempt: sent (and the channel's pace), a failure by its kind (retry with a
back-off, in doubt, broken channel, rejected), or a row held in doubt because the channel cannot say whether an
earlier attempt posted it."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.store import OutboxRow, Store
from bot.watcher.delivery_report import Outcome
from bot.watcher.outbox import Failure, LookupProblem, backoff_s, doubt_backoff_s
from bot.watcher.slack_answers import details

# The deliverer's log: recording is a step of a delivery.
logger = logging.getLogger("bot.watcher.deliver")


class DeliveryRecorder:
    """Writes the outcome of one attempt of a row claimed by `holder`."""

    def __init__(
        self, *, store: Store, holder: str, pace_ms: int, slack_timeout_s: float, ratelimited: Callable[[str], None]
    ) -> None:
        self._store = store
        self._holder = holder
        self._pace_ms = pace_ms
        self._slack_timeout_s = slack_timeout_s
        self._ratelimited = ratelimited

    async def held_in_doubt(self, row: OutboxRow, problem: LookupProblem) -> Outcome:
        """An earlier attempt may have posted `row` and the channel cannot say: keep it, never post it now."""
        if problem.kind == "broken":
            async with self._store.transaction() as tx:
                await tx.outbox.mark_failed(row.id, error=problem.reason, holder=self._holder, in_doubt=True)
                count = await tx.subscriptions.mark_broken(row.channel, problem.reason)
            logger.warning(
                "channel %s is gone for the bot (%s): message %s held; %d subscription(s) marked broken",
                row.channel,
                problem.reason,
                row.key,
                count,
            )
            return "broken"
        delay = doubt_backoff_s(row.attempts, settle_s=self._slack_timeout_s, retry_after_s=problem.retry_after_s)
        async with self._store.transaction() as tx:
            await tx.outbox.mark_retry(
                row.id, holder=self._holder, error=problem.reason, next_attempt_at=tx.now + int(delay * 1000)
            )
        logger.warning(
            "outbox row %s to %s may have been posted by an earlier attempt and the channel's history "
            "cannot be read (%s): held, not posted; looking again in %.0f s",
            row.key,
            row.channel,
            problem.reason,
            delay,
        )
        return "in_doubt"

    async def sent(self, row: OutboxRow, *, ts: str, thread_ts: str | None, paced: bool) -> None:
        """Record that `row` is in Slack at `ts`; with `paced`, nothing more is posted to its channel for a while."""
        async with self._store.transaction() as tx:
            recorded = await tx.outbox.mark_sent(row.id, ts=ts, thread_ts=thread_ts)
            if paced and self._pace_ms > 0:
                await tx.outbox.hold_channel(row.channel, until=tx.now + self._pace_ms)
            current = None if recorded else await tx.outbox.get(row.key)
        if current is not None and current.sent_ts not in (None, ts):
            logger.error(
                "outbox row %s was already recorded as %s; Slack also has it as %s (kept the first)",
                row.key,
                current.sent_ts,
                ts,
            )

    async def failure(
        self,
        row: OutboxRow,
        failure: Failure,
        *,
        settled: int,
        exc: Exception | None = None,
        method: str | None = None,
    ) -> Outcome:
        """Record a failed attempt. `settled`: the row's attempts now known not to have posted; fewer than its
        attempts leaves it in doubt (looked up before any post, and never posted while that cannot be done)."""
        in_doubt = row.attempts > settled
        async with self._store.transaction() as tx:
            if failure.kind == "transient":
                if in_doubt:
                    delay = doubt_backoff_s(
                        row.attempts, settle_s=self._slack_timeout_s, retry_after_s=failure.retry_after_s
                    )
                else:
                    delay = backoff_s(row.attempts, retry_after_s=failure.retry_after_s)
                until = tx.now + int(delay * 1000)
                await tx.outbox.mark_retry(
                    row.id, holder=self._holder, error=failure.reason, next_attempt_at=until, settled_attempts=settled
                )
                if failure.reason == "ratelimited" and method is not None:
                    self._ratelimited(method)
                    if method == "chat.postMessage":
                        # Slack's post limit is per channel: nothing more goes to it before Retry-After.
                        await tx.outbox.hold_channel(row.channel, until=until)
                logger.info(
                    "outbox row %s to %s: %s; retrying in %.0f s%s",
                    row.key,
                    row.channel,
                    failure.reason,
                    delay,
                    " (it may have been posted: the channel is searched first)" if in_doubt else "",
                )
                return "retry"
            await tx.outbox.mark_failed(row.id, error=failure.reason, holder=self._holder, in_doubt=in_doubt)
            if failure.kind == "broken":
                count = await tx.subscriptions.mark_broken(row.channel, failure.reason)
                logger.warning(
                    "Slack refuses to post to channel %s (%s): message %s not sent; %d subscription(s) "
                    "marked broken; its messages wait until someone runs /dlf watch there again",
                    row.channel,
                    failure.reason,
                    row.key,
                    count,
                )
                return "broken"
        logger.error(
            "Slack rejected message %s for channel %s (%s)%s: it will not be sent",
            row.key,
            row.channel,
            failure.reason,
            details(exc),
        )
        return "rejected"


__all__ = ["DeliveryRecorder"]
