"""The command in an app_mention's text, wherever the bot's name stands."""

from __future__ import annotations

import pytest

from bot.commands import InstanceCommand, WatchCommand, command_text_of_mention, parse_command

BOT = "UBOT123"

CASES = [
    # (text as Slack sends it, the command text) — each row says why
    ("<@UBOT123> instance job_batch 34765", "instance job_batch 34765"),  # the usual: the bot first
    ("hey <@UBOT123> instance job_batch 34765", "instance job_batch 34765"),  # a greeting before the name
    ("hey <@UBOT123|dlf> instance job_batch 34765", "instance job_batch 34765"),  # an escaped label
    ("instance job_batch 34765 <@UBOT123>", "instance job_batch 34765"),  # the name last: the words before it
    ("<@UBOT123> <@UBOT123> ack", "ack"),  # a doubled mention is dropped
    ("<@UBOT123> watch job_batch --mention <@U999>", "watch job_batch --mention <@U999>"),  # other mentions stay
    ("<@U999> look, <@UBOT123> instance a 1", "instance a 1"),  # someone else mentioned first
    ("<@UBOT123>", ""),  # nothing but the name: help
    ("  <@UBOT123>   ", ""),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[text for text, _ in CASES])
def test_command_text_of_mention(text: str, expected: str) -> None:
    assert command_text_of_mention(text, BOT) == expected


def test_the_issue_example_parses():
    text = command_text_of_mention("hey <@UBOT123> instance job_batch 34765", BOT)
    assert parse_command(text) == InstanceCommand(job="job_batch", instance_id=34765)


def test_without_a_known_bot_id_a_leading_mention_is_taken_for_the_bot():
    assert command_text_of_mention("<@UOTHER> instance a 1", None) == "instance a 1"
    assert command_text_of_mention("hey there", None) == "hey there"


def test_a_mention_argument_survives_and_still_parses():
    text = command_text_of_mention("<@UBOT123> watch job_batch --mention <@U999|bob>", BOT)
    assert parse_command(text) == WatchCommand(target="job_batch", mention="<@U999>", events_given=False)
