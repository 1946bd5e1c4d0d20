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

The poller writes a decision in stages (`stage()`): the digests first, then each new failure's part as soon as its
details arrive (`complete()` puts them on the card), then the rest with the cursor. Each part holds everything that
concerns its failure (intents, seen status, incident change), so a crash between stages leaves nothing half said.

Every intent carries a deterministic `key` (the outbox's unique key): computed from the data alone, so replaying
a cycle after a crash, or a second replica running the same cycle, yields the same keys and no second message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase

from bot.dlf.models import FINISHED_INSTANCE_STATUSES, Instance, InstanceSummary

EVENT_FAILURE = "failure"
EVENT_RUNNING_EXCEPTION = "running-exception"
EVENT_SUCCESS = "success"

STATUS_FAIL = "fail"
STATUS_RUNNING_EXCEPTION = "running-exception"
STATUS_SUCCESS = "success"
# Unfinished statuses the poller lists every cycle (in this order: each one an instance can move on to comes after
# it, so one moving on between two list calls is in one of them) and follows in the store until the instance ends.
TRACKED_STATUSES = ("waiting", "running", STATUS_RUNNING_EXCEPTION)
# The store's status for a followed instance that left the unfinished statuses without being listed as failed: it
# succeeded, was stopped or paused... (a success that matters — an incident's — is listed, so is a failure).
STATUS_ENDED = "ended"

# Instance status -> the subscription event it raises.
FAILURE_EVENTS = {STATUS_FAIL: EVENT_FAILURE, STATUS_RUNNING_EXCEPTION: EVENT_RUNNING_EXCEPTION}
OPERATOR_OVERRIDES = frozenset({"forceSuccess", "ignoreSuccess"})
DEFAULT_DIGEST_THRESHOLD = 5

InstanceKey = tuple[str, int]
# The outbox's key column holds 255 characters; a long job name must not make a key unstorable.
MAX_KEY_LENGTH = 255


@dataclass(frozen=True, kw_only=True)
class Watch:
    """A subscription as the decision sees it (the poller maps store records onto this)."""

    channel: str
    target: str
    is_pattern: bool = False
    instance_id: int | None = None
    events: tuple[str, ...] = (EVENT_FAILURE,)
    mention: str | None = None
    state: str = "active"
    subscription_id: int | None = None

    @property
    def is_follow(self) -> bool:
        """A one-off follow of a single instance rather than a standing watch of a job."""
        return self.instance_id is not None

    def matches(self, job_name: str) -> bool:
        """Exact name, or a case-sensitive glob (DLF job names are case-sensitive)."""
        if self.is_pattern:
            return fnmatchcase(job_name, self.target)
        return job_name == self.target


@dataclass(frozen=True, kw_only=True)
class KnownIncident:
    """An unresolved incident (one failure streak of one job in one channel)."""

    channel: str
    job_name: str
    root_key: str
    last_instance_id: int
    failure_count: int = 1
    state: str = "open"
    incident_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class CycleInput:
    """Everything one decision needs for one DLF profile."""

    profile: str
    watches: Sequence[Watch]
    known: Mapping[InstanceKey, str]  # (job, instance id) -> last status the store recorded
    # (job, instance id) -> start time of the run that status belongs to, where the store recorded one
    runs: Mapping[InstanceKey, int | None] = field(default_factory=dict)
    incidents: Sequence[KnownIncident]
    listed: Sequence[InstanceSummary]  # what DLF's instance list returned this cycle (any statuses)
    details: Mapping[InstanceKey, Instance] = field(default_factory=dict)
    # Why DLF would not give an instance's details (an error specific to that instance): it is alerted all the same,
    # with a card built from its list row that says so.
    detail_errors: Mapping[InstanceKey, str] = field(default_factory=dict)
    digest_threshold: int = DEFAULT_DIGEST_THRESHOLD
    # Followed unfinished instances that are in none of this cycle's lists and not failed: remembered as ended.
    ended: Sequence[InstanceKey] = ()


# --- intents: what must be said ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Alert:
    """A new failure: a new card in the channel (or a reply in a digest's thread) that opens an incident."""

    key: str
    channel: str
    profile: str
    event: str
    instance: Instance
    mentions: tuple[str, ...] = ()
    digest_key: str | None = None  # set when the alert goes into a digest's thread
    details_error: str | None = None  # set when the card is built from the list row: why details were not fetched
    error_message: str | None = None  # DLF's errorMessage from the list row (the card shows it with details_error)


@dataclass(frozen=True, kw_only=True)
class Digest:
    """Many new failures in one channel at once: one top-level summary; the alerts go in its thread."""

    key: str
    channel: str
    profile: str
    alerts: tuple[Alert, ...]
    mentions: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RepeatFailure:
    """The job failed again while its incident is unresolved: a thread reply and the card updated (counter)."""

    key: str
    update_key: str
    channel: str
    profile: str
    event: str
    root_key: str
    failure_count: int
    instance: Instance
    mentions: tuple[str, ...] = ()
    details_error: str | None = None  # as in Alert
    error_message: str | None = None


@dataclass(frozen=True, kw_only=True)
class Recovery:
    """A successful rerun or a later success resolved the incident: a thread reply and the card updated."""

    key: str
    update_key: str
    channel: str
    profile: str
    root_key: str
    failure_count: int
    failed_instance_id: int
    recovered_by: InstanceSummary
    reason: str  # "rerun" (the failed instance succeeded) | "later_success"


@dataclass(frozen=True, kw_only=True)
class FollowOutcome:
    """A followed instance finished: one message with its outcome."""

    key: str
    channel: str
    profile: str
    instance: Instance
    mentions: tuple[str, ...] = ()


Intent = Alert | Digest | RepeatFailure | Recovery | FollowOutcome


# --- store changes -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class IncidentOpened:
    """Open an incident for (channel, job); its card is the message with outbox key `root_key`."""

    channel: str
    job_name: str
    instance_id: int
    root_key: str


@dataclass(frozen=True, kw_only=True)
class IncidentFailedAgain:
    """Count one more failure on the unresolved incident of (channel, job)."""

    channel: str
    job_name: str
    instance_id: int


@dataclass(frozen=True, kw_only=True)
class IncidentResolved:
    """Resolve the unresolved incident of (channel, job) automatically."""

    channel: str
    job_name: str
    instance_id: int
    reason: str


IncidentChange = IncidentOpened | IncidentFailedAgain | IncidentResolved


@dataclass(frozen=True, kw_only=True)
class Decision:
    """What one cycle must say and what the store must remember, to be written in one transaction."""

    intents: tuple[Intent, ...] = ()
    # (job, instance id, status, run start, planned time) to upsert; None keeps what the store has
    seen: tuple[tuple[str, int, str, int | None, int | None], ...] = ()
    incident_changes: tuple[IncidentChange, ...] = ()
    finished_follows: tuple[int, ...] = ()  # subscription ids of one-off follows that ended


# --- the decision ------------------------------------------------------------------------------------------------


def is_overridden(summary: InstanceSummary | Instance) -> bool:
    """An operator marked the outcome (force-success / ignore-failure): nothing to alert."""
    return summary.force_success or summary.ignore_success or summary.status in OPERATOR_OVERRIDES


def bounded_key(key: str) -> str:
    """`key` itself when it fits the outbox column, else a prefix plus a digest of the whole (still deterministic)."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"{key[: MAX_KEY_LENGTH - len(digest) - 1]}~{digest}"


def alert_key(*, profile: str, channel: str, instance: InstanceSummary | Instance, event: str, rerun: bool) -> str:
    """The outbox key of a failure alert. A failure of a rerun (a new run of a known instance) gets its run's start."""
    key = f"alert:{profile}:{channel}:{instance.job_name}:{instance.instance_id}:{event}"
    if rerun:
        key += f":run{instance.start_time or 0}"
    return bounded_key(key)


def follow_key(*, profile: str, channel: str, job_name: str, instance_id: int) -> str:
    """The outbox key of a follow's outcome message (its instance finished)."""
    return bounded_key(f"follow:{profile}:{channel}:{job_name}:{instance_id}")


def digest_key(*, profile: str, channel: str, alert_keys: Iterable[str]) -> str:
    """The outbox key of a digest: a digest of the alert keys it gathers, so a replayed cycle yields the same."""
    digest = hashlib.sha256("\n".join(sorted(alert_keys)).encode()).hexdigest()[:16]
    return f"digest:{profile}:{channel}:{digest}"


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
    index = _WatchIndex(cycle.watches)
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
    profile = cycle.profile
    incidents: dict[tuple[str, str], KnownIncident] = {
        (inc.channel, inc.job_name): inc for inc in cycle.incidents
    }
    known = dict(cycle.known)
    intents: list[Intent] = []
    alerts_by_channel: dict[str, list[Alert]] = {}
    seen: dict[InstanceKey, tuple[str, int | None, int | None]] = {}
    changes: list[IncidentChange] = []
    index = _WatchIndex(cycle.watches)
    follows = _follows_by_instance(cycle.watches)
    incident_jobs = {inc.job_name for inc in cycle.incidents}
    # (channel, instance, event) a standing watch's alert (or thread reply) tells: a follow need not say it again.
    told: set[tuple[str, InstanceKey, str]] = set()

    for summary in _ordered(cycle.listed):
        key = (summary.job_name, summary.instance_id)
        previous = known.get(key)
        if not _is_news(cycle, summary, previous):
            if key not in seen and cycle.runs.get(key) is None and summary.start_time is not None:
                # A row recorded before runs were kept learns its run.
                seen[key] = (summary.status, summary.start_time, summary.plan_time)
            continue
        new_run = is_new_run(cycle, summary)
        event = FAILURE_EVENTS.get(summary.status)
        if event is not None:
            seen[key] = (summary.status, summary.start_time, summary.plan_time)
            known[key] = summary.status
            if is_overridden(summary):
                continue
            details = cycle.details.get(key)
            instance = details or _instance_from_summary(summary)
            details_error = None if details is not None else cycle.detail_errors.get(key)
            error_message = summary.error_message
            # A rerun: the instance succeeded or ran again since its recorded status, or this is another run of it.
            rerun = previous is not None and (previous not in FAILURE_EVENTS or new_run)
            mentions = index.channel_mentions(summary.job_name)
            for channel, events in index.channel_events(summary.job_name).items():
                if event not in events:
                    continue
                told.add((channel, key, event))
                channel_mentions = _with_follower_mentions(
                    mentions.get(channel, ()), follows.get(key, ()), channel=channel, event=event
                )
                incident = incidents.get((channel, summary.job_name))
                if incident is None:
                    alert = Alert(
                        key=alert_key(profile=profile, channel=channel, instance=summary, event=event, rerun=rerun),
                        channel=channel,
                        profile=profile,
                        event=event,
                        instance=instance,
                        mentions=channel_mentions,
                        details_error=details_error,
                        error_message=error_message,
                    )
                    alerts_by_channel.setdefault(channel, []).append(alert)
                    incidents[(channel, summary.job_name)] = KnownIncident(
                        channel=channel,
                        job_name=summary.job_name,
                        root_key=alert.key,
                        last_instance_id=summary.instance_id,
                    )
                    changes.append(
                        IncidentOpened(
                            channel=channel,
                            job_name=summary.job_name,
                            instance_id=summary.instance_id,
                            root_key=alert.key,
                        )
                    )
                    continue
                # The same run of the incident's last instance moving from running-exception to fail is not a new
                # failure; another instance, or another run of the same instance (seen running meanwhile, or with
                # another start time), is.
                same_failure = (
                    incident.last_instance_id == summary.instance_id and not new_run and previous in FAILURE_EVENTS
                )
                count = incident.failure_count if same_failure else incident.failure_count + 1
                suffix = f"{summary.job_name}:{summary.instance_id}:{event}"
                if rerun:
                    suffix += f":run{summary.start_time or 0}"
                intents.append(
                    RepeatFailure(
                        key=bounded_key(f"repeat:{incident.root_key}:{suffix}"),
                        update_key=bounded_key(f"update:{incident.root_key}:{suffix}"),
                        channel=channel,
                        profile=profile,
                        event=event,
                        root_key=incident.root_key,
                        failure_count=count,
                        instance=instance,
                        mentions=channel_mentions,
                        details_error=details_error,
                        error_message=error_message,
                    )
                )
                incidents[(channel, summary.job_name)] = KnownIncident(
                    channel=channel,
                    job_name=summary.job_name,
                    root_key=incident.root_key,
                    last_instance_id=summary.instance_id,
                    failure_count=count,
                    state=incident.state,
                    incident_id=incident.incident_id,
                )
                if not same_failure:
                    changes.append(
                        IncidentFailedAgain(
                            channel=channel, job_name=summary.job_name, instance_id=summary.instance_id
                        )
                    )
            continue

        if summary.status == STATUS_SUCCESS:
            recovered = _recover(cycle, index, summary, incidents, intents, changes)
            if previous is not None or recovered:
                seen[key] = (summary.status, summary.start_time, summary.plan_time)
                known[key] = summary.status
            continue

        followed = summary.status in TRACKED_STATUSES and (
            key in follows or summary.job_name in incident_jobs or bool(index.channel_events(summary.job_name))
        )
        if previous is not None or followed:
            # A known instance moved on (e.g. a rerun is running again), or an unfinished one somebody cares about:
            # remember it (with its planned time) so the poller follows it and its failure, however late, is news.
            seen[key] = (summary.status, summary.start_time, summary.plan_time)
            known[key] = summary.status

    for key in cycle.ended:
        seen.setdefault(key, (STATUS_ENDED, None, None))

    for channel in index.channels:
        alerts = alerts_by_channel.get(channel, [])
        if len(alerts) > cycle.digest_threshold:
            intents.append(_digest(profile, channel, alerts))
        else:
            intents.extend(alerts)

    outcomes, finished = _follow_outcomes(cycle, told)
    intents.extend(outcomes)
    return Decision(
        intents=tuple(_intent_order(intents)),
        seen=tuple(
            (job, instance_id, status, run, plan) for (job, instance_id), (status, run, plan) in seen.items()
        ),
        incident_changes=tuple(changes),
        finished_follows=tuple(finished),
    )


def _recover(
    cycle: CycleInput,
    index: _WatchIndex,
    summary: InstanceSummary,
    incidents: dict[tuple[str, str], KnownIncident],
    intents: list[Intent],
    changes: list[IncidentChange],
) -> bool:
    """Resolve every unresolved incident of this job that `summary` (a success) recovers. True if any was."""
    recovered_any = False
    told_channels = set(index.channel_events(summary.job_name))
    for (channel, job_name), incident in list(incidents.items()):
        if job_name != summary.job_name or summary.instance_id < incident.last_instance_id:
            continue
        reason = "rerun" if summary.instance_id == incident.last_instance_id else "later_success"
        del incidents[(channel, job_name)]
        changes.append(
            IncidentResolved(channel=channel, job_name=job_name, instance_id=summary.instance_id, reason=reason)
        )
        recovered_any = True
        if channel not in told_channels:
            # Unsubscribed since: close the incident quietly.
            continue
        intents.append(
            Recovery(
                key=bounded_key(f"recovered:{incident.root_key}"),
                update_key=bounded_key(f"update:{incident.root_key}:resolved"),
                channel=channel,
                profile=cycle.profile,
                root_key=incident.root_key,
                failure_count=incident.failure_count,
                failed_instance_id=incident.last_instance_id,
                recovered_by=summary,
                reason=reason,
            )
        )
    return recovered_any


def follow_event(status: str) -> str | None:
    """The `--on` event a followed instance's status is, if any (stopped by hand, say, is none)."""
    if status == STATUS_SUCCESS or status in OPERATOR_OVERRIDES:
        return EVENT_SUCCESS
    return FAILURE_EVENTS.get(status)


def _follows_by_instance(watches: Sequence[Watch]) -> dict[InstanceKey, list[Watch]]:
    found: dict[InstanceKey, list[Watch]] = {}
    for watch in watches:
        if watch.is_follow and watch.instance_id is not None:
            found.setdefault((watch.target, watch.instance_id), []).append(watch)
    return found


def _with_follower_mentions(
    mentions: Sequence[str], followers: Iterable[Watch], *, channel: str, event: str
) -> tuple[str, ...]:
    """The alert's mentions plus those of the channel's follows of the instance that asked for this event (the
    alert says what their outcome message would have said)."""
    merged = list(mentions)
    for follow in followers:
        if follow.channel == channel and event in follow.events and follow.mention and follow.mention not in merged:
            merged.append(follow.mention)
    return tuple(merged)


def _follow_outcomes(
    cycle: CycleInput, told: set[tuple[str, InstanceKey, str]]
) -> tuple[list[FollowOutcome], list[int]]:
    """Per follow: the outcome message if it asked for it and no alert of this cycle says it already (`told`), and
    the follows that end (their instance finished)."""
    latest: dict[InstanceKey, Instance] = {
        (s.job_name, s.instance_id): _instance_from_summary(s) for s in cycle.listed
    }
    latest.update(cycle.details)
    outcomes: list[FollowOutcome] = []
    finished: list[int] = []
    for watch in cycle.watches:
        if not watch.is_follow or watch.instance_id is None:
            continue
        instance = latest.get((watch.target, watch.instance_id))
        if instance is None:
            continue
        ends = instance.status in FINISHED_INSTANCE_STATUSES
        event = follow_event(instance.status)
        key = f"follow:{cycle.profile}:{watch.channel}:{watch.target}:{watch.instance_id}"
        if not ends:
            if event != EVENT_RUNNING_EXCEPTION or event not in watch.events:
                continue
            # Said once per run: the follow goes on, and a later run may hit it again.
            key += f":{event}:run{instance.start_time or 0}"
        else:
            key = follow_key(
                profile=cycle.profile, channel=watch.channel, job_name=watch.target, instance_id=watch.instance_id
            )
        said_by_alert = event is not None and (watch.channel, (watch.target, watch.instance_id), event) in told
        if (event is None or event in watch.events) and not said_by_alert:
            outcomes.append(
                FollowOutcome(
                    key=bounded_key(key),
                    channel=watch.channel,
                    profile=cycle.profile,
                    instance=instance,
                    mentions=(watch.mention,) if watch.mention else (),
                )
            )
        if ends and watch.subscription_id is not None:
            finished.append(watch.subscription_id)
    return outcomes, finished


def _digest(profile: str, channel: str, alerts: list[Alert]) -> Digest:
    key = digest_key(profile=profile, channel=channel, alert_keys=(a.key for a in alerts))
    mentions: list[str] = []
    for alert in alerts:
        mentions.extend(m for m in alert.mentions if m not in mentions)
    # The digest pings once; 200 replies pinging again would be the storm we avoid.
    threaded = tuple(replace(a, mentions=(), digest_key=key) for a in alerts)
    return Digest(key=key, channel=channel, profile=profile, alerts=threaded, mentions=tuple(mentions))


def watched_jobs(watches: Sequence[Watch], job_names: Iterable[str]) -> set[str]:
    """The names among `job_names` a standing watch (not a follow) matches, exactly or by glob."""
    index = _WatchIndex(watches)
    return {name for name in set(job_names) if index.matching(name)}


# --- staged writing ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Staged:
    """A decision cut into what the poller writes one transaction after another (see the module docstring)."""

    digests: tuple[Digest, ...]  # first: the storm threads the alerts go in (each digest card alone, no alerts)
    failures: tuple[InstanceKey, ...]  # the new failures said this cycle, oldest first: their details are wanted
    parts: Mapping[InstanceKey, Decision]  # per failure: its alerts / thread replies, seen status, incident changes
    rest: Decision  # last, with the cursor: recoveries, follow outcomes, every other seen status, finished follows


def _failure_key(intent: Alert | RepeatFailure) -> InstanceKey:
    return intent.instance.job_name, intent.instance.instance_id


def stage(decision: Decision) -> Staged:
    """Cut `decision` into its stages. Nothing is lost or repeated: the parts and the rest hold every intent and
    store change exactly once (a digest's alerts are in their failures' parts)."""
    intents: dict[InstanceKey, list[Intent]] = {}
    digests: list[Digest] = []
    rest_intents: list[Intent] = []
    for intent in decision.intents:
        if isinstance(intent, Digest):
            digests.append(intent)
            for alert in intent.alerts:
                intents.setdefault(_failure_key(alert), []).append(alert)
        elif isinstance(intent, Alert | RepeatFailure):
            intents.setdefault(_failure_key(intent), []).append(intent)
        else:
            rest_intents.append(intent)
    failures = tuple(sorted(intents, key=lambda key: (key[1], key[0])))
    seen: dict[InstanceKey, list[tuple[str, int, str, int | None, int | None]]] = {}
    rest_seen: list[tuple[str, int, str, int | None, int | None]] = []
    for item in decision.seen:
        if (item[0], item[1]) in intents:
            seen.setdefault((item[0], item[1]), []).append(item)
        else:
            rest_seen.append(item)
    changes: dict[InstanceKey, list[IncidentChange]] = {}
    rest_changes: list[IncidentChange] = []
    for change in decision.incident_changes:
        key = (change.job_name, change.instance_id)
        if not isinstance(change, IncidentResolved) and key in intents:
            changes.setdefault(key, []).append(change)
        else:
            rest_changes.append(change)
    parts = {
        key: Decision(
            intents=tuple(_intent_order(intents[key])),
            seen=tuple(seen.get(key, ())),
            incident_changes=tuple(changes.get(key, ())),
        )
        for key in failures
    }
    rest = Decision(
        intents=tuple(rest_intents),
        seen=tuple(rest_seen),
        incident_changes=tuple(rest_changes),
        finished_follows=decision.finished_follows,
    )
    return Staged(digests=tuple(digests), failures=failures, parts=parts, rest=rest)


def merge(parts: Iterable[Decision]) -> Decision:
    """Several parts as one decision (their order kept; new cards before the replies that need them)."""
    chosen = list(parts)
    return Decision(
        intents=tuple(_intent_order([i for p in chosen for i in p.intents])),
        seen=tuple(item for p in chosen for item in p.seen),
        incident_changes=tuple(c for p in chosen for c in p.incident_changes),
        finished_follows=tuple(f for p in chosen for f in p.finished_follows),
    )


def complete(
    part: Decision, details: Mapping[InstanceKey, Instance], detail_errors: Mapping[InstanceKey, str]
) -> Decision:
    """`part` with the details fetched for its failure on its cards, or the reason they could not be (the card is
    then built from the list row and says why)."""

    def completed(intent: Intent) -> Intent:
        if not isinstance(intent, Alert | RepeatFailure):
            return intent
        key = _failure_key(intent)
        if key in details:
            return replace(intent, instance=details[key], details_error=None)
        if key in detail_errors:
            return replace(intent, details_error=detail_errors[key])
        return intent

    return replace(part, intents=tuple(completed(i) for i in part.intents))


def _intent_order(intents: list[Intent]) -> list[Intent]:
    """New cards first (their threads must exist before replies), then replies, recoveries and follow outcomes."""
    rank = {Alert: 0, Digest: 0, RepeatFailure: 1, Recovery: 2, FollowOutcome: 3}
    return sorted(intents, key=lambda intent: rank[type(intent)])


def _ordered(listed: Iterable[InstanceSummary]) -> list[InstanceSummary]:
    """De-duplicated by (job, id), oldest instance first; DLF ids grow over time."""
    unique: dict[InstanceKey, InstanceSummary] = {}
    for summary in listed:
        unique[(summary.job_name, summary.instance_id)] = summary
    return sorted(unique.values(), key=lambda s: (s.instance_id, s.job_name))


class _WatchIndex:
    """The standing watches (broken ones too: their messages are held until repair), found by exact job name or by trying each pattern: matching one job costs
    O(patterns), not O(subscriptions) — 500 failures against 10,000 subscriptions stay cheap."""

    def __init__(self, watches: Sequence[Watch]) -> None:
        # Channels in first-subscribed order, so intents come out in a stable order.
        self.channels: list[str] = list(dict.fromkeys(w.channel for w in watches))
        self._rank = {channel: n for n, channel in enumerate(self.channels)}
        self._exact: dict[str, list[tuple[int, Watch]]] = {}
        self._patterns: list[tuple[int, Watch]] = []
        for position, watch in enumerate(watches):
            if watch.is_follow:
                continue
            if watch.is_pattern:
                self._patterns.append((position, watch))
            else:
                self._exact.setdefault(watch.target, []).append((position, watch))

    def matching(self, job_name: str) -> list[Watch]:
        """The watches of `job_name`, by channel then in subscription order."""
        found = self._exact.get(job_name, []) + [(p, w) for p, w in self._patterns if w.matches(job_name)]
        found.sort(key=lambda item: (self._rank[item[1].channel], item[0]))
        return [watch for _, watch in found]

    def channel_events(self, job_name: str) -> dict[str, set[str]]:
        """Per channel, the union of events its watches of this job asked for."""
        events: dict[str, set[str]] = {}
        for watch in self.matching(job_name):
            events.setdefault(watch.channel, set()).update(watch.events)
        return events

    def channel_mentions(self, job_name: str) -> dict[str, tuple[str, ...]]:
        """Per channel, the distinct mentions its watches of this job asked for."""
        mentions: dict[str, list[str]] = {}
        for watch in self.matching(job_name):
            found = mentions.setdefault(watch.channel, [])
            if watch.mention and watch.mention not in found:
                found.append(watch.mention)
        return {channel: tuple(found) for channel, found in mentions.items() if found}


def _instance_from_summary(summary: InstanceSummary) -> Instance:
    """A card-ready instance when no details were fetched (or DLF no longer has them): no nodes."""
    return Instance(
        job_name=summary.job_name,
        instance_id=summary.instance_id,
        status=summary.status,
        plan_time=summary.plan_time,
        start_time=summary.start_time,
        end_time=summary.end_time,
        execute_time=summary.execute_time,
        instance_type=summary.instance_type,
        force_success=summary.force_success,
        ignore_success=summary.ignore_success,
    )


__all__ = [
    "DEFAULT_DIGEST_THRESHOLD",
    "EVENT_FAILURE",
    "EVENT_RUNNING_EXCEPTION",
    "EVENT_SUCCESS",
    "STATUS_ENDED",
    "STATUS_FAIL",
    "STATUS_RUNNING_EXCEPTION",
    "STATUS_SUCCESS",
    "TRACKED_STATUSES",
    "Alert",
    "CycleInput",
    "Decision",
    "Digest",
    "FollowOutcome",
    "IncidentChange",
    "IncidentFailedAgain",
    "IncidentOpened",
    "IncidentResolved",
    "InstanceKey",
    "Intent",
    "KnownIncident",
    "Recovery",
    "RepeatFailure",
    "Staged",
    "Watch",
    "alert_key",
    "bounded_key",
    "complete",
    "decide",
    "digest_key",
    "follow_event",
    "follow_key",
    "is_new_run",
    "is_overridden",
    "merge",
    "relevant_failures",
    "stage",
    "watched_jobs",
]
