"""Slack slash-command text -> a typed command, or a `CommandError` saying what is wrong and how to write it right.

Pure: no I/O. Every rule that keeps a bad job name away from DLF's URL path lives here, so nothing that reaches
the DLF client can alter the path it is put into (`a/b`, `..`, `%2F`).

Slack's side of the text, handled before splitting:
- smart quotes (‘’ “”), which Slack clients type for `'etl_*'`, are plain quotes;
- with escaping on, Slack sends mentions as `<@U123|name>` / `<!subteam^S123|@group>`: they become `<@U123>` /
  `<!subteam^S123>` (the label may hold spaces or quotes, so it goes before the text is split);
- `&`, `<` and `>` typed by the user arrive as `&amp;`, `&lt;`, `&gt;` and are decoded so messages quote what the
  user typed.
"""

from __future__ import annotations

import difflib
import re
import shlex
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.commands.model import (
    EVENTS,
    Command,
    HelpCommand,
    InstanceCommand,
    UnwatchCommand,
    WatchCommand,
    WatchesCommand,
)
from bot.commands.usage import EXAMPLES, FULL_EXAMPLES, SUBCOMMANDS, usage
from bot.errors import CommandError, UnknownSubcommand

INT64_MAX = 2**63 - 1
_INT64_DIGITS = len(str(INT64_MAX))
JOB_NAME_MAX = 128
PROFILE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
# `--mention none`: the subscription mentions no one (a repeat without `--mention` keeps the stored one).
NO_MENTION = "none"

_SMART_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"'})
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^<>]*)?>")
_GROUP_MENTION = re.compile(r"<!subteam\^(S[A-Z0-9]{2,})(?:\|[^<>]*)?>")
_MENTION_TOKEN = re.compile(r"<@[UW][A-Z0-9]{2,}>|<!subteam\^S[A-Z0-9]{2,}>")
# Spaces Slack clients and keyboards produce besides the ASCII ones.
_EXTRA_SPACES = "\u00a0\u2007\u202f\u3000"
_GLOB_CHARS = frozenset("*?[]!")
_HELP_FLAGS = frozenset({"-h", "--help"})

# Which options each subcommand takes; an option's value is always the next word (or after `=`).
_OPTIONS: dict[str, frozenset[str]] = {
    "instance": frozenset({"--profile"}),
    "watch": frozenset({"--on", "--mention", "--profile"}),
    "unwatch": frozenset({"--profile"}),
    "watches": frozenset(),
    "help": frozenset(),
}
_ALL_OPTIONS = sorted(set().union(*_OPTIONS.values()))


@dataclass
class _Words:
    """The words after the subcommand: positionals in order, options by name."""

    positional: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)


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
    parsed = _split_options(name, rest)
    if name == "help":
        return _help(parsed)
    if name == "instance":
        return _instance(parsed)
    if name == "watch":
        return _watch(parsed)
    if name == "unwatch":
        return _unwatch(parsed)
    return _watches(parsed)


def split_words(text: str) -> list[str]:
    """Split command text like a shell would, tolerating Slack's smart quotes and mention tokens."""
    text = _USER_MENTION.sub(r"<@\1>", text)
    text = _GROUP_MENTION.sub(r"<!subteam^\1>", text)
    text = text.translate(_SMART_QUOTES)
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.whitespace += _EXTRA_SPACES
    lexer.commenters = ""
    # A backslash is a character the user typed (and a name must not silently lose it), not an escape.
    lexer.escape = ""
    try:
        words = list(lexer)
    except ValueError as exc:
        raise CommandError(
            f"The command has an unclosed quote ({exc}). Close it, e.g. `/dlf watch 'etl_*'`.",
            usage=usage(),
        ) from None
    return [word if _MENTION_TOKEN.fullmatch(word) else _unescape(word) for word in words]


