"""What the watcher must say, given what the store knows and what DLF returned this cycle. Pure: no I/O, no clock.

The poller gathers a `CycleInput` (subscriptions, instance statuses the store already recorded, unresolved
incidents, the instance lists DLF returned, details fetched for new failures and followed instances) and calls
`decide()`. The answer is a `Decision`: the intents (what Slack must be told) and the store changes (seen
statuses, incidents, finished follows) that the poller writes in ONE transaction with the outbox rows.

Rules (each has a row in tests/watcher/test_decide.py):
- Only a change of state alerts: an instance the store already knows as failed never alerts again — unless it is
  a new run of it (an operator reran it and the rerun failed again: same status, another start time), which is a new
  failure of the same instance.
- Instances an operator marked force-success / ignore-failure are never alerted.
- `running-exception` alerts only subscriptions that asked for it.
- A broken subscription (Slack refused its channel) is told all the same: its messages are queued, and the
  deliverer holds them until the channel is repaired (re-watched), so no failure of the broken period is lost.
- Subscriptions match job names exactly, or as a glob (`fnmatch.fnmatchcase`, so `etl_*` is case-sensitive).
- Several subscriptions of one channel matching one job give that channel one alert (mentions merged).
- A one-off follow of an instance whose failure its channel is alerted about anyway (a watch of the job) adds its
  mention to that alert instead of saying the same failure a second time; the follow still ends.
- A failure of a job whose incident is still unresolved in that channel is a thread reply plus a card update with
  the failure counter, not a new alert.
- A later success of the job (a higher instance id) or a successful rerun of its last failed instance resolves the
  incident: a thread reply plus a card update. DLF instance ids grow over time; that is what "later" means here.
- A followed instance (`/dlf watch job 123`) that finished gets one outcome message if the follow asked for that
  outcome (`--on`), and the follow ends whatever the outcome. `running-exception` does not end it: it is said once
  per run, if asked for, and the follow goes on. A finished status that is no event (stopped by hand) is always said:
  the follow ends, and silence would leave the channel waiting for an outcome that never comes.
- A failure whose details DLF would not give (an error specific to that instance) is alerted all the same: the
  intent carries why (`details_error`) and DLF's list-row `errorMessage`, and the card is built from the list row.
- Unfinished instances (`TRACKED_STATUSES`) of jobs someone watches, follows or has an open incident for are
  remembered with their planned time: the poller follows them until they end, however late, and looks their
  outcome up when they leave the unfinished lists. One that left them without being listed as failed (the poller
  says so in `CycleInput.ended`) is remembered as `STATUS_ENDED`.
- More than `digest_threshold` new alerts for one channel in one cycle become one digest at top level, with the
  individual alerts as replies in its thread.
- A job muted in a channel (`CycleInput.mutes`): its failures there are recorded (the incident opens, the failure is
  counted on it and on the mute) and its success still resolves the incident, but nothing is said: no card, no reply.
  Once the mute is over, the next message of that incident posts its card first (`KnownIncident.card_queued`).
- An incident whose rerun is in flight (the stored rerun slot is taken): how that rerun ends (the rerun instance
  failing again or succeeding) is the rerun follower's story (`bot.watcher.reruns`), never also the decision's — one
  story per event. A later instance succeeding still resolves it here.
- A new incident's escalation reminder is due `escalate_after_ms` after it opens (the subscription's
  `--escalate`, else the bot's default; off when every watch of the channel says off), mentioning the channel's
  first mention target. A muted job's incident keeps its delay (`muted`): the writer holds the reminder back until
  the mute ends, then it is due that long later.

The poller writes a decision in stages (`bot.watcher.staging`). Every intent carries a deterministic `key` (the
outbox's unique key, `bot.watcher.keys`), so replaying a cycle yields the same keys and no second message.

    inputs.py   what the decision reads (CycleInput, Watch, KnownIncident, statuses and events)
    intents.py  what it says (Alert, Digest, RepeatFailure, Recovery, FollowOutcome) and the store changes
    matching.py who hears about a job (exact names, globs, follows)
    keys.py     the outbox key scheme
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from bot.dlf.models import Instance, InstanceSummary
from bot.watcher.follows import follow_outcomes
from bot.watcher.inputs import (
    FAILURE_EVENTS,
    OPERATOR_OVERRIDES,
    STATUS_ENDED,
    STATUS_SUCCESS,
    TRACKED_STATUSES,
    CycleInput,
    InstanceKey,
    KnownIncident,
    Watch,
    instance_from_summary,
)
from bot.watcher.intents import (
    Alert,
    Decision,
    Digest,
    IncidentChange,
    IncidentFailedAgain,
    IncidentOpened,
    IncidentResolved,
    Intent,
    MuteCounted,
    Recovery,
    RepeatFailure,
    intent_order,
)
from bot.watcher.keys import alert_key, digest_key, recovery_keys, repeat_keys
from bot.watcher.matching import WatchIndex, follows_by_instance, with_follower_mentions


def is_overridden(summary: InstanceSummary | Instance) -> bool:
    """An operator marked the outcome (force-success / ignore-failure): nothing to alert."""
    return summary.force_success or summary.ignore_success or summary.status in OPERATOR_OVERRIDES


def is_new_run(cycle: CycleInput, summary: InstanceSummary) -> bool:
    """The listed row is another run than the one the store recorded for it (an operator reran the instance).

    A row recorded without its run (before runs were kept), or listed without a start time, counts as the same run:
    better one missed rerun than a second alert for a failure already said."""
    recorded = cycle.runs.get((summary.job_name, summary.instance_id))
    return recorded is not None and summary.start_time is not None and summary.start_time != recorded


def _is_news(cycle: CycleInput, summary: InstanceSummary, previous: str | None) -> bool:
    return previous != summary.status or is_new_run(cycle, summary)


def relevant_failures(cycle: CycleInput) -> list[InstanceKey]:
    """Failures new to the store (or new runs of known ones) some subscription will hear about: their details must be
    fetched.

    This is the whole detail-fetch budget of a cycle, so it must not grow with the number of subscriptions.
    """
    wanted: list[InstanceKey] = []
    index = WatchIndex(cycle.watches)
    for summary in _ordered(cycle.listed):
        event = FAILURE_EVENTS.get(summary.status)
        if event is None or is_overridden(summary):
            continue
        key = (summary.job_name, summary.instance_id)
        if not _is_news(cycle, summary, cycle.known.get(key)) or key in wanted:
            continue
        if any(event in events for events in index.channel_events(summary.job_name).values()):
            wanted.append(key)
    return wanted


def decide(cycle: CycleInput) -> Decision:
    """Compare what DLF returned with what the store knows and say what must be said. See the module docstring."""
    walk = _Walk(cycle)
    for summary in _ordered(cycle.listed):
        walk.visit(summary)
    return walk.decision()


@dataclass(frozen=True, kw_only=True)
class _Failure:
    """One listed failure that is news, as every channel hearing of it sees it."""

    summary: InstanceSummary
    event: str
    instance: Instance  # its details, or a card-ready instance built from the list row
    details_error: str | None
    new_run: bool  # another run than the one the store recorded
    rerun: bool  # it succeeded or ran again since its recorded status, or this is another run of it
    previous: str | None  # the status the store recorded

    @property
    def key(self) -> InstanceKey:
        return self.summary.job_name, self.summary.instance_id


@dataclass
class _Walk:
    """The decision's working state while it walks the listed instances, oldest first."""

    cycle: CycleInput
    incidents: dict[tuple[str, str], KnownIncident] = field(init=False)
    known: dict[InstanceKey, str] = field(init=False)
    index: WatchIndex = field(init=False)
    follows: dict[InstanceKey, list[Watch]] = field(init=False)
    incident_jobs: set[str] = field(init=False)
    intents: list[Intent] = field(default_factory=list)
    alerts_by_channel: dict[str, list[Alert]] = field(default_factory=dict)
    seen: dict[InstanceKey, tuple[str, int | None, int | None]] = field(default_factory=dict)
    changes: list[IncidentChange] = field(default_factory=list)
    # (channel, instance, event) a standing watch's alert (or thread reply) tells: a follow need not say it again.
    told: set[tuple[str, InstanceKey, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.incidents = {(inc.channel, inc.job_name): inc for inc in self.cycle.incidents}
        self.known = dict(self.cycle.known)
        self.index = WatchIndex(self.cycle.watches)
        self.follows = follows_by_instance(self.cycle.watches)
        self.incident_jobs = {inc.job_name for inc in self.cycle.incidents}

    def remember(self, summary: InstanceSummary) -> None:
        key = (summary.job_name, summary.instance_id)
        self.seen[key] = (summary.status, summary.start_time, summary.plan_time)
        self.known[key] = summary.status

    def visit(self, summary: InstanceSummary) -> None:
        key = (summary.job_name, summary.instance_id)
        previous = self.known.get(key)
        if not _is_news(self.cycle, summary, previous):
            if key not in self.seen and self.cycle.runs.get(key) is None and summary.start_time is not None:
                # A row recorded before runs were kept learns its run.
                self.seen[key] = (summary.status, summary.start_time, summary.plan_time)
            return
        event = FAILURE_EVENTS.get(summary.status)
        if event is not None:
            self.remember(summary)
            if not is_overridden(summary):
                self.failed(self.failure(summary, event, previous))
        elif summary.status == STATUS_SUCCESS:
            if self.recover(summary) or previous is not None:
                self.remember(summary)
        elif previous is not None or self.followed(summary):
            # A known instance moved on (e.g. a rerun is running again), or an unfinished one somebody cares about:
            # remember it (with its planned time) so the poller follows it and its failure, however late, is news.
            self.remember(summary)

    def followed(self, summary: InstanceSummary) -> bool:
        """An unfinished instance somebody follows, watches or has an open incident for."""
        return summary.status in TRACKED_STATUSES and (
            (summary.job_name, summary.instance_id) in self.follows
            or summary.job_name in self.incident_jobs
            or bool(self.index.channel_events(summary.job_name))
        )

    def failure(self, summary: InstanceSummary, event: str, previous: str | None) -> _Failure:
        key = (summary.job_name, summary.instance_id)
        details = self.cycle.details.get(key)
        new_run = is_new_run(self.cycle, summary)
        return _Failure(
            summary=summary,
            event=event,
            instance=details or instance_from_summary(summary),
            details_error=None if details is not None else self.cycle.detail_errors.get(key),
            new_run=new_run,
            rerun=previous is not None and (previous not in FAILURE_EVENTS or new_run),
            previous=previous,
        )

    def failed(self, failure: _Failure) -> None:
        """Tell every channel that asked for this event: a new alert, or a reply in its unresolved incident."""
        job = failure.summary.job_name
        mentions = self.index.channel_mentions(job)
        for channel, events in self.index.channel_events(job).items():
            if failure.event not in events:
                continue
            self.told.add((channel, failure.key, failure.event))
            channel_mentions = with_follower_mentions(
                mentions.get(channel, ()), self.follows.get(failure.key, ()), channel=channel, event=failure.event
            )
            incident = self.incidents.get((channel, job))
            if incident is not None and incident.rerun_instance_id == failure.summary.instance_id:
                continue  # the rerun in flight failed again: the rerun follower says so
            mute_id = self.cycle.mutes.get((channel, job))
            if incident is None:
                self.alert(failure, channel, channel_mentions, muted=mute_id is not None)
            else:
                self.repeat(failure, incident, channel_mentions, muted=mute_id is not None)
            if mute_id is not None:
                self.changes.append(
                    MuteCounted(channel=channel, job_name=job, instance_id=failure.summary.instance_id, mute_id=mute_id)
                )

    def alert(self, failure: _Failure, channel: str, mentions: tuple[str, ...], *, muted: bool = False) -> None:
        summary, profile = failure.summary, self.cycle.profile
        alert = Alert(
            key=alert_key(profile=profile, channel=channel, instance=summary, event=failure.event, rerun=failure.rerun),
            channel=channel,
            profile=profile,
            event=failure.event,
            instance=failure.instance,
            mentions=mentions,
            details_error=failure.details_error,
            error_message=summary.error_message,
        )
        if not muted:
            self.alerts_by_channel.setdefault(channel, []).append(alert)
        self.incidents[(channel, summary.job_name)] = KnownIncident(
            channel=channel,
            job_name=summary.job_name,
            root_key=alert.key,
            last_instance_id=summary.instance_id,
            card_queued=not muted,
        )
        standing = self.index.channel_mentions(summary.job_name).get(channel, ())
        self.changes.append(
            IncidentOpened(
                channel=channel,
                job_name=summary.job_name,
                instance_id=summary.instance_id,
                root_key=alert.key,
                escalate_after_ms=self.escalate_after(channel, summary.job_name),
                escalation_mention=standing[0] if standing else None,
                team=next((w.team for w in self.index.matching(summary.job_name) if w.channel == channel), None),
                muted=muted,
            )
        )

    def escalate_after(self, channel: str, job_name: str) -> int | None:
        """How long after it opens a new incident of `job_name` in `channel` is reminded: the shortest of its
        standing watches' `--escalate` (a watch without one uses the default); None when all say off."""
        delays: list[int] = []
        for watch in self.index.matching(job_name):
            if watch.channel != channel or watch.is_follow:
                continue
            if watch.escalate_after_s is None:
                if self.cycle.escalate_after_ms is not None:
                    delays.append(self.cycle.escalate_after_ms)
            elif watch.escalate_after_s > 0:
                delays.append(watch.escalate_after_s * 1000)
        return min(delays) if delays else None

    def repeat(
        self, failure: _Failure, incident: KnownIncident, mentions: tuple[str, ...], *, muted: bool = False
    ) -> None:
        summary = failure.summary
        # The same run of the incident's last instance moving from running-exception to fail is not a new failure;
        # another instance, or another run of the same instance (seen running meanwhile, or with another start
        # time), is.
        same_failure = (
            incident.last_instance_id == summary.instance_id
            and not failure.new_run
            and failure.previous in FAILURE_EVENTS
        )
        count = incident.failure_count if same_failure else incident.failure_count + 1
        key, update_key = repeat_keys(
            root_key=incident.root_key, instance=summary, event=failure.event, rerun=failure.rerun
        )
        repeat = RepeatFailure(
            key=key,
            update_key=update_key,
            channel=incident.channel,
            profile=self.cycle.profile,
            event=failure.event,
            root_key=incident.root_key,
            failure_count=count,
            instance=failure.instance,
            state=incident.state,
            acknowledged_by=incident.acknowledged_by,
            mentions=mentions,
            details_error=failure.details_error,
            error_message=summary.error_message,
            incident=incident.record,
            card_queued=incident.card_queued,
        )
        if not muted:
            self.intents.append(repeat)
        self.incidents[(incident.channel, summary.job_name)] = replace(
            incident,
            last_instance_id=summary.instance_id,
            failure_count=count,
            card_queued=incident.card_queued or not muted,
        )
        if not same_failure:
            self.changes.append(
                IncidentFailedAgain(
                    channel=incident.channel, job_name=summary.job_name, instance_id=summary.instance_id
                )
            )

    def recover(self, summary: InstanceSummary) -> bool:
        """Resolve every unresolved incident of this job that `summary` (a success) recovers. True if any was."""
        recovered_any = False
        told_channels = set(self.index.channel_events(summary.job_name))
        for (channel, job_name), incident in list(self.incidents.items()):
            if job_name != summary.job_name or summary.instance_id < incident.last_instance_id:
                continue
            if incident.rerun_instance_id == summary.instance_id:
                continue  # the rerun in flight succeeded: the rerun follower resolves it and says so
            reason = "rerun" if summary.instance_id == incident.last_instance_id else "later_success"
            del self.incidents[(channel, job_name)]
            self.changes.append(
                IncidentResolved(channel=channel, job_name=job_name, instance_id=summary.instance_id, reason=reason)
            )
            recovered_any = True
            if channel in told_channels and (channel, job_name) not in self.cycle.mutes:
                # (Unsubscribed since: the incident closes quietly.)
                self.intents.append(self.recovery(incident, summary, reason))
        return recovered_any

    def recovery(self, incident: KnownIncident, summary: InstanceSummary, reason: str) -> Recovery:
        key, update_key = recovery_keys(root_key=incident.root_key)
        return Recovery(
            key=key,
            update_key=update_key,
            channel=incident.channel,
            profile=self.cycle.profile,
            root_key=incident.root_key,
            failure_count=incident.failure_count,
            failed_instance_id=incident.last_instance_id,
            recovered_by=summary,
            reason=reason,
            acknowledged_by=incident.acknowledged_by,
            incident=incident.record,
            card_queued=incident.card_queued,
        )

    def decision(self) -> Decision:
        for key in self.cycle.ended:
            self.seen.setdefault(key, (STATUS_ENDED, None, None))
        for channel in self.index.channels:
            alerts = self.alerts_by_channel.get(channel, [])
            if len(alerts) > self.cycle.digest_threshold:
                self.intents.append(_digest(self.cycle.profile, channel, alerts))
            else:
                self.intents.extend(alerts)
        outcomes, finished = follow_outcomes(self.cycle, self.told)
        self.intents.extend(outcomes)
        return Decision(
            intents=tuple(intent_order(self.intents)),
            seen=tuple((job, iid, status, run, plan) for (job, iid), (status, run, plan) in self.seen.items()),
            incident_changes=tuple(self.changes),
            finished_follows=tuple(finished),
        )


def _digest(profile: str, channel: str, alerts: list[Alert]) -> Digest:
    key = digest_key(profile=profile, channel=channel, alert_keys=(a.key for a in alerts))
    mentions: list[str] = []
    for alert in alerts:
        mentions.extend(m for m in alert.mentions if m not in mentions)
    # The digest pings once; 200 replies pinging again would be the storm we avoid.
    threaded = tuple(replace(a, mentions=(), digest_key=key) for a in alerts)
    return Digest(key=key, channel=channel, profile=profile, alerts=threaded, mentions=tuple(mentions))


def _ordered(listed: Iterable[InstanceSummary]) -> list[InstanceSummary]:
    """De-duplicated by (job, id), oldest instance first; DLF ids grow over time."""
    unique: dict[InstanceKey, InstanceSummary] = {}
    for summary in listed:
        unique[(summary.job_name, summary.instance_id)] = summary
    return sorted(unique.values(), key=lambda s: (s.instance_id, s.job_name))


__all__ = [
    "decide",
    "is_new_run",
    "is_overridden",
    "relevant_failures",
]
