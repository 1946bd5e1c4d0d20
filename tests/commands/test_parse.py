"""The parser: Slack text -> typed command, or an error that says what is wrong and how to write it right."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.commands import (
    AuditCommand,
    HelpCommand,
    InstanceCommand,
    InstancesCommand,
    MuteCommand,
    UnmuteCommand,
    UnwatchCommand,
    WatchCommand,
    WatchesCommand,
    parse_command,
)
from bot.commands.usage import SUBCOMMANDS
from bot.errors import CommandError, UnknownSubcommand
from bot.render.errors import render_command_error
from bot.render.help import render_help
from bot.render.limits import problems

VALID = [
    # (text as Slack sends it, expected command)
    ("", HelpCommand()),
    ("   ", HelpCommand()),
    ("help", HelpCommand()),
    ("help watch", HelpCommand(topic="watch")),
    ("HELP Instance", HelpCommand(topic="instance")),
    ("instance --help", HelpCommand(topic="instance")),
    ("instance job_batch 34765", InstanceCommand(job="job_batch", instance_id=34765)),
    ("  instance   job_batch\t34765  ", InstanceCommand(job="job_batch", instance_id=34765)),
    ("Instance job_batch 34765", InstanceCommand(job="job_batch", instance_id=34765)),
    ("instance job_batch 9223372036854775807", InstanceCommand(job="job_batch", instance_id=2**63 - 1)),
    # Leading zeros do not count towards the bound: only significant digits can make an id too large.
    ("instance job_batch " + "0" * 5000 + "34765", InstanceCommand(job="job_batch", instance_id=34765)),
    ("instance 作业_每日.v2 1", InstanceCommand(job="作业_每日.v2", instance_id=1)),
    ("instance a-b.c_d 12 --profile prod", InstanceCommand(job="a-b.c_d", instance_id=12, profile="prod")),
    ("instance --profile=prod a 12", InstanceCommand(job="a", instance_id=12, profile="prod")),
    ("instance 'job_batch' 34765", InstanceCommand(job="job_batch", instance_id=34765)),
    ("instance\u00a0job_batch\u00a034765", InstanceCommand(job="job_batch", instance_id=34765)),  # no-break spaces
    ("instance " + "x" * 128 + " 1", InstanceCommand(job="x" * 128, instance_id=1)),
    ("watch job_batch", WatchCommand(target="job_batch", events_given=False, mention_given=False)),
    ("watch 'etl_*'", WatchCommand(target="etl_*", is_pattern=True, events_given=False, mention_given=False)),
    (
        "watch ‘etl_*’",
        WatchCommand(target="etl_*", is_pattern=True, events_given=False, mention_given=False),
    ),  # Slack's smart quotes
    ("watch “etl_?[0-9]”", WatchCommand(target="etl_?[0-9]", is_pattern=True, events_given=False, mention_given=False)),
    ("watch etl_[!x]*", WatchCommand(target="etl_[!x]*", is_pattern=True, events_given=False, mention_given=False)),
    (
        "watch job_batch --on failure,running-exception",
        WatchCommand(target="job_batch", events=("failure", "running-exception"), mention_given=False),
    ),
    (
        "watch job_batch --on RUNNING-EXCEPTION",
        WatchCommand(target="job_batch", events=("running-exception",), mention_given=False),
    ),
    # a one-off follow reports how the instance ends, whichever way
    (
        "watch job_batch 34765",
        WatchCommand(
            target="job_batch",
            instance_id=34765,
            events=("failure", "running-exception", "success"),
            events_given=False,
            mention_given=False,
        ),
    ),
    (
        "watch job_batch 34765 --on success",
        WatchCommand(target="job_batch", instance_id=34765, events=("success",), mention_given=False),
    ),
    # escaped mentions as Slack sends them when the command has escaping on
    (
        "watch job_batch --mention <@U123ABC|alice>",
        WatchCommand(target="job_batch", mention="<@U123ABC>", events_given=False),
    ),
    ("watch job_batch --mention <@W123>", WatchCommand(target="job_batch", mention="<@W123>", events_given=False)),
    (
        "watch job_batch --mention <!subteam^S0614TZR7|@data-oncall>",
        WatchCommand(target="job_batch", mention="<!subteam^S0614TZR7>", events_given=False),
    ),
    # a display name with spaces and quotes inside the token does not break splitting
    (
        "watch job_batch --mention <@U12|Ann O'Neil>",
        WatchCommand(target="job_batch", mention="<@U12>", events_given=False),
    ),
    ("unwatch job_batch", UnwatchCommand(target="job_batch")),
    ("unwatch 'etl_*'", UnwatchCommand(target="etl_*")),
    ("unwatch job_batch 34765", UnwatchCommand(target="job_batch", instance_id=34765)),
    ("watches", WatchesCommand()),
    ("watches --profile prod", WatchesCommand(profile="prod")),
    # a handle typed as text: looked up in Slack by the caller (the parser does no I/O)
    ("watch job_batch --mention @bob", WatchCommand(target="job_batch", mention="@bob", events_given=False)),
    (
        "watch 'etl_*' --mention @data-oncall",
        WatchCommand(target="etl_*", is_pattern=True, mention="@data-oncall", events_given=False),
    ),
    # `--mention none` removes the mention (a repeat without `--mention` keeps the stored one)
    ("watch job_batch --mention none", WatchCommand(target="job_batch", mention=None, events_given=False)),
    ("watch job_batch --mention=NONE --on failure", WatchCommand(target="job_batch", mention=None)),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[(text or "<empty>")[:60] for text, _ in VALID])
def test_valid_commands_parse(text: str, expected: object) -> None:
    assert parse_command(text) == expected


INVALID = [
    # (text, words the message must contain)
    ("instance", ["needs a job name and an instance id", "/dlf instance job_batch 34765"]),
    ("instance job_batch", ["needs an instance id"]),
    ("instance job_batch abc", ["`abc`", "not a number"]),
    ("instance job_batch -1", ["`-1`", "negative"]),
    ("instance job_batch 0", ["start at 1"]),
    ("instance job_batch 1.5", ["`1.5`", "whole number"]),
    ("instance job_batch 1e5", ["whole number"]),
    ("instance job_batch 99999999999999999999", ["too large", "9223372036854775807"]),
    ("instance job_batch 9223372036854775808", ["too large"]),
    # Beyond Python's int-conversion limit (4,300 digits): bounded before converting, a usage answer, no crash.
    ("instance job_batch " + "9" * 5000, ["too large", "9223372036854775807"]),
    ("instance job_batch " + "0" * 5000 + "1" * 20, ["too large"]),
    ("watch job_batch " + "7" * 4301, ["too large"]),
    ("unwatch job_batch " + "7" * 100_000, ["too large"]),
    ("instance job_batch ３４", ["not a number"]),  # full-width digits are not ASCII digits
    ("instance job_batch 1 2", ["extra", "`2`"]),
    ("instance a/b 1", ["slash"]),
    ("instance `x` 1", ["a backtick"]),  # named, not quoted: a backtick in a code span would open a code block
    ("instance a\\b 1", ["slash"]),
    ("instance .. 1", ["only dots"]),
    ("instance . 1", ["only dots"]),
    ("instance %2F 1", ["`%`", "URL-encoded"]),
    ("instance job%20x 1", ["`%`"]),
    ("instance 'job batch' 1", ["space"]),
    ("instance 'job\u0000x' 1", ["control"]),
    ("instance 'job\u200bx' 1", ["invisible"]),
    ("instance job&amp;x 1", ["`&`"]),  # Slack escapes & as &amp;; the message quotes what the user typed
    ("instance &lt;!channel&gt; 1", ["`<`"]),
    ("instance " + "x" * 129 + " 1", ["129 characters", "128"]),
    ("instance '' 1", ["empty"]),
    ("instance 'etl_*' 1", ["pattern", "one exact job name"]),
    ("instance job_batch 1 --on failure", ["not an option of `instance`", "`--on` belongs to `/dlf watch`."]),
    ("unwatch job_batch --escalate off", ["not an option of `unwatch`", "`--escalate` belongs to `/dlf watch`."]),
    ("watches --since 6h", ["`--since` belongs to `/dlf instances` and `/dlf audit`."]),
    ("instance job_batch 1 --proflie x", ["Did you mean `--profile`"]),
    ("instance job_batch 1 --profile", ["needs a value"]),
    ("instance job_batch 1 --profile 'a b'", ["profile name"]),
    ("instance job_batch 1 --profile a --profile b", ["twice"]),
    ("watch", ["needs a job name or a quoted pattern"]),
    ("watch 'etl_*' 5", ["exact job name"]),
    ("watch 'etl_[a'", ["without its `]`"]),
    ("watch 'etl_]'", ["without its `[`"]),
    ("watch 'etl_[]'", ["empty"]),
    ("watch 'a!b*'", ["`!`"]),
    ("watch 'a/*'", ["slash"]),
    ("watch 'etl_*", ["unclosed quote"]),
    ("watch job_batch --on succes", ["Did you mean `success`"]),
    ("watch job_batch --on success", ["following one instance"]),
    ("watch job_batch --on ,", ["at least one event"]),
    ("watch job_batch --mention @here", ["notify everyone"]),
    ("watch job_batch --mention !channel", ["notify everyone"]),
    ("watch job_batch --mention @", ["not a Slack user or user group"]),
    ("watch job_batch --mention bob", ["not a Slack user or user group"]),
    ("watch job_batch --mention <#C123|general>", ["not a Slack user"]),
    ("watch job_batch --mention <!channel>", ["not a Slack user"]),
    ("watch job_batch --mention <!subteam^X123>", ["not a Slack user"]),
    ("watch job_batch --colour red", ["not an option of `watch`"]),
    ("unwatch", ["needs the job name or pattern"]),
    ("unwatch 'etl_*' 5", ["exact job name"]),
    ("watches now", ["extra"]),
    ("watches --on failure", ["not an option of `watches`", "`watches` takes `--profile`"]),
    ("mute job_batch 1h --profile prod", ["not an option of `mute`", "takes no options"]),
    ("help watch instance", ["at most one"]),
    ("help bogus", ["not a /dlf subcommand"]),
]


@pytest.mark.parametrize(("text", "fragments"), INVALID, ids=[text[:60] for text, _ in INVALID])
def test_invalid_commands_say_what_is_wrong_and_how_to_write_it(text: str, fragments: list[str]) -> None:
    with pytest.raises(CommandError) as caught:
        parse_command(text)
    for fragment in fragments:
        assert fragment in caught.value.message
    # every error carries a usage line to show with it
    assert caught.value.usage and caught.value.usage.startswith("/dlf")


# Every error's example must fit the error: it is a command of the same subcommand that parses, and shows what the
# error is about. (text, the example the message must show)
EXAMPLES_FIT = [
    ("instance", "/dlf instance job_batch 34765"),
    ("instance job_batch", "/dlf instance job_batch 34765"),
    ("instance job_batch 0", "/dlf instance job_batch 34765"),
    ("instance job_batch 1 2", "/dlf instance job_batch 34765"),
    # an instance id error of `watch` / `unwatch` shows that subcommand with an instance id, not a pattern
    ("watch job_batch 0", "/dlf watch job_batch 34765"),
    ("watch job_batch abc", "/dlf watch job_batch 34765"),
    ("watch job_batch -5", "/dlf watch job_batch 34765"),
    ("watch job_batch 1 2", "/dlf watch job_batch 34765"),
    ("watch 'etl_*' 5", "/dlf watch job_batch 34765"),
    ("unwatch job_batch 1.5", "/dlf unwatch job_batch 34765"),
    ("unwatch job_batch 1 2", "/dlf unwatch job_batch 34765"),
    ("unwatch 'etl_*' 5", "/dlf unwatch job_batch 34765"),
    ("watch", "/dlf watch job_batch"),
    ("unwatch", "/dlf unwatch job_batch"),
    ("watch 'etl_[a'", "/dlf watch 'etl_*'"),
    ("unwatch 'etl_]'", "/dlf unwatch 'etl_*'"),
    ("watch 'etl_*", "/dlf watch 'etl_*'"),
    ("watch job_batch --on success", "/dlf watch job_batch 34765 --on success"),
    ("watches now", "/dlf watches"),
    ("help watch instance", "/dlf help watch"),
]


def parse_example(command: str) -> object:
    """An example as the user would send it: `@data-oncall`, picked from Slack's list, arrives as a mention token."""
    return parse_command(command.removeprefix("/dlf ").replace("@data-oncall", "<!subteam^S0ONCALL|@data-oncall>"))


