"""Option values: events, mentions, profile names, instance statuses and bounded durations. Pure.

Durations are written as Slack users write them — `30m`, `4h`, `1d`, `1h30m` — and always bounded: a window DLF
cannot serve (`--since 30d` on the instance list, whose window is 7 days at most) or a number too large to mean
anything is refused with the bounds, before any I/O.
"""

from __future__ import annotations

import difflib
import re

from bot.commands.model import EVENTS, INSTANCE_STATUS_FILTERS
from bot.commands.options import Words
from bot.commands.text import MENTION_TOKEN, shorten
from bot.commands.usage import usage
from bot.errors import CommandError

PROFILE_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
# A person's or a user group's handle typed as text (`@oncall`, `@alice.w`): letters of any script, digits, `.`,
# `-`, `_`, `'`, at most 80 (Slack's limit for display names). The caller resolves it through Slack's directory.
HANDLE = re.compile(r"@[^\W][\w.'-]{0,79}")
# Slack's broadcast mentions: never a subscription's target.
BROADCASTS = frozenset({"here", "channel", "everyone"})


def is_handle(mention_: str | None) -> bool:
    """Whether a parsed `--mention` is a plain handle still to be looked up (not a mention token)."""
    return mention_ is not None and HANDLE.fullmatch(mention_) is not None


# `--mention none`: the subscription mentions no one (a repeat without `--mention` keeps the stored one).
NO_MENTION = "none"
MINUTE, HOUR, DAY = 60, 3600, 86400
_UNITS = {"m": MINUTE, "min": MINUTE, "h": HOUR, "hr": HOUR, "d": DAY}
_DURATION = re.compile(r"(?:[0-9]{1,6}(?:min|hr|m|h|d))+")
_DURATION_PART = re.compile(r"([0-9]{1,6})(min|hr|m|h|d)")


def human(seconds: int) -> str:
    """Whole minutes as the user would write them: `5400` -> `1h30m`, `86400` -> `1d`."""
    days, rest = divmod(seconds, DAY)
    hours, rest = divmod(rest, HOUR)
    minutes = rest // MINUTE
    text = "".join(f"{value}{unit}" for value, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if value)
    return text or "0m"


def duration(word: str, *, what: str, low: int, high: int, subcommand: str, example: str) -> int:
    """Seconds from `30m`, `4h`, `1d`, `1h30m` within [low, high]; else a `CommandError` with the bounds."""
    text = word.strip().lower()
    if not _DURATION.fullmatch(text):
        raise CommandError(
            f"`{shorten(word)}` is not a duration for {what}: write a number and a unit, `m` (minutes), `h` (hours)"
            f" or `d` (days), e.g. `{example}`.",
            usage=usage(subcommand),
        )
    seconds = sum(int(number) * _UNITS[unit] for number, unit in _DURATION_PART.findall(text))
    if not low <= seconds <= high:
        raise CommandError(
            f"`{shorten(word)}` is out of range for {what}: from {human(low)} to {human(high)}, e.g. `{example}`.",
            usage=usage(subcommand),
        )
    return seconds


def events(parsed: Words, *, follow: bool) -> tuple[str, ...]:
    """`--on` as a tuple in `EVENTS` order; the default depends on whether one instance is followed."""
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
                f"`--on {shorten(event)}` is not an event.{hint} Events are {', '.join(f'`{e}`' for e in EVENTS)},"
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


def mention(word: str) -> str | None:
    """A Slack user or user-group mention token, a plain handle (`@oncall`, to be looked up in Slack by the caller:
    see `is_handle`), or None for `none`."""
    if MENTION_TOKEN.fullmatch(word):
        return word
    if word.lower() == NO_MENTION:
        return None
    if word.lower().lstrip("@!") in BROADCASTS and word[:1] in "@!":
        raise CommandError(
            f"`--mention {shorten(word)}` would notify everyone in the channel at every alert. Mention a person or a"
            " user group instead, e.g. `--mention @data-oncall`.",
            usage=usage("watch"),
        )
    if HANDLE.fullmatch(word):
        return word
    raise CommandError(
        f"`--mention {shorten(word)}` is not a Slack user or user group. Type `@` and pick the person or group"
        f" from Slack's list, e.g. `--mention @data-oncall`; `--mention {NO_MENTION}` removes the mention.",
        usage=usage("watch"),
    )


def profile(parsed: Words, name: str) -> str | None:
    """`--profile NAME`, or None when not given."""
    if "--profile" not in parsed.options:
        return None
    return profile_name(parsed.options["--profile"], subcommand=name)


def profile_name(value: str, *, subcommand: str = "instance") -> str:
    """A profile name as `--profile` takes it (also checked on the value of a button that names one)."""
    if not PROFILE_NAME.fullmatch(value):
        raise CommandError(
            f"Profile `{shorten(value)}` is not a profile name: 1–64 letters, digits, `-` or `_`,"
            " e.g. `--profile prod`.",
            usage=usage(subcommand),
        )
    return value


def instance_status(word: str) -> str:
    """`--status` of `/dlf instances`: one of `INSTANCE_STATUS_FILTERS` (DLF's own spelling)."""
    status = word.strip().lower()
    status = {"failed": "fail", "failure": "fail", "succeeded": "success", "ok": "success"}.get(status, status)
    if status in INSTANCE_STATUS_FILTERS:
        return status
    known = ", ".join(f"`{s}`" for s in INSTANCE_STATUS_FILTERS)
    raise CommandError(
        f"`--status {shorten(word)}` is not a status to filter on; use one of {known}, e.g. `--status fail`.",
        usage=usage("instances"),
    )


__all__ = [
    "NO_MENTION",
    "PROFILE_NAME",
    "duration",
    "events",
    "human",
    "instance_status",
    "mention",
    "profile",
    "profile_name",
]
