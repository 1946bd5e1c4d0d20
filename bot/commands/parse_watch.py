"""The subcommands about what this channel hears: `watch`, `unwatch`, `watches`, `mute`, `unmute`. Pure."""

from __future__ import annotations

from bot.commands import values
from bot.commands.model import (
    ESCALATION_OFF,
    Escalation,
    MuteCommand,
    UnmuteCommand,
    UnwatchCommand,
    WatchCommand,
    WatchesCommand,
)
from bot.commands.names import parse_instance_id, target
from bot.commands.options import Words, no_extra
from bot.commands.text import shorten
from bot.commands.usage import EXAMPLES, usage
from bot.errors import CommandError

ESCALATE_BOUNDS = (values.MINUTE, 7 * values.DAY)  # as DLF_ESCALATE_AFTER: 1 minute .. 7 days
MUTE_BOUNDS = (values.MINUTE, 30 * values.DAY)
FOREVER = ("forever", "indefinitely", "always")
OFF = ("off", "none", "never")


def watch(parsed: Words) -> WatchCommand:
    """`watch <job|'pattern'> [instance_id] [--on ...] [--mention ...] [--escalate ...] [--profile ...]`."""
    args = parsed.positional
    if not args:
        raise CommandError(
            f"`watch` needs a job name or a quoted pattern, e.g. `/dlf watch job_batch` or `{EXAMPLES['watch']}`.",
            usage=usage("watch"),
        )
    no_extra(args, 2, "watch")
    name, is_pattern = target(args[0], "watch")
    instance_id = parse_instance_id(args[1], subcommand="watch") if len(args) > 1 else None
    if is_pattern and instance_id is not None:
        raise CommandError(
            "Following one instance needs the exact job name, not a pattern, e.g. `/dlf watch job_batch 34765`.",
            usage=usage("watch"),
        )
    escalate = _escalation(parsed.options["--escalate"]) if "--escalate" in parsed.options else None
    if escalate is not None and instance_id is not None:
        raise CommandError(
            "`--escalate` is for a job subscription, whose failures become incidents, e.g."
            " `/dlf watch job_batch --escalate 30m`; following one instance has nothing to escalate.",
            usage=usage("watch"),
        )
    return WatchCommand(
        target=name,
        is_pattern=is_pattern,
        instance_id=instance_id,
        events=values.events(parsed, follow=instance_id is not None),
        mention=values.mention(parsed.options["--mention"]) if "--mention" in parsed.options else None,
        profile=values.profile(parsed, "watch"),
        events_given="--on" in parsed.options,
        mention_given="--mention" in parsed.options,
        escalate=escalate,
    )


def _escalation(word: str) -> Escalation:
    if word.strip().lower() in OFF:
        return ESCALATION_OFF
    low, high = ESCALATE_BOUNDS
    if word.strip().isdigit():
        # DLF_ESCALATE_AFTER reads a bare number as seconds; typed in Slack, `--escalate 15` more likely meant minutes.
        raise CommandError(
            f"`--escalate {shorten(word)}` needs a unit: `m` (minutes), `h` (hours) or `d` (days), from "
            f"{values.human(low)} to {values.human(high)}, e.g. `--escalate 30m`.",
            usage=usage("watch"),
        )
    return Escalation(
        after_s=values.duration(
            word, what="`--escalate`", low=low, high=high, subcommand="watch", example="--escalate 30m"
        )
    )


def unwatch(parsed: Words) -> UnwatchCommand:
    """`unwatch <job|'pattern'> [instance_id] [--profile ...]`."""
    args = parsed.positional
    if not args:
        raise CommandError(
            f"`unwatch` needs the job name or pattern you watch, e.g. `{EXAMPLES['unwatch']}`.",
            usage=usage("unwatch"),
        )
    no_extra(args, 2, "unwatch")
    name, is_pattern = target(args[0], "unwatch")
    instance_id = parse_instance_id(args[1], subcommand="unwatch") if len(args) > 1 else None
    if is_pattern and instance_id is not None:
        raise CommandError(
            "An instance follow is removed by its exact job name, e.g. `/dlf unwatch job_batch 34765`.",
            usage=usage("unwatch"),
        )
    return UnwatchCommand(target=name, instance_id=instance_id, profile=values.profile(parsed, "unwatch"))


def watches(parsed: Words) -> WatchesCommand:
    """`watches [--profile NAME]`."""
    no_extra(parsed.positional, 0, "watches")
    return WatchesCommand(profile=values.profile(parsed, "watches"))


def mute(parsed: Words) -> MuteCommand:
    """`mute <job> <duration|forever>`: one job, never a pattern."""
    args = parsed.positional
    if len(args) < 2:
        missing = "a job name and how long" if not args else "how long"
        raise CommandError(
            f"`mute` needs {missing}, e.g. `{EXAMPLES['mute']}` or `/dlf mute job_batch forever`.",
            usage=usage("mute"),
        )
    no_extra(args, 2, "mute")
    name = _one_job(args[0], "mute")
    if args[1].strip().lower() in FOREVER:
        return MuteCommand(target=name, duration_s=None)
    if args[1].strip().lower() in OFF:
        raise CommandError(
            f"`{shorten(args[1])}` would not mute anything; to end a mute write `/dlf unmute job_batch`.",
            usage=usage("unmute"),
        )
    low, high = MUTE_BOUNDS
    seconds = values.duration(
        args[1], what="a mute (or `forever`)", low=low, high=high, subcommand="mute", example="/dlf mute job_batch 4h"
    )
    return MuteCommand(target=name, duration_s=seconds)


def unmute(parsed: Words) -> UnmuteCommand:
    """`unmute <job>`."""
    args = parsed.positional
    if not args:
        raise CommandError(
            f"`unmute` needs the job name you muted, e.g. `{EXAMPLES['unmute']}`.", usage=usage("unmute")
        )
    no_extra(args, 1, "unmute")
    return UnmuteCommand(target=_one_job(args[0], "unmute"))


def _one_job(word: str, subcommand: str) -> str:
    # A mute is one job's: a pattern would hold back jobs no one named, so it is refused before any I/O.
    name, is_pattern = target(word, subcommand)
    if is_pattern:
        raise CommandError(
            f"`{shorten(name)}` is a pattern; `{subcommand}` takes one exact job name, e.g. `{EXAMPLES[subcommand]}`.",
            usage=usage(subcommand),
        )
    return name


__all__ = ["mute", "unmute", "unwatch", "watch", "watches"]
