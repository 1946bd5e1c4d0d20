"""What the store hands out: plain frozen records, detached from any session."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

SubscriptionState = Literal["active", "broken"]
IncidentState = Literal["open", "acknowledged", "resolved"]
# "requested": the claim is taken, DLF not yet answered; "running": DLF accepted it, the poll cycle follows it;
# "unknown": DLF's answer was lost (a timeout after sending) — the poll cycle finds out from the instance.
RerunState = Literal["requested", "running", "unknown"]
OutboxKind = Literal["alert", "digest", "thread_reply", "update", "follow_outcome"]
# "cancelled": the channel stopped watching the job before the message went out (`/dlf unwatch`).
OutboxStatus = Literal["pending", "sent", "failed_permanent", "cancelled"]

OUTBOX_KINDS: tuple[str, ...] = ("alert", "digest", "thread_reply", "update", "follow_outcome")


@dataclass(frozen=True)
class Subscription:
    """A channel's watch on a job, a glob of jobs, or (instance_id set) one instance until it ends."""

    id: int
    team: str | None
    channel: str
    profile: str
    target: str
    is_pattern: bool
    instance_id: int | None
    events: tuple[str, ...]
    mention: str | None
    state: SubscriptionState
    broken_reason: str | None
    created_by: str
    created_at: int
    ended_at: int | None = None  # a follow whose instance ended while its channel was broken (held until repair)
    escalate_after_s: int | None = None  # None: the bot's default; 0: never remind


def watch_repairs_channel(channel_states: Iterable[str], *, existing_state: str | None) -> bool:
    """Whether a watch repairs its channel: it re-activates a broken subscription (`existing_state`, the state of
    the subscription it repeats, None for a new one), or every subscription the channel has (`channel_states`,
    before the watch) is broken, so its messages were held. Someone fixed the channel and re-watched: what Slack
    refused meanwhile is queued again, and the held messages go out."""
    if existing_state == "broken":
        return True
    states = set(channel_states)
    return "broken" in states and "active" not in states


@dataclass(frozen=True)
class SeenInstance:
    """An instance the watcher has already handled, and the status it had then."""

    profile: str
    job_name: str
    instance_id: int
    status: str
    first_seen_at: int
    last_status_at: int
    run_start: int | None = None  # DLF's start time of the run that had `status` (None: not recorded)
    plan_time: int | None = None  # DLF's planned time of the instance (None: not recorded)


@dataclass(frozen=True)
class Incident:
    """One failure streak of one job in one channel; its alert card is the outbox row `root_key`."""

    id: int
    channel: str
    profile: str
    job_name: str
    first_instance_id: int
    last_instance_id: int
    failure_count: int
    state: IncidentState
    root_key: str
    root_ts: str | None
    opened_at: int
    updated_at: int
    acknowledged_by: str | None
    acknowledged_at: int | None
    resolved_by: str | None
    resolved_at: int | None
    resolution: str | None
    team: str | None = None
    escalate_at: int | None = None  # the reminder is due then (None: none pending)
    escalation_mention: str | None = None
    escalated_at: int | None = None
    escalate_after_ms: int | None = None  # the escalation delay (None: off); a mute's end sets it due again
    rerun_state: RerunState | None = None  # None: no rerun in flight
    rerun_seq: int = 0  # how many reruns were asked for (the current one's number)
    rerun_by: str | None = None
    rerun_from: str | None = None  # "error_node" | "first_node"
    rerun_instance_id: int | None = None
    rerun_run_start: int | None = None  # DLF's start of the run before the rerun: a later start is the rerun's
    rerun_requested_at: int | None = None
    rerun_progress: str | None = None  # the last progress shown, "3/7"
    recovered_by_rerun_of: str | None = None  # who asked for the rerun that resolved it

    @property
    def is_open(self) -> bool:
        return self.state != "resolved"


@dataclass(frozen=True)
class Mute:
    """A job muted in a channel: its failures are recorded but not posted until `until_at` (None: until unmuted)."""

    id: int
    team: str | None
    channel: str
    profile: str
    job_name: str
    until_at: int | None
    created_by: str
    created_at: int
    suppressed: int = 0

    def active_at(self, now_ms: int) -> bool:
        return self.until_at is None or now_ms < self.until_at


@dataclass(frozen=True)
class OutboxRow:
    """One Slack message to send (or card to update), exactly once."""

    id: int
    key: str
    channel: str
    kind: str
    payload: dict[str, Any]
    parent_key: str | None
    thread_ts: str | None
    status: OutboxStatus
    attempts: int
    next_attempt_at: int
    last_error: str | None
    sent_ts: str | None
    sent_thread_ts: str | None
    created_at: int
    sent_at: int | None
    settled_attempts: int = 0  # attempts known not to have posted; fewer than attempts - 1: look before re-posting
    profile: str | None = None
    job_name: str | None = None
    in_doubt_since: int | None = None  # an attempt's outcome unknown since then (held until history says)
    failing_since: int | None = None  # first failed attempt (cleared when sent)


@dataclass(frozen=True)
class AuditEntry:
    """Who did what, when."""

    id: int
    at: int
    actor: str
    action: str
    channel: str | None
    target: str | None
    details: dict[str, Any] | None
    outcome: str | None = None  # "ok" | "refused" | "failed" | "unknown"


@dataclass(frozen=True)
class WatcherState:
    """Per DLF profile: where polling got to and whether it is alive."""

    profile: str
    cursor: int | None
    heartbeat_at: int | None
    last_success_at: int | None
    last_error: str | None
    last_error_at: int | None
    failing_since: int | None = None  # the first failed cycle since the last success (None: not failing)


__all__ = [
    "OUTBOX_KINDS",
    "AuditEntry",
    "Incident",
    "IncidentState",
    "Mute",
    "RerunState",
    "OutboxKind",
    "OutboxRow",
    "OutboxStatus",
    "SeenInstance",
    "Subscription",
    "SubscriptionState",
    "WatcherState",
    "watch_repairs_channel",
]
