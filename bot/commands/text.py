"""Slack's side of command text: quotes, mention tokens, HTML entities, and the bot's own mention in a message.

Pure. `split_words` turns the text into words like a shell would (after Slack's smart quotes and escaped mentions
are made plain); `shorten` bounds user text quoted back in a message; `command_text_of_mention` finds the command in
an `app_mention` event's text wherever the bot's name stands in it.
"""

from __future__ import annotations

import re
import shlex
import unicodedata

from bot.commands.usage import usage
from bot.errors import CommandError

_SMART_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"'})
_USER_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,})(?:\|[^<>]*)?>")
_GROUP_MENTION = re.compile(r"<!subteam\^(S[A-Z0-9]{2,})(?:\|[^<>]*)?>")
MENTION_TOKEN = re.compile(r"<@[UW][A-Z0-9]{2,}>|<!subteam\^S[A-Z0-9]{2,}>")
_ANY_LEADING_MENTION = re.compile(r"^\s*<@[UW][A-Z0-9]+(?:\|[^<>]*)?>")
# Letters and symbols Unicode files as visible that draw nothing: Hangul fillers, the braille blank, Khmer vowels.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800\u17b4\u17b5")
# How `shorten` says a word nothing of which would show, or an empty one.
INVISIBLE_TEXT = "⟨invisible characters only⟩"
EMPTY_TEXT = "⟨nothing⟩"
# Spaces Slack clients and keyboards produce besides the ASCII ones.
_EXTRA_SPACES = "\u00a0\u2007\u202f\u3000"


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
    return [word if MENTION_TOKEN.fullmatch(word) else unescape(word) for word in words]


def unescape(word: str) -> str:
    """`&lt;`, `&gt;`, `&amp;` back to what the user typed."""
    return word.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def shorten(text: str, limit: int = 60) -> str:
    """User text quoted back in a message: bounded, on one line, and without backticks that would end the span.

    Text of which nothing would show (zero-width spaces, a Hangul filler) or no text at all is said in words
    (`INVISIBLE_TEXT`, `EMPTY_TEXT`) rather than quoted as an empty-looking code span."""
    if not text:
        return EMPTY_TEXT
    if is_invisible(text):
        return INVISIBLE_TEXT
    flat = "".join(" " if unicodedata.category(char).startswith("C") else char for char in text).replace("`", "'")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def is_invisible(text: str) -> bool:
    """Whether none of `text` would show: only control, format (zero-width) and space characters, or letters that
    draw nothing."""
    return all(unicodedata.category(char)[0] in "CZ" or char in _BLANK_LETTERS for char in text)


def command_text_of_mention(text: str, bot_user_id: str | None) -> str:
    """The command in an `app_mention` text, wherever the bot's mention stands: `hey <@UBOT> instance job_batch 1`
    and `<@UBOT> instance job_batch 1` both give `instance job_batch 1`.

    The words after the bot's first mention are the command; when nothing follows it (`instance job_batch 1
    <@UBOT>`), the words before it are. Further mentions of the bot are dropped; other mentions (`--mention <@U1>`)
    stay. Without a known bot user id, a leading mention of anyone is taken for the bot's, as before.
    """
    if not bot_user_id:
        return _ANY_LEADING_MENTION.sub("", text, count=1).strip()
    own = re.compile(rf"<@{re.escape(bot_user_id)}(?:\|[^<>]*)?>")
    found = own.search(text)
    if found is None:
        return _ANY_LEADING_MENTION.sub("", text, count=1).strip()
    after = own.sub(" ", text[found.end() :]).strip()
    if after:
        return after
    return own.sub(" ", text[: found.start()]).strip()


__all__ = [
    "EMPTY_TEXT",
    "INVISIBLE_TEXT",
    "MENTION_TOKEN",
    "command_text_of_mention",
    "is_invisible",
    "shorten",
    "split_words",
    "unescape",
]
