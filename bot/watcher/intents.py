"""What the watcher's decision says: intents (what Slack must be told) and store changes (what to remember).

    Alert          a new failure: a new card that opens an incident (or a reply in a digest's thread)
    Digest         many new failures in one channel at once: one summary, the alerts in its thread
    RepeatFailure  the job failed again while its incident is unresolved: a thread reply + the card redrawn
    Recovery       a success resolved the incident: a thread reply + the card redrawn as resolved
    FollowOutcome  a followed instance finished (or hit a running exception it asked for)

Each intent carries its outbox key (`bot.watcher.keys`). `bot.watcher.compose` turns intents into outbox rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.dlf.models import Instance, InstanceSummary
from bot.incidents.view import StoredIncident


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
    state: str = "open"  # where the incident stands (as stored): the redrawn card shows it
    acknowledged_by: str | None = None
    mentions: tuple[str, ...] = ()
    details_error: str | None = None  # as in Alert
    error_message: str | None = None
    incident: StoredIncident | None = None  # the stored incident: the card is redrawn from it (`incident_view`)
    card_queued: bool = True  # False: its card was held back by a mute — post it first


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
    acknowledged_by: str | None = None  # who had acknowledged the incident, if anyone: the resolved card keeps it
    incident: StoredIncident | None = None  # the stored incident: the card is redrawn from it (`incident_view`)
    card_queued: bool = True  # False: its card was held back by a mute that has ended — post it first


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
    escalate_after_ms: int | None = None  # the reminder is due this long after it opens (None: no reminder)
    escalation_mention: str | None = None  # whom the reminder mentions (the subscription's mention target)
    team: str | None = None  # the channel's Slack team, from its subscription
    muted: bool = False  # opened under a mute: its reminder is held back until the mute ends, then due that long later


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


@dataclass(frozen=True, kw_only=True)
class MuteCounted:
    """A failure of (channel, job) that the mute `mute_id` held back: counted on the mute (unmute says how many).
    `instance_id` is the failure's, so the count goes with it when the poller writes it."""

    channel: str
    job_name: str
    instance_id: int
    mute_id: int


IncidentChange = IncidentOpened | IncidentFailedAgain | IncidentResolved | MuteCounted


@dataclass(frozen=True, kw_only=True)
class Decision:
    """What one cycle must say and what the store must remember, to be written in one transaction."""

    intents: tuple[Intent, ...] = ()
    # (job, instance id, status, run start, planned time) to upsert; None keeps what the store has
    seen: tuple[tuple[str, int, str, int | None, int | None], ...] = ()
    incident_changes: tuple[IncidentChange, ...] = ()
    finished_follows: tuple[int, ...] = ()  # subscription ids of one-off follows that ended


def intent_order(intents: list[Intent]) -> list[Intent]:
    """New cards first (their threads must exist before replies), then replies, recoveries and follow outcomes."""
    rank = {Alert: 0, Digest: 0, RepeatFailure: 1, Recovery: 2, FollowOutcome: 3}
    return sorted(intents, key=lambda intent: rank[type(intent)])


__all__ = [
    "Alert",
    "Decision",
    "Digest",
    "FollowOutcome",
    "IncidentChange",
    "IncidentFailedAgain",
    "IncidentOpened",
    "IncidentResolved",
    "Intent",
    "MuteCounted",
    "Recovery",
    "RepeatFailure",
    "intent_order",
]
