"""What the watcher's decision reads: the statuses and events it knows, and one cycle's input (`CycleInput`).

The poller maps store records onto these (`Watch` for a subscription, `KnownIncident` for an unresolved incident)
and adds what DLF returned; `bot.watcher.decide.decide()` turns it into a `bot.watcher.intents.Decision`. Pure data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from bot.dlf.models import Instance, InstanceSummary
from bot.incidents.view import StoredIncident

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
DEFAULT_ESCALATE_AFTER_MS = 15 * 60_000

InstanceKey = tuple[str, int]


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
    team: str | None = None  # the channel's Slack team: a new incident records it (actions check it)
    escalate_after_s: int | None = None  # None: the bot's default (`CycleInput.escalate_after_ms`); 0: never remind

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
    state: str = "open"  # "open" | "acknowledged", as stored: a repeat failure redraws the card with it
    acknowledged_by: str | None = None
    incident_id: int | None = None
    # The stored incident itself: every redraw of its card is built from it (`bot.incidents.view.incident_view`),
    # so a repeat failure or a recovery keeps who acknowledged it and when, the rerun, the timings.
    record: StoredIncident | None = None
    # The instance a rerun in flight reruns (the stored rerun slot is taken): its end is the rerun follower's story
    # (`bot.watcher.reruns`), not the decision's.
    rerun_instance_id: int | None = None
    card_queued: bool = True  # False: a mute held its card back (never enqueued) — the next message posts it first


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
    # (channel, job) -> id of the mute in force: its failures are recorded (incident, count) but not posted.
    mutes: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # When a new incident's escalation reminder is due if nobody acknowledges it (DLF_ESCALATE_AFTER; None: off),
    # unless its subscription says otherwise.
    escalate_after_ms: int | None = DEFAULT_ESCALATE_AFTER_MS


def instance_from_summary(summary: InstanceSummary) -> Instance:
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
    "DEFAULT_ESCALATE_AFTER_MS",
    "EVENT_FAILURE",
    "EVENT_RUNNING_EXCEPTION",
    "EVENT_SUCCESS",
    "FAILURE_EVENTS",
    "OPERATOR_OVERRIDES",
    "STATUS_ENDED",
    "STATUS_FAIL",
    "STATUS_RUNNING_EXCEPTION",
    "STATUS_SUCCESS",
    "TRACKED_STATUSES",
    "CycleInput",
    "InstanceKey",
    "KnownIncident",
    "Watch",
    "instance_from_summary",
]