def _unescape(word: str) -> str:
    return word.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _unknown_subcommand(word: str) -> UnknownSubcommand:
    close = difflib.get_close_matches(word.lower(), list(SUBCOMMANDS), n=1, cutoff=0.6)
    suggestion = close[0] if close else None
    hint = f" Did you mean `{suggestion}`?" if suggestion else ""
    known = ", ".join(f"`{name}`" for name in SUBCOMMANDS)
    return UnknownSubcommand(
        f"`{_shorten(word)}` is not a /dlf subcommand.{hint} The subcommands are {known}; `/dlf help` explains them.",
        word=word,
        suggestion=suggestion,
        usage=usage(suggestion),
    )


def _split_options(name: str, words: Iterable[str]) -> _Words:
    allowed = _OPTIONS[name]
    parsed = _Words()
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
        raise CommandError(f"`{pending}` needs a value after it, e.g. {_option_example(pending)}.", usage=usage(name))
    return parsed


def _unknown_option(name: str, option: str) -> CommandError:
    allowed = sorted(_OPTIONS[name])
    close = difflib.get_close_matches(option, allowed, n=1, cutoff=0.6)
    if close:
        hint = f" Did you mean `{close[0]}`?"
    elif option in _ALL_OPTIONS:
        hint = f" `{option}` belongs to another subcommand."
    else:
        hint = ""
    takes = ", ".join(f"`{opt}`" for opt in allowed) if allowed else "no options"
    return CommandError(
        f"`{_shorten(option)}` is not an option of `{name}`.{hint} `{name}` takes {takes}.", usage=usage(name)
    )


def _option_example(option: str) -> str:
    return {
        "--on": "`--on failure,running-exception`",
        "--mention": "`--mention @data-oncall`",
        "--profile": "`--profile prod`",
    }.get(option, f"`{option} VALUE`")


def _help(parsed: _Words) -> HelpCommand:
    if not parsed.positional:
        return HelpCommand()
    if len(parsed.positional) > 1:
        raise CommandError("`help` takes at most one subcommand, e.g. `/dlf help watch`.", usage=usage("help"))
    topic = parsed.positional[0].lower()
    if topic not in SUBCOMMANDS:
        raise _unknown_subcommand(parsed.positional[0])
    return HelpCommand(topic=topic)


def _instance(parsed: _Words) -> InstanceCommand:
    args = parsed.positional
    if len(args) < 2:
        missing = "a job name and an instance id" if not args else "an instance id"
        raise CommandError(
            f"`instance` needs {missing}, e.g. `{EXAMPLES['instance']}`.", usage=usage("instance")
        )
    _no_extra(args, 2, "instance")
    job = validate_job_name(args[0], subcommand="instance")
    instance_id = parse_instance_id(args[1], subcommand="instance")
    return InstanceCommand(job=job, instance_id=instance_id, profile=_profile(parsed, "instance"))


def _watch(parsed: _Words) -> WatchCommand:
    args = parsed.positional
    if not args:
        raise CommandError(
            f"`watch` needs a job name or a quoted pattern, e.g. `/dlf watch job_batch` or `{EXAMPLES['watch']}`.",
            usage=usage("watch"),
        )
    _no_extra(args, 2, "watch")
    target, is_pattern = _target(args[0], "watch")
    instance_id = parse_instance_id(args[1], subcommand="watch") if len(args) > 1 else None
    if is_pattern and instance_id is not None:
        raise CommandError(
            "Following one instance needs the exact job name, not a pattern, e.g. `/dlf watch job_batch 34765`.",
            usage=usage("watch"),
        )
    events = _events(parsed, follow=instance_id is not None)
    mention = _mention(parsed.options["--mention"]) if "--mention" in parsed.options else None
    return WatchCommand(
        target=target,
        is_pattern=is_pattern,
        instance_id=instance_id,
        events=events,
        mention=mention,
        profile=_profile(parsed, "watch"),
        events_given="--on" in parsed.options,
        mention_given="--mention" in parsed.options,
    )


