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

    poll_options.py  PollOptions and the windows;  listing.py  the lists;  details.py  instance details, once each
    writer.py        the staged writes (seen statuses, incidents, outbox rows, cursor)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.dlf.client import DlfClient
from bot.dlf.models import Instance, InstanceSummary, summary_of
from bot.errors import DlfError
from bot.store import Incident, SeenInstance, Store, Subscription
from bot.watcher.compose import compose, compose_digest_card
from bot.watcher.decide import decide
from bot.watcher.details import TRANSIENT_DLF_ERRORS, CycleDetails, log_extra
from bot.watcher.escalation import send_due_reminders
from bot.watcher.inputs import STATUS_FAIL, TRACKED_STATUSES, CycleInput, InstanceKey, KnownIncident, Watch
from bot.watcher.intents import Decision, Recovery
from bot.watcher.listing import Lister
from bot.watcher.matching import watched_jobs
from bot.watcher.poll_options import (
    DEFAULT_LOOKBACK_MS,
    DEFAULT_OVERLAP_MS,
    DLF_MAX_RANGE_MS,
    HOUR_MS,
    PollOptions,
    time_windows,
    window_for,
)
from bot.watcher.reruns import RerunFollower
from bot.watcher.staging import Staged, complete, stage
from bot.watcher.writer import CycleWriter, Progress

log = logging.getLogger(__name__)


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
    held_cards: set[str] = field(default_factory=set)  # root keys of incidents whose card a mute held back


@dataclass(frozen=True, kw_only=True)
class _Gathered:
    """What one cycle learned before deciding."""

    listed: list[InstanceSummary]
    watches: list[Watch]
    found: dict[InstanceKey, Instance]  # details of instances the lists did not show
    late: list[InstanceKey]  # remembered unfinished instances that ended late (looked up)
    ended: list[InstanceKey]
    known: dict[InstanceKey, str]
    runs: dict[InstanceKey, int | None]


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
        team=subscription.team,
        escalate_after_s=subscription.escalate_after_s,
    )


