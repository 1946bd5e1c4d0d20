"""One poll cycle for one DLF profile: list, diff against the store, decide, write it all in one transaction.

Cost per cycle does not depend on how many subscriptions exist:
- one paged instance-list query per status of interest (`fail`; `running-exception` only if a subscription asked
  for it) over the time window;
- while incidents are open, their jobs' successes (for recoveries): one probe call, then either the paged list of
  every success or one query per incident job, whichever DLF's own count says is cheaper;
- one details call per failure that is new to the store and watched (the card needs its failed nodes), one per
  recovery (to redraw its card as resolved) and one per active one-off follow not settled by the lists.

DLF as a whole in trouble (unavailable, throttled, credentials refused) fails the cycle and keeps the cursor: the next
cycle catches up. DLF refusing one instance's details (a bad answer, refused, gone) does not: that failure is
alerted with a card built from its list row that says why the details are missing, and logged as an error.

The time window is by planned time: `[cursor - overlap, now]`, never older than `now - lookback`. `overlap` covers
instances that run (and fail) long after their planned time; `cursor` is the end of the last successful window, so
after downtime the window widens (up to `lookback`) and the failures missed meanwhile are caught up. DLF refuses
ranges over 7 days: longer spans are split. A rerun that succeeds after its instance's planned time has left the
window is not seen as a recovery; the job's next successful instance resolves the incident instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.dlf.client import DlfClient
from bot.dlf.models import FINISHED_INSTANCE_STATUSES, Instance, InstanceSummary
from bot.errors import (
    DlfAuthError,
    DlfBadResponse,
    DlfError,
    DlfNotFound,
    DlfPermissionDenied,
    DlfThrottled,
    DlfUnavailable,
)
from bot.store import Incident, Store, Subscription, Transaction
from bot.store.outbox import CHANNEL_ERRORS
from bot.watcher.compose import OutboxMessage, compose
from bot.watcher.decide import (
    EVENT_RUNNING_EXCEPTION,
    STATUS_FAIL,
    STATUS_RUNNING_EXCEPTION,
    STATUS_SUCCESS,
    CycleInput,
    Decision,
    IncidentFailedAgain,
    IncidentOpened,
    IncidentResolved,
    InstanceKey,
    KnownIncident,
    Recovery,
    Watch,
    decide,
    follow_key,
    relevant_failures,
)

log = logging.getLogger(__name__)

HOUR_MS = 3_600_000
DLF_MAX_RANGE_MS = 7 * 24 * HOUR_MS
DEFAULT_LOOKBACK_MS = 24 * HOUR_MS
# Instances are listed by planned time: one that fails up to this long after it was planned is still seen.
DEFAULT_OVERLAP_MS = 12 * HOUR_MS
DEFAULT_PAGE_SIZE = 1000
DEFAULT_DETAIL_CONCURRENCY = 8
# DLF as a whole is in trouble (not one instance): the cycle fails and the cursor stays until it is back.
TRANSIENT_DLF_ERRORS = (DlfUnavailable, DlfThrottled, DlfAuthError)
# How many one-job queries a full page of the instance list is worth (rows to send and parse, one after another).
FULL_PAGE_WEIGHT = 3


@dataclass(frozen=True, kw_only=True)
class PollOptions:
    """How far back to look and how hard to pull. Times in ms."""

    lookback_ms: int = DEFAULT_LOOKBACK_MS
    overlap_ms: int = DEFAULT_OVERLAP_MS
    page_size: int = DEFAULT_PAGE_SIZE
    detail_concurrency: int = DEFAULT_DETAIL_CONCURRENCY
    digest_threshold: int = 5

    def __post_init__(self) -> None:
        if not 0 < self.lookback_ms <= DLF_MAX_RANGE_MS:
            raise ValueError("lookback must be more than 0 and at most 7 days (DLF's query limit)")
        if self.overlap_ms < 0:
            raise ValueError("overlap must not be negative")
        if not 1 <= self.page_size <= 1000:
            raise ValueError("page size must be between 1 and 1000")
        if self.detail_concurrency < 1 or self.digest_threshold < 1:
            raise ValueError("detail concurrency and digest threshold must be at least 1")


@dataclass(frozen=True, kw_only=True)
class CycleReport:
    """What one profile's cycle did (logs, the scheduler's metrics, tests and the benchmark)."""

    profile: str
    window: tuple[int, int]
    listed: int = 0
    new_failures: int = 0
    detail_calls: int = 0
    enqueued: int = 0
    intents: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the cycle completed and the cursor advanced."""
        return self.error is None


