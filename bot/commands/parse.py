"""Slack slash-command text -> a typed command, or a `CommandError` saying what is wrong and how to write it right.

Pure: no I/O. The pieces: `text` (Slack's quotes, mentions and entities; the bot's mention in a message), `names`
(job names, patterns, instance ids: nothing that reaches DLF's URL path can alter it), `options` (the words after a
subcommand), `values` (events, mentions, profiles, statuses, bounded durations), `parse_watch` (what the channel
hears). This module dispatches on the subcommand and parses the ones that look things up.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from bot.commands import parse_watch, values
from bot.commands.model import AuditCommand, Command, HelpCommand, InstanceCommand, InstancesCommand
from bot.commands.names import parse_instance_id, validate_job_name, validate_pattern
from bot.commands.options import Words, no_extra, split_options
from bot.commands.text import is_invisible, shorten, split_words
from bot.commands.thread_verbs import thread_verb_named
from bot.commands.usage import EXAMPLES, SUBCOMMANDS, usage
from bot.errors import CommandError, UnknownSubcommand

_HELP_FLAGS = frozenset({"-h", "--help"})
INSTANCES_SINCE_BOUNDS = (values.MINUTE, 7 * values.DAY)  # DLF's instance list window is 7 days at most
AUDIT_SINCE_BOUNDS = (values.MINUTE, 90 * values.DAY)


def parse_command(text: str) -> Command:
    """Parse the text after `/dlf` into a command; raise `CommandError` (or `UnknownSubcommand`) if it is wrong."""
    words = split_words(text)
    if not words:
        return HelpCommand()
    name = words[0].lower()
    if name in _HELP_FLAGS:
        name = "help"
    if name not in SUBCOMMANDS:
        raise _unknown_subcommand(words[0])
    rest = words[1:]
    if any(word in _HELP_FLAGS for word in rest):
        return HelpCommand(topic=name if name != "help" else None)
    return _PARSERS[name](split_options(name, rest))


def _unknown_subcommand(word: str) -> UnknownSubcommand:
    close = difflib.get_close_matches(word.lower(), list(SUBCOMMANDS), n=1, cutoff=0.6)
    suggestion = close[0] if close else None
    hint = f" Did you mean `{suggestion}`?" if suggestion else ""
    known = ", ".join(f"`{name}`" for name in SUBCOMMANDS)
    # A word of only invisible characters would be an empty code span: say what it is instead.
    quoted = "A word of only invisible characters" if is_invisible(word) else f"`{shorten(word)}`"
    return UnknownSubcommand(
        f"{quoted} is not a /dlf subcommand.{hint} The subcommands are {known}; `/dlf help` explains them.",
        word=word,
        suggestion=suggestion,
        usage=usage(suggestion),
    )


def _help(parsed: Words) -> HelpCommand:
    if not parsed.positional:
        return HelpCommand()
    if len(parsed.positional) > 1:
        raise CommandError("`help` takes at most one subcommand, e.g. `/dlf help watch`.", usage=usage("help"))
    topic = parsed.positional[0].lower()
    verb = thread_verb_named(topic)
    if verb is not None:
        return HelpCommand(topic=verb)  # said in an alert's thread, not typed after /dlf: help explains where
    if topic not in SUBCOMMANDS:
        raise _unknown_subcommand(parsed.positional[0])
    return HelpCommand(topic=topic)


def _instance(parsed: Words) -> InstanceCommand:
    args = parsed.positional
    if len(args) < 2:
        missing = "a job name and an instance id" if not args else "an instance id"
        raise CommandError(f"`instance` needs {missing}, e.g. `{EXAMPLES['instance']}`.", usage=usage("instance"))
    no_extra(args, 2, "instance")
    job = validate_job_name(args[0], subcommand="instance")
    instance_id = parse_instance_id(args[1], subcommand="instance")
    return InstanceCommand(job=job, instance_id=instance_id, profile=values.profile(parsed, "instance"))


def _instances(parsed: Words) -> InstancesCommand:
    args = parsed.positional
    if not args:
        raise CommandError(f"`instances` needs a job name, e.g. `{EXAMPLES['instances']}`.", usage=usage("instances"))
    no_extra(args, 1, "instances")
    job = validate_job_name(args[0], subcommand="instances")
    status = values.instance_status(parsed.options["--status"]) if "--status" in parsed.options else None
    since = None
    if "--since" in parsed.options:
        low, high = INSTANCES_SINCE_BOUNDS
        since = values.duration(
            parsed.options["--since"],
            what="`--since` (DLF lists at most 7 days back)",
            low=low,
            high=high,
            subcommand="instances",
            example="--since 6h",
        )
    return InstancesCommand(job=job, status=status, since_s=since, profile=values.profile(parsed, "instances"))


def _audit(parsed: Words) -> AuditCommand:
    no_extra(parsed.positional, 1, "audit")
    job = validate_job_name(parsed.positional[0], subcommand="audit") if parsed.positional else None
    if "--since" not in parsed.options:
        return AuditCommand(job=job)
    low, high = AUDIT_SINCE_BOUNDS
    since = values.duration(
        parsed.options["--since"], what="`--since`", low=low, high=high, subcommand="audit", example="--since 7d"
    )
    return AuditCommand(job=job, since_s=since)


_PARSERS: dict[str, Callable[[Words], Command]] = {
    "help": _help,
    "instance": _instance,
    "instances": _instances,
    "watch": parse_watch.watch,
    "unwatch": parse_watch.unwatch,
    "watches": parse_watch.watches,
    "mute": parse_watch.mute,
    "unmute": parse_watch.unmute,
    "audit": _audit,
}

__all__ = ["parse_command", "parse_instance_id", "split_words", "validate_job_name", "validate_pattern"]