@pytest.mark.parametrize(("text", "example"), EXAMPLES_FIT, ids=[text for text, _ in EXAMPLES_FIT])
def test_each_errors_example_fits_the_error(text: str, example: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_command(text)
    shown = re.findall(r"`(/dlf [^`]*)`", caught.value.message)
    assert example in shown
    subcommand = text.split()[0]
    for command in shown:
        assert command.split()[1] == subcommand, command  # an example of the same subcommand
        parse_example(command)  # that is itself a valid command


@pytest.mark.parametrize(("text", "fragments"), INVALID, ids=[text[:60] for text, _ in INVALID])
def test_every_example_in_an_error_is_a_valid_command(text: str, fragments: list[str]) -> None:
    with pytest.raises(CommandError) as caught:
        parse_command(text)
    for command in re.findall(r"`(/dlf [^`]*)`", caught.value.message):
        if command.removeprefix("/dlf ") in SUBCOMMANDS:
            continue  # a subcommand named (`--on` belongs to `/dlf watch`), not an example to copy
        parsed = parse_example(command)
        assert not isinstance(parsed, HelpCommand) or text.startswith("help"), command
        if caught.value.message.startswith("Instance id"):
            assert getattr(parsed, "instance_id", None) is not None, command  # an id error shows an id


@pytest.mark.parametrize(
    ("word", "suggestion"),
    [("instnace", "instance"), ("wach", "watch"), ("unwach", "unwatch"), ("watchs", "watches"), ("xyzzy", None)],
)
def test_unknown_subcommand_suggests_the_closest(word: str, suggestion: str | None) -> None:
    with pytest.raises(UnknownSubcommand) as caught:
        parse_command(f"{word} job_batch 1")
    assert caught.value.word == word
    assert caught.value.suggestion == suggestion
    if suggestion:
        assert f"Did you mean `{suggestion}`?" in caught.value.message
    else:
        assert "Did you mean" not in caught.value.message


def test_quoted_user_text_in_errors_is_bounded_and_cannot_close_the_code_span() -> None:
    with pytest.raises(CommandError) as caught:
        parse_command("instance job_batch " + "`" * 500)
    assert "``" not in caught.value.message
    assert len(caught.value.message) < 400


def test_every_subcommand_has_usage() -> None:
    for name in SUBCOMMANDS:
        with pytest.raises(CommandError) as caught:
            parse_command(f"{name} a b c d e")
        assert caught.value.usage is not None and name in caught.value.usage


_words = st.sampled_from(
    list(SUBCOMMANDS)
    + [
        "--on",
        "--mention",
        "--profile",
        "--help",
        "'",
        '"',
        "‘",
        "”",
        "<@U1A|x y>",
        "<!subteam^S1A>",
        "34765",
        "-1",
        "job_batch",
        "'etl_*'",
        "[",
        "]",
        "%2F",
        "..",
        "&amp;",
        "&lt;",
        "\\",
        "=",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_any_text_gives_a_command_or_a_command_error(text: str) -> None:
    try:
        result = parse_command(text)
    except CommandError as err:
        assert err.message and err.usage
    else:
        assert isinstance(
            result,
            HelpCommand
            | InstanceCommand
            | InstancesCommand
            | WatchCommand
            | UnwatchCommand
            | WatchesCommand
            | MuteCommand
            | UnmuteCommand
            | AuditCommand,
        )


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_words, st.text(max_size=12)), max_size=8))
def test_command_shaped_text_gives_a_command_or_a_command_error(words: list[str]) -> None:
    try:
        result = parse_command(" ".join(words))
    except CommandError as err:
        assert err.message and err.usage
        return
    # whatever parses is safe to put into a DLF URL path
    job = getattr(result, "job", None) or getattr(result, "target", None)
    if job is not None:
        assert job and len(job) <= 128
        assert not set(job) & set("/\\% \t\n<>&")
        assert set(job) != {"."}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_words, st.text(max_size=20)), max_size=6))
def test_what_the_user_sees_for_any_text_is_a_valid_slack_message(words: list[str]) -> None:
    # errors quote the user's text back: it must never mention, link or break the message
    try:
        result = parse_command(" ".join(words))
    except CommandError as err:
        assert problems(render_command_error(err)) == []
    else:
        if isinstance(result, HelpCommand):
            assert problems(render_help(result.topic)) == []
