"""The subcommands of incident follow-up: instances, mute, unmute, audit, watch --escalate; every bound enforced and
every error saying how to write it right."""

from __future__ import annotations

import pytest

from bot.commands import (
    ESCALATION_OFF,
    AuditCommand,
    Escalation,
    HelpCommand,
    InstancesCommand,
    MuteCommand,
    UnmuteCommand,
    WatchCommand,
    parse_command,
)
from bot.commands.usage import FULL_EXAMPLES, HELP, SUBCOMMANDS
from bot.errors import CommandError
from bot.render.errors import render_command_error
from bot.render.limits import problems

H, D = 3600, 86400

VALID = [
    ("instances job_batch", InstancesCommand(job="job_batch")),
    ("instances job_batch --status fail", InstancesCommand(job="job_batch", status="fail")),
    ("instances job_batch --status FAILED --since 6h", InstancesCommand(job="job_batch", status="fail", since_s=6 * H)),
    ("instances job_batch --since=1h30m", InstancesCommand(job="job_batch", since_s=90 * 60)),
    (
        "instances job_batch --since 7d --status running",
        InstancesCommand(job="job_batch", status="running", since_s=7 * D),
    ),
    ("instances 作业 --profile prod", InstancesCommand(job="作业", profile="prod")),
    ("instances job_batch --status success", InstancesCommand(job="job_batch", status="success")),
    ("mute job_batch 1h", MuteCommand(target="job_batch", duration_s=H)),
    ("mute job_batch 30m", MuteCommand(target="job_batch", duration_s=30 * 60)),
    ("mute job_batch 24H", MuteCommand(target="job_batch", duration_s=24 * H)),
    ("mute job_batch forever", MuteCommand(target="job_batch", duration_s=None)),
    ("mute job_batch 30d", MuteCommand(target="job_batch", duration_s=30 * D)),
    ("unmute job_batch", UnmuteCommand(target="job_batch")),
    ("audit", AuditCommand()),
    ("audit job_batch", AuditCommand(job="job_batch")),
    ("audit --since 24h", AuditCommand(since_s=24 * H)),
    ("audit job_batch --since 90d", AuditCommand(job="job_batch", since_s=90 * D)),
    (
        "watch job_batch --escalate 30m",
        WatchCommand(target="job_batch", events_given=False, mention_given=False, escalate=Escalation(after_s=1800)),
    ),
    (
        "watch job_batch --escalate 7d",
        WatchCommand(target="job_batch", events_given=False, mention_given=False, escalate=Escalation(after_s=7 * D)),
    ),
    (
        "watch 'etl_*' --escalate off",
        WatchCommand(target="etl_*", is_pattern=True, events_given=False, mention_given=False, escalate=ESCALATION_OFF),
    ),
    ("mute --help", HelpCommand(topic="mute")),
    ("help audit", HelpCommand(topic="audit")),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[text for text, _ in VALID])
def test_valid_commands_parse(text: str, expected: object) -> None:
    assert parse_command(text) == expected


def test_a_watch_without_escalate_leaves_it_to_the_default():
    assert parse_command("watch job_batch").escalate is None  # type: ignore[union-attr]


INVALID = [
    # (text, fragments the message must contain: what is wrong, and how to write it right)
    ("instances", ["needs a job name", "/dlf instances job_batch"]),
    ("instances job_batch 34765", ["extra", "/dlf instances job_batch --since 6h"]),
    ("instances job_batch --status broken", ["not a status", "`fail`, `success`, `running`", "--status fail"]),
    ("instances job_batch --since 8d", ["out of range", "from 1m to 7d", "--since 6h"]),
    ("instances job_batch --since 0m", ["out of range", "from 1m to 7d"]),
    ("instances job_batch --since 6", ["not a duration", "`m` (minutes)", "--since 6h"]),
    ("instances job_batch --since 99999999h", ["not a duration"]),
    ("instances job_batch --since -1h", ["not a duration"]),
    ("instances 'etl_*'", ["is a pattern"]),
    ("instances ../../jobs", ["slash"]),
    ("mute", ["needs a job name and how long", "/dlf mute job_batch 4h"]),
    ("mute 'etl_*' 4h", ["`etl_*` is a pattern", "one exact job name", "/dlf mute job_batch 4h"]),
    ("mute etl_* forever", ["`etl_*` is a pattern", "one exact job name"]),
    ("unmute 'etl_*'", ["`etl_*` is a pattern", "one exact job name", "/dlf unmute job_batch"]),
    ("mute job_batch", ["needs how long", "/dlf mute job_batch forever"]),
    ("mute job_batch 45d", ["out of range", "from 1m to 30d", "/dlf mute job_batch 4h"]),
    ("mute job_batch soon", ["not a duration", "/dlf mute job_batch 4h"]),
    ("mute job_batch off", ["would not mute", "/dlf unmute job_batch"]),
    ("mute job_batch 1h 2h", ["extra"]),
    ("unmute", ["needs the job name you muted", "/dlf unmute job_batch"]),
    ("unmute job_batch 1h", ["extra"]),
    ("audit a b", ["extra", "/dlf audit job_batch --since 7d"]),
    ("audit --since 91d", ["out of range", "from 1m to 90d"]),
    ("audit --status fail", ["not an option of `audit`", "`audit` takes `--since`"]),
    ("watch job_batch --escalate 8d", ["out of range", "from 1m to 7d", "--escalate 30m"]),
    ("watch job_batch --escalate 30s", ["not a duration", "--escalate 30m"]),
    ("watch job_batch --escalate 900", ["`--escalate 900` needs a unit", "from 1m to 7d", "--escalate 30m"]),
    ("watch job_batch --escalate later", ["not a duration", "--escalate 30m"]),
    ("watch job_batch 34765 --escalate 30m", ["for a job subscription", "/dlf watch job_batch --escalate 30m"]),
    ("watch job_batch --escalate", ["needs a value", "--escalate 30m"]),
]


@pytest.mark.parametrize(("text", "fragments"), INVALID, ids=[text for text, _ in INVALID])
def test_invalid_commands_say_what_is_wrong_and_how_to_write_it(text: str, fragments: list[str]) -> None:
    with pytest.raises(CommandError) as caught:
        parse_command(text)
    for fragment in fragments:
        assert fragment in caught.value.message, caught.value.message
    assert caught.value.usage
    assert problems(render_command_error(caught.value)) == []


def test_an_invisible_subcommand_is_named_not_shown_as_an_empty_code_span():
    with pytest.raises(CommandError) as caught:
        parse_command("\u200b\u200b instance job_batch 1")
    assert "only invisible characters" in caught.value.message and "``" not in caught.value.message


def test_every_subcommand_has_help_a_full_example_and_parses_its_examples():
    assert set(SUBCOMMANDS) == set(FULL_EXAMPLES)
    for name, entry in HELP.items():
        for example in (*entry.examples, FULL_EXAMPLES[name]):
            parse_command(example.replace("@data-oncall", "<!subteam^S0DATAONC>").removeprefix("/dlf").strip())


def test_every_command_names_its_subcommand():
    for text, expected in VALID:
        assert type(expected).subcommand in SUBCOMMANDS, text
