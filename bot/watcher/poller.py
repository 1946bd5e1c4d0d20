"""One poll cycle for one DLF profile: list, diff against the store, decide, and write — each new failure as soon as
its details arrive.

What one cycle asks DLF (bounded by pages of the instance list and by instances that end late, never by the number
of jobs or subscriptions):
- the unfinished instances (`TRACKED_STATUSES`: waiting, running, running-exception) over the whole lookback, one
  paged query per status: what is still running, however long ago it was planned. Those of jobs someone watches,
  follows or has an open incident for are remembered in the store with their planned time (`instances_seen`);
- the failures in the recent window `[cursor - overlap, now]` (overlap: 15 minutes);
- while incidents are open, their jobs' successes (recoveries): one probe, then either the paged list over the recent
  window or one query per incident job reaching back to its failed instance's planned time (so a rerun that
  succeeds late resolves it), whichever DLF's own count says is cheaper;
- details: one call per new failure someone hears of (the card needs its failed nodes), one per remembered
  unfinished instance that left the unfinished lists although planned before the recent window (it ended late, and
  the failure list no longer covers it: how did it end?), one per active follow the lists do not settle, one per
  recovery (to redraw its card as resolved).
A remembered instance that left the unfinished lists while planned inside the recent window and is not listed as
failed did not fail: it is remembered as ended, without a call. So a run that fails many hours after its planned time
(a long backfill, a job waiting on an upstream) is alerted like any other, and a quiet cycle costs the same after a
month as after a minute.

Every `sweep_interval` (and at the first cycle of a process) the failure and success lists cover the whole lookback
instead: an instance that appeared late with an old planned time and ended between two cycles (a quick backfill of
an old date, a fast rerun of an old failure) is still seen, at most one sweep interval late.

DLF as a whole in trouble (unavailable, throttled, credentials refused) fails the cycle and keeps the cursor: the next
cycle catches up. DLF refusing one instance's details (a bad answer, refused, gone) does not: that failure is
alerted with a card built from its list row that says why the details are missing, and logged as an error.

Writing: the decision is staged (`bot.watcher.staging.stage`). Digest cards first; then, as the details of the new
failures arrive (oldest first), their alerts, seen statuses and incident changes in batches of `detail_batch` (or
every `detail_flush_s`), each batch one transaction, so the first alert of a storm leaves at once instead of after
every details call; last, with the cursor, the recoveries, follow outcomes and all other seen statuses. The outbox's
unique keys make the partial progress safe: a crash mid-cycle leaves the committed failures known, and the next cycle
redoes the rest without repeating any of them.

The time window is by planned time, never older than `now - lookback`; DLF refuses ranges over 7 days, longer spans
are split.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from bot.dlf.client import DlfClient
from bot.dlf.models import Instance, InstanceSummary, summary_of
from bot.errors import (
    DlfAuthError,
    DlfBadResponse,
    DlfError,
    DlfNotFound,
    DlfPermissionDenied,
    DlfThrottled,
    DlfUnavailable,
)
from bot.store import Incident, SeenInstance, Store, Subscription, Transaction
from bot.watcher.compose import OutboxMessage, compose, compose_digest_card
from bot.watcher.decide import decide
from bot.watcher.inputs import (
    DEFAULT_DIGEST_THRESHOLD,
    STATUS_FAIL,
    STATUS_SUCCESS,
    TRACKED_STATUSES,
    CycleInput,
    InstanceKey,
    KnownIncident,
    Watch,
)
from bot.watcher.intents import Decision, IncidentFailedAgain, IncidentOpened, IncidentResolved, Recovery
from bot.watcher.keys import follow_key
from bot.watcher.matching import watched_jobs
from bot.watcher.outbox import CHANNEL_ERRORS
from bot.watcher.staging import Staged, complete, merge, stage

log = logging.getLogger(__name__)

HOUR_MS = 3_600_000
MINUTE_MS = 60_000
DLF_MAX_RANGE_MS = 7 * 24 * HOUR_MS
DEFAULT_LOOKBACK_MS = 24 * HOUR_MS
# The failure list reaches this far before the cursor: instances DLF creates a little after their planned time
# (scheduler lag) and clocks that disagree. Anything later is found through the unfinished lists (or the sweep).
DEFAULT_OVERLAP_MS = 15 * MINUTE_MS
DEFAULT_SWEEP_INTERVAL_MS = 10 * MINUTE_MS
DEFAULT_PAGE_SIZE = 1000
DEFAULT_DETAIL_CONCURRENCY = 8
DEFAULT_DETAIL_BATCH = 25
DEFAULT_DETAIL_FLUSH_S = 1.0
# DLF as a whole is in trouble (not one instance): the cycle fails and the cursor stays until it is back.
TRANSIENT_DLF_ERRORS = (DlfUnavailable, DlfThrottled, DlfAuthError)
# How many one-job queries a full page of the instance list is worth (rows to send and parse, one after another).
FULL_PAGE_WEIGHT = 3


@dataclass(frozen=True, kw_only=True)
class PollOptions:
    """How far back to look and how hard to pull. Times in ms."""

    lookback_ms: int = DEFAULT_LOOKBACK_MS
    overlap_ms: int = DEFAULT_OVERLAP_MS
    sweep_interval_ms: int = DEFAULT_SWEEP_INTERVAL_MS
    page_size: int = DEFAULT_PAGE_SIZE
    detail_concurrency: int = DEFAULT_DETAIL_CONCURRENCY
    detail_batch: int = DEFAULT_DETAIL_BATCH
    detail_flush_s: float = DEFAULT_DETAIL_FLUSH_S
    digest_threshold: int = DEFAULT_DIGEST_THRESHOLD  # ALERT_DIGEST_THRESHOLD

    def __post_init__(self) -> None:
        if not 0 < self.lookback_ms <= DLF_MAX_RANGE_MS:
            raise ValueError("lookback must be more than 0 and at most 7 days (DLF's query limit)")
        if self.overlap_ms < 0 or self.sweep_interval_ms < 0:
            raise ValueError("overlap and sweep interval must not be negative")
        if not 1 <= self.page_size <= 1000:
            raise ValueError("page size must be between 1 and 1000")
        if self.detail_concurrency < 1 or self.digest_threshold < 1 or self.detail_batch < 1:
            raise ValueError("detail concurrency, detail batch and digest threshold must be at least 1")
        if self.detail_flush_s <= 0:
            raise ValueError("the detail flush interval must be positive")


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
    tracked: int = 0  # unfinished instances remembered at the start of the cycle
    late_lookups: int = 0  # of those, how many ended late and were looked up
    batches: int = 0  # transactions the new failures were written in
    swept: bool = False  # the failure and success lists covered the whole lookback
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the cycle completed and the cursor advanced."""
        return self.error is None


