"""Slack text -> typed commands, before any I/O.

`parse_command(text)` returns one of the command dataclasses or raises `bot.errors.CommandError` (with the usage
line to show); nothing here talks to DLF or Slack.
"""

from bot.commands.model import (
    EVENTS,
    Command,
    HelpCommand,
    InstanceCommand,
    UnwatchCommand,
    WatchCommand,
    WatchesCommand,
)
from bot.commands.parse import (
    parse_command,
    parse_instance_id,
    validate_job_name,
    validate_pattern,
)

__all__ = [
    "EVENTS",
    "Command",
    "HelpCommand",
    "InstanceCommand",
    "UnwatchCommand",
    "WatchCommand",
    "WatchesCommand",
    "parse_command",
    "parse_instance_id",
    "validate_job_name",
    "validate_pattern",
]
