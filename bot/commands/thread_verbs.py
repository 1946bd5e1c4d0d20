"""The words said to the bot in an alert's thread: `ack`, `rerun` (`rerun from first`), `stop`, `resolve`, `refresh`,
`nodes` (paged), `logs`, `help` — each acts on that thread's incident. Pure.

`parse_thread_verb(text)` gives a `ThreadVerb`, None when the text is not one of them (it is then read as a `/dlf`
command, so `@dlf instance job_batch 1` still works in a thread), or raises `CommandError` for a verb written wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands.text import split_words
from bot.commands.usage import THREAD_VERBS
from bot.errors import CommandError

VERBS = ("ack", "rerun", "stop", "resolve", "refresh", "nodes", "logs", "help")
_ALIASES = {"acknowledge": "ack", "resolved": "resolve", "node": "nodes", "log": "logs"}
_FIRST = {"first", "first_node", "first-node", "start", "beginning"}
_FAILED = {"failed", "error_node", "error-node", "failure", "error"}
MAX_PAGE = 1000
# Plain text, one verb a line: the error renderer puts each line in its own code span.
USAGE = "\n".join(said for said, _ in THREAD_VERBS)


@dataclass(frozen=True)
class ThreadVerb:
    """One verb: `retry_location` for a rerun ("error_node", the default, or "first_node"), `page` for nodes."""

    verb: str
    retry_location: str | None = None
    page: int = 1


def parse_thread_verb(text: str) -> ThreadVerb | None:
    """The thread verb `text` says, None when it says none of them; `CommandError` when a verb has words it does not
    take (`stop now`, `rerun from middle`)."""
    words = [word.lower() for word in split_words(text)]
    if not words:
        return None
    verb = _ALIASES.get(words[0], words[0])
    if verb not in VERBS:
        return None
    rest = words[1:]
    if verb == "rerun":
        return ThreadVerb("rerun", retry_location=_retry_location(rest))
    if verb == "nodes":
        return ThreadVerb("nodes", page=_page(rest))
    if verb == "help" and rest:
        return None  # `help watch`: the /dlf help topic
    if rest:
        raise CommandError(f"`{verb}` takes no more words here.", usage=USAGE)
    return ThreadVerb(verb)


def thread_verb_named(word: str) -> str | None:
    """The thread verb `word` names (`ack`, `acknowledge` -> `ack`), None for other words and for `help`, which is
    also a /dlf subcommand: what `/dlf help ack` explains."""
    verb = _ALIASES.get(word.lower(), word.lower())
    return verb if verb in VERBS and verb != "help" else None


def _retry_location(rest: list[str]) -> str:
    words = [w for w in rest if w not in ("from", "the", "node")]
    if not words:
        return "error_node"
    if len(words) == 1 and words[0] in _FIRST:
        return "first_node"
    if len(words) == 1 and words[0] in _FAILED:
        return "error_node"
    raise CommandError(
        "A rerun starts from the failed node (`rerun`) or from the first node (`rerun from first`).", usage=USAGE
    )


def _page(rest: list[str]) -> int:
    words = [w for w in rest if w != "page"]
    if not words:
        return 1
    if len(words) == 1 and words[0].isdigit() and 1 <= int(words[0]) <= MAX_PAGE:
        return int(words[0])
    raise CommandError(f"`nodes` takes a page number from 1 to {MAX_PAGE} (`nodes 2`).", usage=USAGE)


__all__ = ["USAGE", "VERBS", "ThreadVerb", "parse_thread_verb", "thread_verb_named"]
