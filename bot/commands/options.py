"""The words after a subcommand: positionals in order, `--options` by name, each checked against what the
subcommand takes. Pure."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.commands.text import shorten
from bot.commands.usage import FULL_EXAMPLES, usage
from bot.errors import CommandError

# Which options each subcommand takes; an option's value is always the next word (or after `=`).
OPTIONS: dict[str, frozenset[str]] = {
    "instance": frozenset({"--profile"}),
    "instances": frozenset({"--status", "--since", "--profile"}),
    "watch": frozenset({"--on", "--mention", "--escalate", "--profile"}),
    "unwatch": frozenset({"--profile"}),
    "watches": frozenset({"--profile"}),
    "mute": frozenset(),
    "unmute": frozenset(),
    "audit": frozenset({"--since"}),
    "help": frozenset(),
}
_ALL_OPTIONS = sorted(set().union(*OPTIONS.values()))
_OPTION_EXAMPLES = {
    "--on": "`--on failure,running-exception`",
    "--mention": "`--mention @data-oncall`",
    "--profile": "`--profile prod`",
    "--status": "`--status fail`",
    "--since": "`--since 6h`",
    "--escalate": "`--escalate 30m`",
}


@dataclass
class Words:
    """The words after the subcommand: positionals in order, options by name."""

    positional: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)


def split_options(name: str, words: Iterable[str]) -> Words:
    """Positionals and options of subcommand `name`; an unknown, repeated or valueless option is a `CommandError`."""
    allowed = OPTIONS[name]
    parsed = Words()
    pending: str | None = None
    for word in words:
        if pending is not None:
            parsed.options[pending] = word
            pending = None
            continue
        if not word.startswith("--"):
            parsed.positional.append(word)
            continue
        option, has_value, value = word.partition("=")
        option = option.lower()
        if option not in allowed:
            raise _unknown_option(name, option)
        if option in parsed.options:
            raise CommandError(f"`{option}` is given twice; give it once.", usage=usage(name))
        if has_value:
            parsed.options[option] = value
        else:
            pending = option
            parsed.options[option] = ""
    if pending is not None:
        raise CommandError(f"`{pending}` needs a value after it, e.g. {option_example(pending)}.", usage=usage(name))
    return parsed


def _unknown_option(name: str, option: str) -> CommandError:
    allowed = sorted(OPTIONS[name])
    close = difflib.get_close_matches(option, allowed, n=1, cutoff=0.6)
    if close:
        hint = f" Did you mean `{close[0]}`?"
    elif option in _ALL_OPTIONS:
        owners = " and ".join(f"`/dlf {owner}`" for owner, options in OPTIONS.items() if option in options)
        hint = f" `{option}` belongs to {owners}."
    else:
        hint = ""
    takes = ", ".join(f"`{opt}`" for opt in allowed) if allowed else "no options"
    return CommandError(
        f"`{shorten(option)}` is not an option of `{name}`.{hint} `{name}` takes {takes}.", usage=usage(name)
    )


def option_example(option: str) -> str:
    """A short example of the option with a value, as a code span."""
    return _OPTION_EXAMPLES.get(option, f"`{option} VALUE`")


def no_extra(args: list[str], most: int, name: str) -> None:
    """Refuse positionals beyond the `most` the subcommand takes, quoting the extra ones."""
    if len(args) > most:
        extra = " ".join(args[most:])
        raise CommandError(
            f"`{name}` got more than it takes: `{shorten(extra)}` is extra, e.g. `{FULL_EXAMPLES[name]}`.",
            usage=usage(name),
        )


__all__ = ["OPTIONS", "Words", "no_extra", "option_example", "split_options"]
