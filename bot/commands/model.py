"""Typed commands: what `/dlf ...` text parses into, before any I/O."""

from __future__ import annotations

from dataclasses import dataclass

# Events a subscription can be notified of. "failure" is the default; "success" only makes sense for one-off
# follows of a single instance ("tell me how it ends").
EVENTS = ("failure", "running-exception", "success")


@dataclass(frozen=True)
class HelpCommand:
    """`/dlf`, `/dlf help`, `/dlf help <subcommand>`."""

    topic: str | None = None


@dataclass(frozen=True)
class InstanceCommand:
    """`/dlf instance <job> <instance_id>`: show one instance's card."""

    job: str
    instance_id: int
    profile: str | None = None


@dataclass(frozen=True)
class WatchCommand:
    """`/dlf watch <job|'glob'> [instance_id] [--on failure,running-exception,success] [--mention @user|@group]`."""

    target: str
    is_pattern: bool = False
    instance_id: int | None = None
    events: tuple[str, ...] = ("failure",)
    mention: str | None = None  # a Slack mention token as Slack sent it: "<@U123>" or "<!subteam^S123>"
    profile: str | None = None
    # Whether the user gave `--on` / `--mention` (`--mention none` gives "no mention"). Re-running `watch` on a
    # subscription keeps what it has for an option not given; a new subscription takes the defaults above.
    events_given: bool = True
    mention_given: bool = True


@dataclass(frozen=True)
class UnwatchCommand:
    """`/dlf unwatch <job|'glob'>`."""

    target: str
    instance_id: int | None = None
    profile: str | None = None


@dataclass(frozen=True)
class WatchesCommand:
    """`/dlf watches`: this channel's subscriptions and their state."""


Command = HelpCommand | InstanceCommand | WatchCommand | UnwatchCommand | WatchesCommand

__all__ = [
    "EVENTS",
    "Command",
    "HelpCommand",
    "InstanceCommand",
    "UnwatchCommand",
    "WatchCommand",
    "WatchesCommand",
]
