"""Text helpers for Slack mrkdwn: escaping, code spans, date tokens, durations and safe truncation.

Every piece of untrusted text (names from DLF, user-typed text) reaches mrkdwn through `escape`, `escape_truncated`
or `code`. Lengths are counted the way the strictest reader would count them: in UTF-16 code units (`slack_len`), so
an emoji counts twice and a limit measured here is never exceeded on Slack's side.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from slack_sdk.models.messages import DateLink

ELLIPSIS = "…"
EMPTY_NAME = "_(empty)_"
MIN_CODE_LIMIT = len(EMPTY_NAME)
DEFAULT_DATE_FORMAT = "{date_short_pretty} {time}"
DEFAULT_FALLBACK_FORMAT = "%Y-%m-%d %H:%M UTC"
# A backtick would end a code span early and let the rest of a name format the message; U+02CB looks the same.
BACKTICK_LOOKALIKE = "ˋ"
# Characters that must not be left dangling at a cut: zero-width joiner and emoji variation selectors.
_DANGLING = "\u200d\ufe0e\ufe0f"
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")
# JSON can carry lone surrogates ("\ud800"); Slack cannot show them and UTF-8 cannot carry them.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# Invisible characters that can disguise a name: bidirectional overrides and isolates (U+202E shows
# "rtl\u202egnp.exe" as "rtlexe.png"), zero-width spaces and BOMs, other C0/C1 controls. Zero-width (non-)joiners
# stay: emoji sequences need them.
_DISGUISING = re.compile(
    "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
    "\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]"
)
REPLACEMENT = "\ufffd"
# Slack date tokens need whole seconds Slack can show: from the epoch to the end of year 9999.
_MAX_EPOCH_SECONDS = 253402300799
# Mentions the bot may pass through: a user (`<@U123>`, `<@W123>`) or a user group (`<!subteam^S123>`), optionally
# with the `|label` Slack adds in slash-command text. Never `<!channel>`, `<!here>`, `<!everyone>`.
_MENTION = re.compile(r"<(@[UW][A-Z0-9]{2,40}|!subteam\^S[A-Z0-9]{2,40})(?:\|[^<>&|]{0,80})?>")


def slack_len(text: str) -> int:
    """Length in UTF-16 code units: never less than what Slack counts for the same text."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def clean(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD, so it can be encoded and shown."""
    return _LONE_SURROGATE.sub(REPLACEMENT, text)


def escape(text: str) -> str:
    """Escape exactly `&`, `<`, `>` (in that order) so untrusted text cannot mention, link or inject tokens."""
    return clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(pieces: list[str], limit: int) -> str:
    """Join whole pieces while the result plus an ellipsis stays within `limit`; append the ellipsis."""
    room = limit - slack_len(ELLIPSIS)
    kept: list[str] = []
    used = 0
    for piece in pieces:
        size = slack_len(piece)
        if used + size > room:
            break
        kept.append(piece)
        used += size
    return "".join(kept).rstrip(_DANGLING) + ELLIPSIS


def truncate(text: str, limit: int) -> str:
    """`text` unchanged when it fits in `limit`, else cut (whole characters only) and ended with "…"."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    text = clean(text)
    if slack_len(text) <= limit:
        return text
    return _cut(list(text), limit)


def escape_truncated(text: str, limit: int) -> str:
    """Escape `text` and fit the result in `limit`, never cutting an entity such as `&amp;` in half."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    escaped = escape(text)
    if slack_len(escaped) <= limit:
        return escaped
    return _cut([_ENTITIES.get(char, char) for char in clean(text)], limit)


def _code_safe(text: str) -> str:
    return _DISGUISING.sub("", _LINE_BREAKS.sub(" ", text)).replace("`", BACKTICK_LOOKALIKE)


def code(text: str, limit: int | None = None) -> str:
    """Untrusted identifier as an inline code span, escaped, within `limit` characters including the backticks.

    Inside a code span `*`, `_` and `~` are literal; backticks are replaced by a look-alike (mrkdwn has no escape for
    them) and line breaks by spaces (a code span cannot span lines). An empty name is shown as `(empty)` in italics.
    """
    if limit is not None and limit < MIN_CODE_LIMIT:
        raise ValueError(f"a code span needs a limit of at least {MIN_CODE_LIMIT}")
    inner = _code_safe(text)
    if inner == "":
        return EMPTY_NAME
    body = escape(inner) if limit is None else escape_truncated(inner, limit - 2)
    return f"`{body}`"


def one_line(text: str, limit: int) -> str:
    """Untrusted text for running mrkdwn such as the fallback text: one line, escaped, no backtick to open a code
    span, within `limit`."""
    return escape_truncated(_code_safe(text), limit)


def utc_text(epoch_ms: int, fmt: str = DEFAULT_FALLBACK_FORMAT) -> str | None:
    """Epoch milliseconds formatted in UTC, or None when the value is outside what a date can hold."""
    seconds = epoch_ms // 1000
    if not 0 <= seconds <= _MAX_EPOCH_SECONDS:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC).strftime(fmt)


def date_token(epoch_ms: int, fallback_format: str = DEFAULT_FALLBACK_FORMAT) -> str:
    """A Slack date token showing `epoch_ms` in each reader's time zone, with a UTC fallback.

    `<!date^SECONDS^{date_short_pretty} {time}|2019-03-01 07:28 UTC>`. A value no date can hold (negative, or past
    year 9999) is shown as the raw number instead of a token Slack would reject.
    """
    fallback = utc_text(epoch_ms, fallback_format)
    if fallback is None:
        return f"{epoch_ms} ms since 1970"
    return str(DateLink(date=epoch_ms // 1000, date_format=DEFAULT_DATE_FORMAT, fallback=escape(fallback)))


def mention(token: str | None) -> str | None:
    """The canonical mention token (`<@U123>` / `<!subteam^S123>`, label dropped) when `token` is one, else None."""
    if token is None:
        return None
    match = _MENTION.fullmatch(token.strip())
    return f"<{match.group(1)}>" if match else None


def valid_mentions(tokens: Iterable[str], limit: int = 10) -> list[str]:
    """The well-formed mention tokens among `tokens`, canonical, de-duplicated, at most `limit`."""
    found: list[str] = []
    for token in tokens:
        canonical = mention(token)
        if canonical and canonical not in found:
            found.append(canonical)
    return found[:limit]


def mention_or_text(token: str, limit: int = 120) -> str:
    """A valid mention token as is; anything else escaped in a code span, so it is shown but pings no one."""
    return mention(token) or code(token, limit)


def human_duration(ms: int) -> str:
    """A short duration: `850 ms`, `45s`, `1m 0s`, `2h 3m`, `3d 4h`."""
    if ms < 0:
        raise ValueError("a duration cannot be negative")
    if ms < 1000:
        return f"{ms} ms"
    seconds = ms // 1000
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m {seconds}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes}m"
    days, hours = divmod(hours, 24)
    return f"{days:,}d {hours}h"


def and_more(count: int, noun: str | None = None) -> str:
    """`…and 3 more` / `…and 1,204 more nodes`."""
    return f"{ELLIPSIS}and {count:,} more" + (f" {noun}" if noun else "")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`1 node`, `12 nodes`, `1,204 nodes`."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


__all__ = [
    "BACKTICK_LOOKALIKE",
    "ELLIPSIS",
    "and_more",
    "clean",
    "code",
    "date_token",
    "escape",
    "escape_truncated",
    "human_duration",
    "mention",
    "mention_or_text",
    "one_line",
    "plural",
    "slack_len",
    "truncate",
    "utc_text",
    "valid_mentions",
]