@dataclass(kw_only=True)
class _Snapshot:
    """What the store knows at the start of a cycle."""

    cursor: int | None
    subscriptions: list[Subscription]
    incidents: list[Incident]
    watches: list[Watch] = field(default_factory=list)


def time_windows(start_ms: int, end_ms: int, max_span_ms: int = DLF_MAX_RANGE_MS) -> list[tuple[int, int]]:
    """Split [start, end] into consecutive windows DLF accepts (at most `max_span_ms` each)."""
    if end_ms <= start_ms:
        return [(end_ms, end_ms)]
    windows: list[tuple[int, int]] = []
    lower = start_ms
    while lower < end_ms:
        upper = min(lower + max_span_ms, end_ms)
        windows.append((lower, upper))
        lower = upper
    return windows


def window_for(*, cursor: int | None, now_ms: int, options: PollOptions) -> tuple[int, int]:
    """The planned-time window of this cycle: from the cursor minus the overlap, never before the lookback."""
    oldest = now_ms - options.lookback_ms
    if cursor is None:
        return oldest, now_ms
    return max(oldest, min(cursor, now_ms) - options.overlap_ms), now_ms


def watch_of(subscription: Subscription) -> Watch:
    """The decision's view of a store subscription."""
    return Watch(
        channel=subscription.channel,
        target=subscription.target,
        is_pattern=subscription.is_pattern,
        instance_id=subscription.instance_id,
        events=tuple(subscription.events),
        mention=subscription.mention,
        state=subscription.state,
        subscription_id=subscription.id,
    )


def known_incident(incident: Incident) -> KnownIncident:
    """The decision's view of a store incident."""
    return KnownIncident(
        channel=incident.channel,
        job_name=incident.job_name,
        root_key=incident.root_key,
        last_instance_id=incident.last_instance_id,
        failure_count=incident.failure_count,
        state=incident.state,
        incident_id=incident.id,
    )


def _log_extra(error: DlfError, *, profile: str) -> dict[str, object]:
    """The error's details for structured logs, under names a LogRecord does not already use ("message"...)."""
    return {"profile": profile, **{f"dlf_{name}": value for name, value in error.log_details().items()}}


def details_error_reason(error: DlfError) -> str:
    """Why an instance's details could not be fetched, for the card (no secrets: DLF errors carry none)."""
    if isinstance(error, DlfNotFound):
        reason = "DLF no longer has this instance"
    elif isinstance(error, DlfBadResponse):
        reason = "DLF's answer was not an instance's details"
    elif isinstance(error, DlfPermissionDenied):
        reason = "the bot's DLF account may not read this instance"
    else:
        reason = "DLF refused the request"
    parts = [f"{reason} ({error.message})"]
    if error.request_id:
        parts.append(f"request id {error.request_id}")
    return "; ".join(parts) + "."