@dataclass(kw_only=True)
class _Snapshot:
    """What the store knows at the start of a cycle."""

    cursor: int | None
    incidents: list[Incident]
    any_watching: bool = False
    # Every glob and follow (what may concern any job); exact watches are read once the cycle knows its jobs.
    general: list[Subscription] = field(default_factory=list)
    tracked: dict[InstanceKey, SeenInstance] = field(default_factory=dict)
    # Per job with an open incident: the planned time of its oldest incident's failed instance, where known.
    incident_plans: dict[str, int] = field(default_factory=dict)


@dataclass
class _Progress:
    """What a cycle has written so far: incident ids by (channel, job), counts for the report."""

    incident_ids: dict[tuple[str, str], int]
    enqueued: int = 0
    batches: int = 0


FetchResult = tuple[Instance | None, str | None]


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


def window_for(*, cursor: int | None, now_ms: int, options: PollOptions, sweep: bool = False) -> tuple[int, int]:
    """The planned-time window of this cycle's failure list: from the cursor minus the overlap, never before the
    lookback; the whole lookback at a sweep (and before the first cycle ever)."""
    oldest = now_ms - options.lookback_ms
    if cursor is None or sweep:
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
        acknowledged_by=incident.acknowledged_by,
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
        self._last_sweep: int | None = None

    async def run_cycle(self) -> CycleReport:
        """One cycle. DLF failing is reported (and the cursor stays); a database failure raises."""
        now_ms = self._clock()
        snapshot = await self._snapshot(now_ms)
        sweep = self._last_sweep is None or now_ms - self._last_sweep >= self.options.sweep_interval_ms
        window = window_for(cursor=snapshot.cursor, now_ms=now_ms, options=self.options, sweep=sweep)
        try:
            report = await self._cycle(snapshot, window, now_ms, sweep=sweep)
        except DlfError as exc:
            log.warning(
                "watcher: DLF failed for profile %s (%s); cursor kept, the next cycle catches up",
                self.profile,
                exc.message,
                extra=_log_extra(exc, profile=self.profile),
            )
            async with self.store.transaction() as tx:
                await tx.watcher_state.heartbeat(self.profile, error=f"{type(exc).__name__}: {exc.message}")
            return CycleReport(profile=self.profile, window=window, error=type(exc).__name__, swept=sweep)
        if sweep:
            self._last_sweep = now_ms
        return report

    async def _snapshot(self, now_ms: int) -> _Snapshot:
        async with self.store.transaction() as tx:
            state = await tx.watcher_state.get(self.profile)
            # Broken ones too: their messages are queued and held by the deliverer until the channel is repaired.
            general = await tx.subscriptions.list_watching(self.profile, jobs=())
            any_watching = bool(general) or await tx.subscriptions.any_watching(self.profile)
            incidents = await tx.incidents.unresolved(self.profile)
            tracked = await tx.instances.tracked(
                self.profile, statuses=TRACKED_STATUSES, since=now_ms - self.options.lookback_ms
            )
            failed = await tx.instances.lookup(self.profile, ((i.job_name, i.last_instance_id) for i in incidents))
        snapshot = _Snapshot(
            cursor=state.cursor if state else None, incidents=incidents, any_watching=any_watching, general=general
        )
        snapshot.tracked = {(t.job_name, t.instance_id): t for t in tracked}
        for incident in incidents:
            seen = failed.get((incident.job_name, incident.last_instance_id))
            if seen is not None and seen.plan_time is not None:
                plans = snapshot.incident_plans
                plans[incident.job_name] = min(plans.get(incident.job_name, seen.plan_time), seen.plan_time)
        return snapshot

    async def _cycle(
        self, snapshot: _Snapshot, window: tuple[int, int], now_ms: int, *, sweep: bool
    ) -> CycleReport:
        listed: list[InstanceSummary] = []
        if snapshot.any_watching or snapshot.incidents:
            # Oldest status first: an instance moving on between two of these calls is in one of them.
            lookback = (now_ms - self.options.lookback_ms, now_ms)
            for status in TRACKED_STATUSES:
                listed += await self._list(status, lookback)
        listed += await self._list(STATUS_FAIL, window)
        if snapshot.incidents:
            listed += await self._successes(window, snapshot.incident_plans, {i.job_name for i in snapshot.incidents})
        listed_keys = {(s.job_name, s.instance_id) for s in listed}
        watches = await self._watches(snapshot, {job for job, _ in listed_keys | snapshot.tracked.keys()})
        late, ended = self._departed(snapshot, watches, listed_keys, window)
        follows = self._unsettled_follows(watches, listed_keys)
        found, gone, lookup_calls = await self._lookup([*late, *follows])
        listed += [summary_of(found[key]) for key in late if key in found]
        ended += [key for key in late if key in gone]
        known, runs = await self._known(listed, snapshot.tracked)
        plan = decide(
            CycleInput(
                profile=self.profile,
                watches=watches,
                known=known,
                runs=runs,
                incidents=[known_incident(i) for i in snapshot.incidents],
                listed=listed,
                details=found,
                ended=ended,
                digest_threshold=self.options.digest_threshold,
            )
        )
        staged = stage(plan)
        progress = _Progress(incident_ids={(i.channel, i.job_name): i.id for i in snapshot.incidents})
        if staged.digests:
            await self._write(Decision(), [compose_digest_card(d, now_ms=now_ms) for d in staged.digests], progress)

        async def write_failures(keys: Sequence[InstanceKey], details: Mapping[InstanceKey, Instance],
                                 errors: Mapping[InstanceKey, str]) -> None:
            parts = [complete(staged.parts[key], details, errors) for key in keys]
            await self._write_failures(parts, progress, now_ms=now_ms)
            progress.batches += 1

        detail_calls = await self._details_in_batches(staged, found, write_failures)
        card_keys = [
            (i.recovered_by.job_name, i.failed_instance_id) for i in staged.rest.intents if isinstance(i, Recovery)
        ]
        cards, card_calls = await self._cards(card_keys)
        messages = compose(staged.rest.intents, now_ms=now_ms, cards=cards)
        await self._write(staged.rest, messages, progress, cursor=window[1])
        report = CycleReport(
            profile=self.profile,
            window=window,
            listed=len(listed),
            new_failures=len(staged.failures),
            detail_calls=detail_calls + lookup_calls + card_calls,
            enqueued=progress.enqueued,
            intents=len(plan.intents),
            tracked=len(snapshot.tracked),
            late_lookups=len(late),
            batches=progress.batches,
            swept=sweep,
        )
        if plan.intents:
            log.info(
                "watcher: profile %s: %d new failure(s), %d message(s) queued",
                self.profile,
                report.new_failures,
                progress.enqueued,
                extra={"profile": self.profile, "listed": report.listed},
            )
        return report

    async def _watches(self, snapshot: _Snapshot, jobs: set[str]) -> list[Watch]:
        """The subscriptions that concern `jobs` (the cycle's listed and remembered instances), as watches: the
        snapshot's globs and follows, plus the exact watches of those jobs — not every subscription."""
        if not snapshot.any_watching:
            return []
        if not jobs:
            return [watch_of(s) for s in snapshot.general]
        async with self.store.transaction() as tx:
            subscriptions = await tx.subscriptions.list_watching(self.profile, jobs=sorted(jobs))
        return [watch_of(s) for s in subscriptions]

    def _departed(
        self, snapshot: _Snapshot, watches: Sequence[Watch], listed: set[InstanceKey], window: tuple[int, int]
    ) -> tuple[list[InstanceKey], list[InstanceKey]]:
        """The remembered unfinished instances no list of this cycle shows: (ended late — planned before the
        failure list's window, or when unknown — so their outcome must be looked up, ended without failing)."""
        departed = {key: seen for key, seen in snapshot.tracked.items() if key not in listed}
        incident_jobs = {i.job_name for i in snapshot.incidents}
        followed = {(w.target, w.instance_id) for w in watches if w.is_follow}
        watched = watched_jobs(watches, (job for job, _ in departed))
        late: list[InstanceKey] = []
        ended: list[InstanceKey] = []
        for key, seen in departed.items():
            cared_for = key in followed or key[0] in incident_jobs or key[0] in watched
            if cared_for and (seen.plan_time is None or seen.plan_time < window[0]):
                late.append(key)
            else:
                # Inside the failure list's window and not in it: it did not fail. Or nobody cares any more.
                ended.append(key)
        return late, ended

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

    async def _successes(
        self, window: tuple[int, int], plans: Mapping[str, int], jobs: set[str]
    ) -> list[InstanceSummary]:
        """Successes of `jobs` (those with open incidents). Each job's own query reaches back to its failed
        instance's planned time (`plans`), so a rerun that succeeds long after that instance was planned resolves
        the incident; they run side by side, paced by the client's rate limit. When there are more such jobs than
        the paged list of every success over the same span is worth (one probe call asks DLF how many; a full page
        carries up to 1,000 rows to send and parse, so it weighs `FULL_PAGE_WEIGHT` one-job queries), the paged
        list over the recent window is read instead: a later success still resolves, and a rerun is seen through
        the unfinished lists or by the next sweep."""
        oldest = window[1] - self.options.lookback_ms
        since = {job: max(oldest, min(window[0], plans.get(job, window[0]))) for job in jobs}
        span = (min(since.values(), default=window[0]), window[1])
        probe = await self.client.list_instances(
            status=STATUS_SUCCESS, min_plan_time=span[0], max_plan_time=span[1], limit=1
        )
        if probe.total == 0 and not probe.instances:
            return []
        pages = max(1, -(-(probe.total or 0) // self.options.page_size))
        if probe.total is not None and len(jobs) <= pages * FULL_PAGE_WEIGHT:
            gate = asyncio.Semaphore(self.options.detail_concurrency)

            async def one(job: str) -> list[InstanceSummary]:
                async with gate:
                    return await self._list(STATUS_SUCCESS, (since[job], window[1]), job_name=job)

            return [s for found in await asyncio.gather(*(one(job) for job in sorted(jobs))) for s in found]
        return [s for s in await self._list(STATUS_SUCCESS, window) if s.job_name in jobs]

    async def _known(
        self, listed: Sequence[InstanceSummary], tracked: Mapping[InstanceKey, SeenInstance]
    ) -> tuple[dict[InstanceKey, str], dict[InstanceKey, int | None]]:
        """The recorded status of each listed instance the store knows, and the run (start time) it belongs to. The
        remembered unfinished ones are known from the snapshot already; only the others are looked up."""
        seen = dict(tracked)
        others = [(s.job_name, s.instance_id) for s in listed if (s.job_name, s.instance_id) not in tracked]
        if others:
            async with self.store.transaction() as tx:
                seen.update(await tx.instances.lookup(self.profile, others))
        return (
            {key: record.status for key, record in seen.items()},
            {key: record.run_start for key, record in seen.items()},
        )

    @staticmethod
    def _unsettled_follows(watches: Sequence[Watch], listed: set[InstanceKey]) -> list[InstanceKey]:
        """Followed instances no list of this cycle shows (the lists show finished and unfinished ones alike)."""
        return [
            (w.target, w.instance_id)
            for w in watches
            if w.is_follow and w.instance_id is not None and (w.target, w.instance_id) not in listed
        ]

    async def _lookup(
        self, keys: Sequence[InstanceKey]
    ) -> tuple[dict[InstanceKey, Instance], set[InstanceKey], int]:
        """Details of instances the lists do not show (followed, or remembered unfinished ones that ended late), and
        those DLF no longer has. Any other failure leaves an instance out: it is looked up again next cycle."""
        unique = list(dict.fromkeys(keys))
        gate = asyncio.Semaphore(self.options.detail_concurrency)
        found: dict[InstanceKey, Instance] = {}
        gone: set[InstanceKey] = set()

        async def fetch(key: InstanceKey) -> None:
            async with gate:
                try:
                    found[key] = await self.client.get_instance(*key)
                except DlfNotFound:
                    log.info("watcher: instance %s/%s is gone from DLF", *key, extra={"profile": self.profile})
                    gone.add(key)
                except DlfError as exc:
                    log.warning("watcher: details of %s/%s unavailable; asking again next cycle", *key,
                                extra=_log_extra(exc, profile=self.profile))
                except (ValueError, TypeError) as exc:
                    log.error("watcher: details of %r/%r cannot be requested (%s: %s)", *key, type(exc).__name__,
                              exc, extra={"profile": self.profile})
                    gone.add(key)

        await asyncio.gather(*(fetch(key) for key in unique))
        return found, gone, len(unique)

    async def _fetch_required(self, key: InstanceKey, gate: asyncio.Semaphore) -> FetchResult:
        """Details for an alert: DLF as a whole in trouble (`TRANSIENT_DLF_ERRORS`) raises, so the cycle fails and the
        cursor stays (the alerts wait for complete cards); an error specific to this instance (bad answer, refused,
        gone, or a name the client will not send) is logged and returned as the reason, and the alert goes out with
        the list row's card — it must not hold back every other alert of the profile cycle after cycle."""
        async with gate:
            try:
                return await self.client.get_instance(*key), None
            except (ValueError, TypeError) as exc:
                # The client refuses to send this name or id (".." as a job name, a negative id): an odd row of
                # DLF's own list. It concerns this instance only and must not crash the cycle.
                log.error(
                    "watcher: details of %r/%r cannot be requested (%s: %s); alerting with the list row",
                    *key,
                    type(exc).__name__,
                    exc,
                    extra={"profile": self.profile},
                )
                return None, f"the bot cannot ask DLF about this instance ({exc})."
            except DlfError as exc:
                if isinstance(exc, TRANSIENT_DLF_ERRORS):
                    raise
                log.error(
                    "watcher: details of %s/%s could not be fetched (%s); alerting with the list row",
                    *key,
                    type(exc).__name__,
                    extra=_log_extra(exc, profile=self.profile),
                )
                return None, details_error_reason(exc)

    async def _details_in_batches(
        self,
        staged: Staged,
        known: Mapping[InstanceKey, Instance],
        write: Callable[[Sequence[InstanceKey], Mapping[InstanceKey, Instance], Mapping[InstanceKey, str]],
                        Awaitable[None]],
    ) -> int:
        """Fetch the new failures' details side by side (the client's rate limit paces them) and hand them to
        `write` oldest first, as soon as they are in: the first at once, then in batches of `detail_batch` or every
        `detail_flush_s`. Returns how many calls were made. DLF as a whole failing stops it (what was written
        stays; the rest is redone by the next cycle)."""
        order = list(staged.failures)
        details: dict[InstanceKey, Instance] = {key: known[key] for key in order if key in known}
        errors: dict[InstanceKey, str] = {}
        gate = asyncio.Semaphore(self.options.detail_concurrency)
        tasks = {
            key: asyncio.create_task(self._fetch_required(key, gate)) for key in order if key not in details
        }
        loop = asyncio.get_running_loop()
        written, wrote_once, last_write = 0, False, loop.time()
        try:
            while written < len(order):
                running = [task for task in tasks.values() if not task.done()]
                if running:
                    await asyncio.wait(running, timeout=self.options.detail_flush_s,
                                       return_when=asyncio.FIRST_COMPLETED)
                for key, task in tasks.items():
                    if task.done() and key not in details and key not in errors:
                        instance, reason = task.result()
                        if instance is not None:
                            details[key] = instance
                        else:
                            errors[key] = reason or "DLF gave no details."
                ready = written
                while ready < len(order) and (order[ready] in details or order[ready] in errors):
                    ready += 1
                due = (
                    not wrote_once
                    or ready == len(order)
                    or ready - written >= self.options.detail_batch
                    or loop.time() - last_write >= self.options.detail_flush_s
                )
                if ready > written and due:
                    await write(order[written:ready], details, errors)
                    written, wrote_once, last_write = ready, True, loop.time()
        finally:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
        return len(tasks)

    async def _cards(self, keys: Sequence[InstanceKey]) -> tuple[dict[InstanceKey, Instance], int]:
        """Details of the failed instances whose incidents recover, to redraw their cards as resolved; a missing one
        is redrawn from what the recovery knows."""
        unique = list(dict.fromkeys(keys))
        gate = asyncio.Semaphore(self.options.detail_concurrency)
        found: dict[InstanceKey, Instance] = {}

        async def fetch(key: InstanceKey) -> None:
            async with gate:
                try:
                    found[key] = await self.client.get_instance(*key)
                except DlfError as exc:
                    log.warning("watcher: details of %s/%s unavailable; its card is redrawn without them", *key,
                                extra=_log_extra(exc, profile=self.profile))
                except (ValueError, TypeError):
                    log.warning("watcher: details of %r/%r cannot be requested", *key, extra={"profile": self.profile})

        await asyncio.gather(*(fetch(key) for key in unique))
        return found, len(unique)

    async def _write_failures(self, parts: Sequence[Decision], progress: _Progress, *, now_ms: int) -> None:
        """New failures' parts in one transaction. Each is claimed first (`Instances.claim`): one another cycle has
        written meanwhile (overlapping replicas) is left out whole — its alerts, status and incident change."""
        async with self.store.transaction() as tx:
            claimed: list[Decision] = []
            for part in parts:
                if all([await tx.instances.claim(self.profile, item) for item in part.seen]):
                    claimed.append(part)
            merged = merge(claimed)
            await self._apply(tx, replace(merged, seen=()), compose(merged.intents, now_ms=now_ms), progress)

    async def _write(
        self,
        decision: Decision,
        messages: Sequence[OutboxMessage],
        progress: _Progress,
        *,
        cursor: int | None = None,
    ) -> None:
        """Seen statuses, incidents and outbox rows in one transaction, all or nothing; with `cursor`, the cycle's
        last stage: finished follows, the settled ones removed, and the cursor advanced."""
        async with self.store.transaction() as tx:
            await self._apply(tx, decision, messages, progress)
            if cursor is None:
                return
            for subscription_id in decision.finished_follows:
                await tx.subscriptions.end(subscription_id)
            await self._settle_ended_follows(tx)
            await tx.watcher_state.heartbeat(self.profile, cursor=cursor)

    async def _apply(
        self, tx: Transaction, decision: Decision, messages: Sequence[OutboxMessage], progress: _Progress
    ) -> None:
        """Seen statuses, incident changes and outbox rows, inside `tx`."""
        if decision.seen:
            await tx.instances.record(self.profile, decision.seen)
        await self._apply_incidents(tx, decision, progress.incident_ids)
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
            progress.enqueued += int(inserted)
            if inserted and message.job_name is not None:
                jobs_by_channel.setdefault(message.channel, set()).add(message.job_name)
        for channel, jobs in jobs_by_channel.items():
            # The subscriptions were read when the cycle began: a channel that unwatched a job since must not get
            # its alerts after all.
            await tx.subscriptions.cancel_unwatched(channel=channel, profile=self.profile, jobs=jobs)

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
        self, tx: Transaction, decision: Decision, ids: dict[tuple[str, str], int]
    ) -> None:
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
            elif isinstance(change, IncidentFailedAgain | IncidentResolved):
                if key not in ids:
                    # Opened by an overlapping cycle since this one read the incidents.
                    found = [i for i in await tx.incidents.unresolved(self.profile, [change.job_name])
                             if i.channel == change.channel]
                    if not found:
                        continue
                    ids[key] = found[0].id
                if isinstance(change, IncidentFailedAgain):
                    await tx.incidents.record_failure(ids[key], change.instance_id)
                else:
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
