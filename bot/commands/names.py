"""Job names, glob patterns and instance ids as DataArts accepts them: every rule that keeps a bad name away from
DLF's URL path (`a/b`, `..`, `%2F`) lives here. Pure."""

from __future__ import annotations

import re
import unicodedata

from bot.commands.text import is_invisible, shorten
from bot.commands.usage import FULL_EXAMPLES, usage
from bot.errors import CommandError

INT64_MAX = 2**63 - 1
_INT64_DIGITS = len(str(INT64_MAX))
JOB_NAME_MAX = 128
GLOB_CHARS = frozenset("*?[]!")


def target(word: str, name: str) -> tuple[str, bool]:
    """A job name, or a glob pattern when the word holds glob characters: `(text, is_pattern)`."""
    if any(char in GLOB_CHARS for char in word):
        return validate_pattern(word, subcommand=name), True
    return validate_job_name(word, subcommand=name), False


def parse_instance_id(word: str, *, subcommand: str = "instance") -> int:
    """A DLF instance id: a whole number in 1..2^63-1, written in ASCII digits."""
    shown = shorten(word)
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
    raise CommandError(f"Instance id `{shown}` {problem}. Write it like `{example}`.", usage=usage(subcommand))


def validate_job_name(name: str, *, subcommand: str = "instance") -> str:
    """A DataArts job name: 1–128 letters (incl. Chinese), digits, `-`, `_`, `.`; not `.` or `..`."""
    problem = _name_problem(name, allow_glob=False)
    if problem is None:
        return name
    raise CommandError(
        f"Job name `{shorten(name)}` {problem}. Job names are 1–{JOB_NAME_MAX} letters, digits, `-`, `_` and `.`,"
        f" e.g. `job_batch`.",
        usage=usage(subcommand),
    )


def validate_pattern(pattern: str, *, subcommand: str = "watch") -> str:
    """A glob over job names: job-name characters plus `*`, `?` and `[...]` (`[!...]` negates)."""
    problem = _name_problem(pattern, allow_glob=True) or _bracket_problem(pattern)
    if problem is None:
        return pattern
    raise CommandError(
        f"Pattern `{shorten(pattern)}` {problem}. A pattern is a job name with `*`, `?` or `[...]`, quoted,"
        f" e.g. `/dlf {subcommand} 'etl_*'`.",
        usage=usage(subcommand),
    )


def _name_problem(name: str, *, allow_glob: bool) -> str | None:
    if not name:
        return "is empty"
    if len(name) > JOB_NAME_MAX:
        return f"is {len(name)} characters long; the limit is {JOB_NAME_MAX}"
    if is_invisible(name):
        return "shows nothing (it was pasted with zero-width or blank characters); retype the name"
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
        if _is_name_char(char) or (allow_glob and char in GLOB_CHARS):
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


__all__ = ["INT64_MAX", "JOB_NAME_MAX", "parse_instance_id", "target", "validate_job_name", "validate_pattern"]