def _unwatch(parsed: _Words) -> UnwatchCommand:
    args = parsed.positional
    if not args:
        raise CommandError(
            f"`unwatch` needs the job name or pattern you watch, e.g. `{EXAMPLES['unwatch']}`.",
            usage=usage("unwatch"),
        )
    _no_extra(args, 2, "unwatch")
    target, is_pattern = _target(args[0], "unwatch")
    instance_id = parse_instance_id(args[1], subcommand="unwatch") if len(args) > 1 else None
    if is_pattern and instance_id is not None:
        raise CommandError(
            "An instance follow is removed by its exact job name, e.g. `/dlf unwatch job_batch 34765`.",
            usage=usage("unwatch"),
        )
    return UnwatchCommand(target=target, instance_id=instance_id, profile=_profile(parsed, "unwatch"))


def _watches(parsed: _Words) -> WatchesCommand:
    _no_extra(parsed.positional, 0, "watches")
    return WatchesCommand()


def _no_extra(args: list[str], most: int, name: str) -> None:
    if len(args) > most:
        extra = " ".join(args[most:])
        raise CommandError(
            f"`{name}` got more than it takes: `{_shorten(extra)}` is extra, e.g. `{FULL_EXAMPLES[name]}`.",
            usage=usage(name),
        )


def _target(word: str, name: str) -> tuple[str, bool]:
    if any(char in _GLOB_CHARS for char in word):
        return validate_pattern(word, subcommand=name), True
    return validate_job_name(word, subcommand=name), False


def parse_instance_id(word: str, *, subcommand: str = "instance") -> int:
    """A DLF instance id: a whole number in 1..2^63-1, written in ASCII digits."""
    shown = _shorten(word)
    example = FULL_EXAMPLES.get(subcommand, FULL_EXAMPLES["instance"])
    if re.fullmatch(r"[0-9]+", word):
        # Bounded before converting: Python refuses to convert more than 4,300 digits (and converting is quadratic).
        significant = word.lstrip("0")
        if len(significant) > _INT64_DIGITS or int(significant or "0") > INT64_MAX:
            problem = f"is too large; instance ids are at most {INT64_MAX}"
        elif not significant:
            problem = "is 0; instance ids start at 1"
        else:
            return int(significant)
    elif re.fullmatch(r"-[0-9]+", word):
        problem = "is negative; instance ids are positive whole numbers"
    elif re.fullmatch(r"[-+]?[0-9]*[.,][0-9]+|[-+]?[0-9]+[.,][0-9]*|[-+]?[0-9.]+[eE][-+]?[0-9]+", word):
        problem = "is not a whole number; instance ids have no fraction or exponent"
    else:
        problem = "is not a number; an instance id is a whole number such as 34765"
    raise CommandError(
        f"Instance id `{shown}` {problem}. Write it like `{example}`.", usage=usage(subcommand)
    )


def validate_job_name(name: str, *, subcommand: str = "instance") -> str:
    """A DataArts job name: 1–128 letters (incl. Chinese), digits, `-`, `_`, `.`; not `.` or `..`."""
    problem = _name_problem(name, allow_glob=False)
    if problem is None:
        return name
    raise CommandError(
        f"Job name `{_shorten(name)}` {problem}. Job names are 1–{JOB_NAME_MAX} letters, digits, `-`, `_` and `.`,"
        f" e.g. `job_batch`.",
        usage=usage(subcommand),
    )


def validate_pattern(pattern: str, *, subcommand: str = "watch") -> str:
    """A glob over job names: job-name characters plus `*`, `?` and `[...]` (`[!...]` negates)."""
    problem = _name_problem(pattern, allow_glob=True) or _bracket_problem(pattern)
    if problem is None:
        return pattern
    raise CommandError(
        f"Pattern `{_shorten(pattern)}` {problem}. A pattern is a job name with `*`, `?` or `[...]`, quoted,"
        f" e.g. `/dlf {subcommand} 'etl_*'`.",
        usage=usage(subcommand),
    )


