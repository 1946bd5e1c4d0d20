"""Slack text -> typed commands, before any I/O.

`parse_command(text)` returns one of the command dataclasses or raises `bot.errors.CommandError` (with the usage
line to show); `command_text_of_mention(text, bot_user_id)` finds the command in a message that mentions the bot
anywhere. Nothing here talks to DLF or Slack. Each command class names its subcommand (`type(cmd).subcommand`).
"""

from bot.commands.model import (
    ESCALATION_OFF,
    EVENTS,
    INSTANCE_STATUS_FILTERS,
    AuditCommand,
    Command,
    Escalation,
    HelpCommand,
    InstanceCommand,
    InstancesCommand,
    MuteCommand,
    UnmuteCommand,
    UnwatchCommand,
    WatchCommand,
    WatchesCommand,
)
from bot.commands.names import parse_instance_id, validate_job_name, validate_pattern
from bot.commands.parse import parse_command
from bot.commands.text import command_text_of_mention
from bot.commands.thread_verbs import ThreadVerb, parse_thread_verb
from bot.commands.values import is_handle, profile_name

__all__ = [
    "ESCALATION_OFF",
    "EVENTS",
    "INSTANCE_STATUS_FILTERS",
    "AuditCommand",
    "Command",
    "Escalation",
    "HelpCommand",
    "InstanceCommand",
    "InstancesCommand",
    "MuteCommand",
    "ThreadVerb",
    "UnmuteCommand",
    "UnwatchCommand",
    "WatchCommand",
    "WatchesCommand",
    "command_text_of_mention",
    "is_handle",
    "parse_command",
    "parse_instance_id",
    "parse_thread_verb",
    "profile_name",
    "validate_job_name",
    "validate_pattern",
]
