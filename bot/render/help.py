"""`/dlf help` and `/dlf` alone: every subcommand with its usage and examples, from `bot.commands.usage`."""

from __future__ import annotations

from bot.commands.usage import COMMAND, HELP, SubcommandHelp
from bot.render.blocks import Block, context, header, section
from bot.render.message import Message
from bot.render.mrkdwn import code, escape, one_line

USAGE_IN_TEXT = 400


def _overview(entry: SubcommandHelp) -> str:
    examples = " or ".join(code(example, USAGE_IN_TEXT) for example in entry.examples[:2])
    return f"*{code(entry.usage, USAGE_IN_TEXT)}*\n{escape(entry.summary)}\ne.g. {examples}"


def _detail(entry: SubcommandHelp) -> list[Block]:
    blocks = [
        section(f"*Usage*\n{code(entry.usage, USAGE_IN_TEXT)}\n{escape(entry.details)}"),
    ]
    if entry.options:
        lines = [f"• {code(option, 80)} — {escape(description)}" for option, description in entry.options]
        blocks.append(section("*Options*\n" + "\n".join(lines)))
    blocks.append(section("*Examples*\n" + "\n".join(code(example, USAGE_IN_TEXT) for example in entry.examples)))
    return blocks


def render_help(topic: str | None = None) -> Message:
    """Help for one subcommand (`topic`), or an overview of all of them (also when `topic` is not one)."""
    entry = HELP.get(topic) if topic is not None else None
    if entry is not None:
        blocks = [
            header(f":books: {COMMAND} {entry.name}"),
            section(escape(entry.summary.capitalize())),
            *_detail(entry),
        ]
        blocks.append(context(f"{code(COMMAND + ' help', 20)} lists every subcommand."))
        return Message(text=one_line(f"{entry.usage} — {entry.summary}", 1000), blocks=blocks)
    blocks = [header(f":books: {COMMAND}: DataArts Factory jobs in Slack")]
    if topic is not None:
        blocks.append(section(f"There is no subcommand {code(topic, 80)}; here are the ones there are."))
    blocks.extend(section(_overview(item)) for item in HELP.values())
    blocks.append(
        context(
            f"{code(COMMAND + ' help <subcommand>', 40)} explains one, e.g. {code(COMMAND + ' help watch', 30)}. "
            "Job names are case-sensitive; quote glob patterns."
        )
    )
    names = ", ".join(HELP)
    return Message(text=f"{COMMAND} subcommands: {names}. Try {COMMAND} help watch.", blocks=blocks)


__all__ = ["render_help"]