def known_incident(incident: Incident, *, card_queued: bool = True) -> KnownIncident:
    """The decision's view of a store incident (`card_queued` False: a mute held its card back)."""
    return KnownIncident(
        channel=incident.channel,
        job_name=incident.job_name,
        root_key=incident.root_key,
        last_instance_id=incident.last_instance_id,
        failure_count=incident.failure_count,
        state=incident.state,
        acknowledged_by=incident.acknowledged_by,
        incident_id=incident.id,
        record=incident,
        rerun_instance_id=incident.rerun_instance_id if incident.rerun_state is not None else None,
        card_queued=card_queued,
    )


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
        self._lister = Lister(client=client, options=self.options)
        self._writer = CycleWriter(store=store, profile=profile)
        self._reruns = RerunFollower(
            profile=profile, client=client, store=store, start_wait_ms=self.options.rerun_start_wait_ms
        )

    async def run_cycle(self) -> CycleReport:
        """One cycle. DLF failing is reported (and the cursor stays); a database failure raises."""
        now_ms = self._clock()
        # Before the snapshot: what the follower concludes (a rerun's end) is then known to the decision.
        await self._reruns.follow(now_ms)
        await send_due_reminders(self.store, self.profile)
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
                extra=log_extra(exc, profile=self.profile),
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
            # Cards a mute held back: of the incidents whose card has no ts yet (queued, or never queued), one query.
            unsent = [i.root_key for i in incidents if i.root_ts is None]
            held = set(unsent) - await tx.outbox.existing_keys(unsent) if unsent else set()
        snapshot = _Snapshot(
            cursor=state.cursor if state else None, incidents=incidents, any_watching=any_watching, general=general
        )
        snapshot.tracked = {(t.job_name, t.instance_id): t for t in tracked}
        snapshot.held_cards = held
        for incident in incidents:
            seen = failed.get((incident.job_name, incident.last_instance_id))
            if seen is not None and seen.plan_time is not None:
                plans = snapshot.incident_plans
                plans[incident.job_name] = min(plans.get(incident.job_name, seen.plan_time), seen.plan_time)
        return snapshot

    async def _cycle(self, snapshot: _Snapshot, window: tuple[int, int], now_ms: int, *, sweep: bool) -> CycleReport:
        details = CycleDetails(client=self.client, profile=self.profile, concurrency=self.options.detail_concurrency)
        gathered = await self._gather(snapshot, window, now_ms, details)
        plan = decide(
            CycleInput(
                profile=self.profile,
                watches=gathered.watches,
                known=gathered.known,
                runs=gathered.runs,
                incidents=[
                    known_incident(i, card_queued=i.root_key not in snapshot.held_cards) for i in snapshot.incidents
                ],
                listed=gathered.listed,
                details=gathered.found,
                ended=gathered.ended,
                digest_threshold=self.options.digest_threshold,
                mutes=await self._mutes(gathered.listed, snapshot.incidents),
                escalate_after_ms=self.options.escalate_after_ms,
            )
        )
        staged = stage(plan)
        progress = await self._write_stages(staged, details, snapshot, cursor=window[1], now_ms=now_ms)
        report = CycleReport(
            profile=self.profile,
            window=window,
            listed=len(gathered.listed),
            new_failures=len(staged.failures),
            detail_calls=details.calls,
            enqueued=progress.enqueued,
            intents=len(plan.intents),
            tracked=len(snapshot.tracked),
            late_lookups=len(gathered.late),
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

    async def _gather(
        self, snapshot: _Snapshot, window: tuple[int, int], now_ms: int, details: CycleDetails
    ) -> _Gathered:
        """What DLF says this cycle (the lists, and the details of what they do not show) and what the store knew."""
        listed = await self._lists(snapshot, window, now_ms)
        listed_keys = {(s.job_name, s.instance_id) for s in listed}
        watches = await self._watches(snapshot, {job for job, _ in listed_keys | snapshot.tracked.keys()})
        late, ended = self._departed(snapshot, watches, listed_keys, window)
        found, gone = await details.lookup([*late, *self._unsettled_follows(watches, listed_keys)])
        listed += [summary_of(found[key]) for key in late if key in found]
        ended += [key for key in late if key in gone]
        known, runs = await self._known(listed, snapshot.tracked)
        return _Gathered(listed=listed, watches=watches, found=found, late=late, ended=ended, known=known, runs=runs)

    async def _lists(self, snapshot: _Snapshot, window: tuple[int, int], now_ms: int) -> list[InstanceSummary]:
        """The unfinished instances over the lookback, the failures in `window`, the open incidents' successes."""
        listed: list[InstanceSummary] = []
        if snapshot.any_watching or snapshot.incidents:
            # Oldest status first: an instance moving on between two of these calls is in one of them.
            lookback = (now_ms - self.options.lookback_ms, now_ms)
            for status in TRACKED_STATUSES:
                listed += await self._lister.list(status, lookback)
        failed = await self._lister.list(STATUS_FAIL, window)
        listed += failed
        # The successes of the jobs with open incidents, and of the jobs failing now: a success listed in the same
        # cycle as the failure before it resolves that failure's incident, instead of a later failure being taken
        # for a repeat of it.
        plans = dict(snapshot.incident_plans)
        for summary in failed:
            planned = summary.plan_time if summary.plan_time is not None else window[0]
            plans[summary.job_name] = min(plans.get(summary.job_name, planned), planned)
        jobs = {i.job_name for i in snapshot.incidents} | {s.job_name for s in failed}
        if jobs:
            listed += await self._lister.successes(window, plans, jobs)
        return listed

    async def _write_stages(
        self, staged: Staged, details: CycleDetails, snapshot: _Snapshot, *, cursor: int, now_ms: int
    ) -> Progress:
        """Digest cards first; each new failure as its details arrive; last, with the cursor, everything else."""
        progress = Progress(incident_ids={(i.channel, i.job_name): i.id for i in snapshot.incidents})
        writer = self._writer
        if staged.digests:
            await writer.write(Decision(), [compose_digest_card(d, now_ms=now_ms) for d in staged.digests], progress)

        async def write_failures(
            keys: Sequence[InstanceKey], found: Mapping[InstanceKey, Instance], errors: Mapping[InstanceKey, str]
        ) -> None:
            await writer.failures([complete(staged.parts[key], found, errors) for key in keys], progress, now_ms=now_ms)
            progress.batches += 1

        await details.stream(
            staged.failures, write_failures, batch=self.options.detail_batch, flush_s=self.options.detail_flush_s
        )
        recovered = [
            (i.recovered_by.job_name, i.failed_instance_id) for i in staged.rest.intents if isinstance(i, Recovery)
        ]
        cards = await details.cards(recovered)
        await writer.write(
            staged.rest, compose(staged.rest.intents, now_ms=now_ms, cards=cards), progress, cursor=cursor
        )
        return progress

    async def _mutes(
        self, listed: Sequence[InstanceSummary], incidents: Sequence[Incident]
    ) -> dict[tuple[str, str], int]:
        """The mutes in force on the jobs this cycle lists or has incidents for: (channel, job) -> mute id."""
        jobs = sorted({s.job_name for s in listed} | {i.job_name for i in incidents})
        if not jobs:
            return {}
        async with self.store.transaction() as tx:
            mutes = await tx.mutes.active(self.profile, jobs)
        return {(m.channel, m.job_name): m.id for m in mutes}

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


__all__ = [
    "DEFAULT_LOOKBACK_MS",
    "DEFAULT_OVERLAP_MS",
    "DLF_MAX_RANGE_MS",
    "HOUR_MS",
    "TRANSIENT_DLF_ERRORS",
    "CycleReport",
    "PollOptions",
    "ProfilePoller",
    "time_windows",
    "window_for",
]