def _name_problem(name: str, *, allow_glob: bool) -> str | None:
    if not name:
        return "is empty"
    if len(name) > JOB_NAME_MAX:
        return f"is {len(name)} characters long; the limit is {JOB_NAME_MAX}"
    if "%" in name:
        return "contains `%`; write the name itself, not URL-encoded"
    if "/" in name or "\\" in name:
        return "contains a slash; job names cannot contain `/` or `\\`"
    if any(char.isspace() for char in name):
        return "contains a space; job names have none (quote a pattern, not a name with spaces)"
    if any(unicodedata.category(char).startswith("C") for char in name):
        return "contains a control or invisible character; retype the name"
    if set(name) <= {"."}:
        return "is only dots; `.` and `..` are not job names"
    for char in name:
        if _is_name_char(char) or (allow_glob and char in _GLOB_CHARS):
            continue
        if not allow_glob and char in "*?[":
            return "is a pattern; this needs one exact job name (patterns work with `watch` and `unwatch`)"
        if char == "`":
            # A backtick cannot be shown inside a code span: name it instead.
            return "contains a backtick, which job names cannot contain"
        return f"contains `{char}`, which job names cannot contain"
    return None


def _is_name_char(char: str) -> bool:
    if char in "-_.":
        return True
    if char.isascii():
        return char.isalnum()
    # Letters of any script, as DataArts' SDK allows Chinese names; no digits other than ASCII ones.
    return unicodedata.category(char) in {"Lu", "Ll", "Lt", "Lm", "Lo"}


def _bracket_problem(pattern: str) -> str | None:
    depth = 0
    for char in pattern:
        if char == "[":
            if depth:
                return "has `[` inside `[...]`"
            depth = 1
        elif char == "]":
            if not depth:
                return "has a `]` without its `[`"
            depth = 0
    if depth:
        return "has a `[` without its `]`"
    if "[]" in pattern or "[!]" in pattern:
        return "has an empty `[]`"
    if "!" in pattern.replace("[!", ""):
        return "has `!` outside `[!...]`"
    return None


def _events(parsed: _Words, *, follow: bool) -> tuple[str, ...]:
    if "--on" not in parsed.options:
        # A one-off follow reports how the instance ends, whichever way that is.
        return EVENTS if follow else ("failure",)
    chosen: list[str] = []
    for raw in parsed.options["--on"].split(","):
        event = raw.strip().lower()
        if not event:
            continue
        if event not in EVENTS:
            close = difflib.get_close_matches(event, EVENTS, n=1, cutoff=0.6)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            raise CommandError(
                f"`--on {_shorten(event)}` is not an event.{hint} Events are {', '.join(f'`{e}`' for e in EVENTS)},"
                " comma-separated, e.g. `--on failure,running-exception`.",
                usage=usage("watch"),
            )
        if event not in chosen:
            chosen.append(event)
    if not chosen:
        raise CommandError(
            "`--on` needs at least one event, e.g. `--on failure,running-exception`.", usage=usage("watch")
        )
    if "success" in chosen and not follow:
        raise CommandError(
            "`--on success` is for following one instance, e.g. `/dlf watch job_batch 34765 --on success`;"
            " a job subscription alerts on failures.",
            usage=usage("watch"),
        )
    return tuple(event for event in EVENTS if event in chosen)


def _mention(word: str) -> str | None:
    if _MENTION_TOKEN.fullmatch(word):
        return word
    if word.lower() == NO_MENTION:
        return None
    raise CommandError(
        f"`--mention {_shorten(word)}` is not a Slack user or user group. Type `@` and pick the person or group"
        f" from Slack's list, e.g. `--mention @data-oncall`; `--mention {NO_MENTION}` removes the mention.",
        usage=usage("watch"),
    )


def _profile(parsed: _Words, name: str) -> str | None:
    if "--profile" not in parsed.options:
        return None
    profile = parsed.options["--profile"]
    if not PROFILE_NAME.fullmatch(profile):
        raise CommandError(
            f"Profile `{_shorten(profile)}` is not a profile name: 1–64 letters, digits, `-` or `_`,"
            " e.g. `--profile prod`.",
            usage=usage(name),
        )
    return profile


def _shorten(text: str, limit: int = 60) -> str:
    """User text quoted back in a message: bounded, on one line, and without backticks that would end the span."""
    flat = "".join(" " if unicodedata.category(char).startswith("C") else char for char in text).replace("`", "'")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


__all__ = ["NO_MENTION", "parse_command", "parse_instance_id", "split_words", "validate_job_name", "validate_pattern"]
