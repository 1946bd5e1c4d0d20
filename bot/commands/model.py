"""Typed commands: what `/dlf ...` text parses into, before any I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

# What `/dlf instances --status` filters on (DLF's spelling of the statuses people ask about).
INSTANCE_STATUS_FILTERS = ("fail", "success", "running")

# Events a subscription can be notified of. "failure" is the default; "success" only makes sense for one-off
# follows of a single instance ("tell me how it ends").
EVENTS = ("failure", "running-exception", "success")


@dataclass(frozen=True)
class HelpCommand:
    """`/dlf`, `/dlf help`, `/dlf help <subcommand>`, `/dlf help <thread verb>` (`ack`, `rerun`, …)."""

    subcommand: ClassVar[str] = "help"

    topic: str | None = None


@dataclass(frozen=True)
class InstanceCommand:
    """`/dlf instance <job> <instance_id>`: show one instance's card."""

    subcommand: ClassVar[str] = "instance"

    job: str
    instance_id: int
    profile: str | None = None


@dataclass(frozen=True)
class Escalation:
    """When an unacknowledged incident gets its reminder: `after_s` seconds after it opened; None = never."""

    after_s: int | None


ESCALATION_OFF = Escalation(after_s=None)


@dataclass(frozen=True)
class WatchCommand:
    """`/dlf watch <job|'glob'> [instance_id] [--on failure,running-exception,success] [--mention @user|@group]`."""

    subcommand: ClassVar[str] = "watch"

    target: str
    is_pattern: bool = False
    instance_id: int | None = None
    events: tuple[str, ...] = ("failure",)
    # A Slack mention token as Slack sent it ("<@U123>", "<!subteam^S123>"), or a handle typed as text ("@oncall",
    # `bot.commands.is_handle`) that the caller looks up in Slack before subscribing.
    mention: str | None = None
    profile: str | None = None
    # Whether the user gave `--on` / `--mention` (`--mention none` gives "no mention"). Re-running `watch` on a
    # subscription keeps what it has for an option not given; a new subscription takes the defaults above.
    events_given: bool = True
    mention_given: bool = True
    # `--escalate 30m` / `--escalate off`; None: not given (a new subscription takes DLF_ESCALATE_AFTER, a repeat
    # keeps what it has).
    escalate: Escalation | None = None


@dataclass(frozen=True)
class UnwatchCommand:
    """`/dlf unwatch <job|'glob'>`."""

    subcommand: ClassVar[str] = "unwatch"

    target: str
    instance_id: int | None = None
    profile: str | None = None


@dataclass(frozen=True)
class WatchesCommand:
    """`/dlf watches [--profile NAME]`: this channel's subscriptions (of one profile) and mutes, and their state."""

    subcommand: ClassVar[str] = "watches"

    profile: str | None = None


@dataclass(frozen=True)
class InstancesCommand:
    """`/dlf instances <job> [--status fail|success|running] [--since 6h] [--profile NAME]`: recent instances."""

    subcommand: ClassVar[str] = "instances"

    job: str
    status: str | None = None  # one of INSTANCE_STATUS_FILTERS; None: every status
    since_s: int | None = None  # how far back (planned time); None: DLF's default window (today)
    profile: str | None = None


@dataclass(frozen=True)
class MuteCommand:
    """`/dlf mute <job> <30m|4h|24h|…|forever>`: record this job's failures here but post nothing."""

    subcommand: ClassVar[str] = "mute"

    target: str
    duration_s: int | None = None  # None: until `/dlf unmute`


@dataclass(frozen=True)
class UnmuteCommand:
    """`/dlf unmute <job>`: post this job's failures again."""

    subcommand: ClassVar[str] = "unmute"

    target: str


@dataclass(frozen=True)
class AuditCommand:
    """`/dlf audit [job] [--since 7d]`: who did what (operators only)."""

    subcommand: ClassVar[str] = "audit"

    job: str | None = None
    since_s: int = 7 * 86400


Command = (
    HelpCommand
    | InstanceCommand
    | WatchCommand
    | UnwatchCommand
    | WatchesCommand
    | InstancesCommand
    | MuteCommand
    | UnmuteCommand
    | AuditCommand
)

__all__ = [
    "ESCALATION_OFF",
    "EVENTS",
    "INSTANCE_STATUS_FILTERS",
    "AuditCommand",
    "Command",
    "Escalation",
    "HelpCommand",
    "InstanceCommand",
    "InstancesCommand",
    "MuteCommand",
    "UnmuteCommand",
    "UnwatchCommand",
    "WatchCommand",
    "WatchesCommand",
]