class ProfilePoller:
    """Polls one DLF profile (project + workspace) into the store."""

    def __init__(
        self,
        *,
        profile: str,
        client: DlfClient,
        store: Store,
        options: PollOptions | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.profile = profile
        self.client = client
        self.store = store
        self.options = options or PollOptions()
        self._clock = clock or store.now

    async def run_cycle(self) -> CycleReport:
        """One cycle. DLF failing is reported (and the cursor stays); a database failure raises."""
        snapshot = await self._snapshot()
        now_ms = self._clock()
        window = window_for(cursor=snapshot.cursor, now_ms=now_ms, options=self.options)
        try:
            return await self._cycle(snapshot, window, now_ms)
        except DlfError as exc:
            log.warning(
                "watcher: DLF failed for profile %s (%s); cursor kept, the next cycle catches up",
                self.profile,
                exc.message,
                extra=_log_extra(exc, profile=self.profile),
            )
            async with self.store.transaction() as tx:
                await tx.watcher_state.heartbeat(self.profile, error=f"{type(exc).__name__}: {exc.message}")
            return CycleReport(profile=self.profile, window=window, error=type(exc).__name__)

    async def _snapshot(self) -> _Snapshot:
        async with self.store.transaction() as tx:
            state = await tx.watcher_state.get(self.profile)
            # Broken ones too: their messages are queued and held by the deliverer until the channel is repaired.
            subscriptions = await tx.subscriptions.list_watching(self.profile)
            incidents = await tx.incidents.unresolved(self.profile)
        snapshot = _Snapshot(cursor=state.cursor if state else None, subscriptions=subscriptions, incidents=incidents)
        snapshot.watches = [watch_of(s) for s in subscriptions]
        return snapshot

    async def _cycle(self, snapshot: _Snapshot, window: tuple[int, int], now_ms: int) -> CycleReport:
        listed = await self._list(STATUS_FAIL, window)
        if any(EVENT_RUNNING_EXCEPTION in w.events for w in snapshot.watches if not w.is_follow):
            listed += await self._list(STATUS_RUNNING_EXCEPTION, window)
        known, runs = await self._known(listed)
        base = CycleInput(
            profile=self.profile,
            watches=snapshot.watches,
            known=known,
            runs=runs,
            incidents=[known_incident(i) for i in snapshot.incidents],
            listed=listed,
            digest_threshold=self.options.digest_threshold,
        )
        new_failures = relevant_failures(base)
        if snapshot.incidents:
            # Successes only matter to open incidents (one opened now is checked from the next cycle on).
            successes = await self._successes(window, {i.job_name for i in snapshot.incidents})
            listed += successes
            success_known, success_runs = await self._known(successes)
            known.update(success_known)
            runs.update(success_runs)
        follows = self._unsettled_follows(snapshot.watches, listed)
        details, detail_calls, detail_errors = await self._details(new_failures, required=True)
        follow_details, follow_calls, _ = await self._details(follows, required=False)
        details.update(follow_details)
        decision = decide(
            CycleInput(
                profile=self.profile,
                watches=snapshot.watches,
                known=known,
                runs=runs,
                incidents=base.incidents,
                listed=listed,
                details=details,
                detail_errors=detail_errors,
                digest_threshold=self.options.digest_threshold,
            )
        )
        card_keys = [
            (i.recovered_by.job_name, i.failed_instance_id) for i in decision.intents if isinstance(i, Recovery)
        ]
        cards, card_calls, _ = await self._details(card_keys, required=False)
        messages = compose(decision.intents, now_ms=now_ms, cards=cards)
        enqueued = await self._write(decision, messages, snapshot, cursor=window[1])
        report = CycleReport(
            profile=self.profile,
            window=window,
            listed=len(listed),
            new_failures=len(new_failures),
            detail_calls=detail_calls + follow_calls + card_calls,
            enqueued=enqueued,
            intents=len(decision.intents),
        )
        if decision.intents:
            log.info(
                "watcher: profile %s: %d new failure(s), %d message(s) queued",
                self.profile,
                report.new_failures,
                enqueued,
                extra={"profile": self.profile, "listed": report.listed},
            )
        return report

    async def _list(
        self, status: str, window: tuple[int, int], *, job_name: str | None = None
    ) -> list[InstanceSummary]:
        found: dict[InstanceKey, InstanceSummary] = {}
        for lower, upper in time_windows(*window):
            async for summary in self.client.iter_instances(
                status=status,
                min_plan_time=lower,
                max_plan_time=upper,
                page_size=self.options.page_size,
                job_name=job_name,
                precise=job_name is not None,
            ):
                # Filtered by DLF already, but a lenient server may not filter: trust each row's own fields.
                if summary.status == status and job_name in (None, summary.job_name):
                    found[(summary.job_name, summary.instance_id)] = summary
        return list(found.values())

    async def _successes(self, window: tuple[int, int], jobs: set[str]) -> list[InstanceSummary]:
        """Successes in the window of `jobs` (those with open incidents): either the paged list of every success or
        one small query per job (run side by side, paced by the client's rate limit), whichever DLF's own count
        (one probe call) says is cheaper. A full page carries up to 1,000 rows to send and parse, so it is weighed
        as `FULL_PAGE_WEIGHT` per-job queries."""
        windows = time_windows(*window)
        if len(windows) == 1:
            probe = await self.client.list_instances(
                status=STATUS_SUCCESS, min_plan_time=window[0], max_plan_time=window[1], limit=1
            )
            if probe.total == 0 and not probe.instances:
                return []
            pages = -(-(probe.total or 0) // self.options.page_size)
            if probe.total is not None and len(jobs) <= pages * FULL_PAGE_WEIGHT:
                gate = asyncio.Semaphore(self.options.detail_concurrency)

                async def one(job: str) -> list[InstanceSummary]:
                    async with gate:
                        return await self._list(STATUS_SUCCESS, window, job_name=job)

                return [s for found in await asyncio.gather(*(one(job) for job in sorted(jobs))) for s in found]
        return [s for s in await self._list(STATUS_SUCCESS, window) if s.job_name in jobs]

    async def _known(
        self, listed: Sequence[InstanceSummary]
    ) -> tuple[dict[InstanceKey, str], dict[InstanceKey, int | None]]:
        """The recorded status of each listed instance the store knows, and the run (start time) it belongs to."""
        if not listed:
            return {}, {}
        async with self.store.transaction() as tx:
            seen = await tx.instances.lookup(self.profile, ((s.job_name, s.instance_id) for s in listed))
        return (
            {key: record.status for key, record in seen.items()},
            {key: record.run_start for key, record in seen.items()},
        )

    @staticmethod
    def _unsettled_follows(watches: Sequence[Watch], listed: Sequence[InstanceSummary]) -> list[InstanceKey]:
        finished = {(s.job_name, s.instance_id) for s in listed if s.status in FINISHED_INSTANCE_STATUSES}
        return [
            (w.target, w.instance_id)
            for w in watches
            if w.is_follow and w.instance_id is not None and (w.target, w.instance_id) not in finished
        ]

    async def _details(
        self, keys: Sequence[InstanceKey], *, required: bool
    ) -> tuple[dict[InstanceKey, Instance], int, dict[InstanceKey, str]]:
        """Fetch details concurrently (the client's rate limit paces them); also why some could not be fetched.

        `required` (details for alerts): DLF as a whole in trouble (`TRANSIENT_DLF_ERRORS`) fails the cycle, so the
        cursor stays and the alerts wait for complete cards; an error specific to one instance (bad answer, refused,
        gone) is logged as an error and returned as the reason, and the alert goes out with the list row's card — it
        must not hold back every other alert of the profile cycle after cycle. Otherwise the instance is just left
        out and the caller copes."""
        unique = list(dict.fromkeys(keys))
        gate = asyncio.Semaphore(self.options.detail_concurrency)
        found: dict[InstanceKey, Instance] = {}
        errors: dict[InstanceKey, str] = {}

        async def fetch(key: InstanceKey) -> None:
            async with gate:
                try:
                    found[key] = await self.client.get_instance(*key)
                except (ValueError, TypeError) as exc:
                    # The client refuses to send this name or id (".." as a job name, a negative id): an odd row of
                    # DLF's own list. It concerns this instance only and must not crash the cycle.
                    if required:
                        errors[key] = f"the bot cannot ask DLF about this instance ({exc})."
                    log.error(
                        "watcher: details of %r/%r cannot be requested (%s: %s)%s",
                        *key,
                        type(exc).__name__,
                        exc,
                        "; alerting with the list row" if required else "",
                        extra={"profile": self.profile},
                    )
                except DlfError as exc:
                    if required and isinstance(exc, TRANSIENT_DLF_ERRORS):
                        raise
                    extra = _log_extra(exc, profile=self.profile)
                    if required:
                        errors[key] = details_error_reason(exc)
                        log.error(
                            "watcher: details of %s/%s could not be fetched (%s); alerting with the list row",
                            *key,
                            type(exc).__name__,
                            extra=extra,
                        )
                    elif isinstance(exc, DlfNotFound):
                        log.info("watcher: instance %s/%s is gone from DLF", *key)
                    else:
                        log.warning("watcher: details of %s/%s unavailable", *key, extra=extra)

        outcomes = await asyncio.gather(*(fetch(key) for key in unique), return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return found, len(unique), errors

    async def _write(
        self, decision: Decision, messages: Sequence[OutboxMessage], snapshot: _Snapshot, *, cursor: int
    ) -> int:
        """Seen statuses, incidents, outbox rows, finished follows and the cursor: one transaction, all or nothing."""
        incidents = {(i.channel, i.job_name): i.id for i in snapshot.incidents}
        async with self.store.transaction() as tx:
            if decision.seen:
                await tx.instances.record(self.profile, decision.seen)
            await self._apply_incidents(tx, decision, incidents)
            enqueued = 0
            jobs_by_channel: dict[str, set[str]] = {}
            for message in messages:
                inserted = await tx.outbox.enqueue(
                    key=message.key,
                    channel=message.channel,
                    kind=message.kind,
                    payload=message.payload,
                    parent_key=message.parent_key,
                    profile=message.profile,
                    job_name=message.job_name,
                )
                enqueued += int(inserted)
                if inserted and message.job_name is not None:
                    jobs_by_channel.setdefault(message.channel, set()).add(message.job_name)
            for channel, jobs in jobs_by_channel.items():
                # The subscriptions were read when the cycle began: a channel that unwatched a job since must not
                # get its alerts after all.
                await tx.subscriptions.cancel_unwatched(channel=channel, profile=self.profile, jobs=jobs)
            for subscription_id in decision.finished_follows:
                await tx.subscriptions.end(subscription_id)
            await self._settle_ended_follows(tx)
            await tx.watcher_state.heartbeat(self.profile, cursor=cursor)
        return enqueued

    async def _settle_ended_follows(self, tx: Transaction) -> None:
        """Remove the ended follows whose outcome is out (or was never to be said). One whose outcome waits — held
        in a broken channel, or refused by it until someone repairs it — stays, and keeps the channel held."""
        for follow in await tx.subscriptions.list_ended_follows(self.profile):
            assert follow.instance_id is not None
            row = await tx.outbox.get(
                follow_key(profile=self.profile, channel=follow.channel, job_name=follow.target,
                           instance_id=follow.instance_id)
            )
            waiting = row is not None and (
                row.status == "pending"
                or (row.status == "failed_permanent" and row.last_error in CHANNEL_ERRORS and follow.state == "broken")
            )
            if not waiting:
                await tx.subscriptions.delete(follow.id)

    async def _apply_incidents(
        self, tx: Transaction, decision: Decision, incidents: Mapping[tuple[str, str], int]
    ) -> None:
        ids = dict(incidents)
        for change in decision.incident_changes:
            key = (change.channel, change.job_name)
            if isinstance(change, IncidentOpened):
                incident, _ = await tx.incidents.open_or_get(
                    channel=change.channel,
                    profile=self.profile,
                    job_name=change.job_name,
                    instance_id=change.instance_id,
                    root_key=change.root_key,
                )
                ids[key] = incident.id
            elif isinstance(change, IncidentFailedAgain) and key in ids:
                await tx.incidents.record_failure(ids[key], change.instance_id)
            elif isinstance(change, IncidentResolved) and key in ids:
                await tx.incidents.resolve(ids.pop(key), by=None, reason=change.reason)


__all__ = [
    "DEFAULT_LOOKBACK_MS",
    "DEFAULT_OVERLAP_MS",
    "TRANSIENT_DLF_ERRORS",
    "CycleReport",
    "PollOptions",
    "ProfilePoller",
    "details_error_reason",
    "time_windows",
    "window_for",
]
