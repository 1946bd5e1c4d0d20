"""The words said to the bot in an alert's thread, parsed before any I/O."""

from __future__ import annotations

import pytest

from bot.commands import ThreadVerb, parse_thread_verb
from bot.errors import CommandError


@pytest.mark.parametrize(
    ("text", "verb"),
    [
        ("ack", ThreadVerb("ack")),
        ("ACK", ThreadVerb("ack")),
        ("acknowledge", ThreadVerb("ack")),
        ("rerun", ThreadVerb("rerun", retry_location="error_node")),
        ("rerun from failed", ThreadVerb("rerun", retry_location="error_node")),
        ("rerun from first", ThreadVerb("rerun", retry_location="first_node")),
        ("rerun from the first node", ThreadVerb("rerun", retry_location="first_node")),
        ("stop", ThreadVerb("stop")),
        ("resolve", ThreadVerb("resolve")),
        ("refresh", ThreadVerb("refresh")),
        ("nodes", ThreadVerb("nodes", page=1)),
        ("nodes 3", ThreadVerb("nodes", page=3)),
        ("nodes page 2", ThreadVerb("nodes", page=2)),
        ("logs", ThreadVerb("logs")),
        ("help", ThreadVerb("help")),
    ],
)
def test_each_verb_is_read(text: str, verb: ThreadVerb) -> None:
    assert parse_thread_verb(text) == verb


@pytest.mark.parametrize("text", ["", "instance job_batch 34765", "watch job_batch", "help watch", "mute job 4h"])
def test_what_is_not_a_verb_is_left_to_the_command_parser(text: str) -> None:
    assert parse_thread_verb(text) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("stop now", "`stop` takes no more words"),
        ("rerun from middle", "from the failed node (`rerun`) or from the first node"),
        ("nodes zero", "a page number"),
        ("nodes 0", "a page number"),
        ("ack everything", "`ack` takes no more words"),
    ],
)
def test_a_verb_written_wrong_says_how_to_write_it(text: str, says: str) -> None:
    with pytest.raises(CommandError) as raised:
        parse_thread_verb(text)
    assert says in raised.value.message
    assert raised.value.usage is not None and "rerun from first" in raised.value.usage
