"""`/dlf help` and `/dlf` alone: every subcommand with its usage and examples, then what is said in an alert's thread,
the card's buttons and the App Home, from `bot.commands.usage`. `/dlf help ack` says where a thread verb is said."""

from __future__ import annotations

from bot.commands.thread_verbs import thread_verb_named
from bot.commands.usage import APP_HOME, CARD_BUTTONS, COMMAND, HELP, MENTION, THREAD_VERBS, SubcommandHelp
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


def thread_blocks() -> list[Block]:
    """The "In an alert's thread" section: the words said to the bot there, the card's buttons, the App Home."""
    verbs = [f"• {code(said, 40)} — {escape(does)}" for said, does in THREAD_VERBS]
    # One block: the App Home shows this help under its own lists, within a view's block budget.
    return [
        section(
            "*In an alert's thread*\nMention the bot in the thread of an alert card; it acts on that thread's "
            "incident:\n" + "\n".join(verbs) + f"\n\n*The alert card's buttons*\n{escape(CARD_BUTTONS)}"
            f"\n\n*App Home*\n{escape(APP_HOME)}"
        )
    ]


def _verb_help(verb: str) -> Message:
    said = f"{MENTION} {verb}"
    blocks = [
        header(f":books: {said}"),
        section(
            f"{code(verb, 40)} is said to the bot in an alert's thread ({code(said, 40)}), not typed after "
            f"{code(COMMAND, 10)}: it acts on that thread's incident."
        ),
        *thread_blocks(),
        context(f"{code(COMMAND + ' help', 20)} lists every subcommand."),
    ]
    return Message(text=f"{said}: said in an alert's thread, it acts on that thread's incident.", blocks=blocks)


def render_help(topic: str | None = None) -> Message:
    """Help for one subcommand (`topic`), for a thread verb (`ack`, `rerun`, …: where it is said), or an overview of
    all of them and of the thread's words (also when `topic` is neither)."""
    verb = thread_verb_named(topic) if topic is not None else None
    if verb is not None:
        return _verb_help(verb)
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
    blocks.extend(thread_blocks())
    blocks.append(
        context(
            f"{code(COMMAND + ' help <subcommand>', 40)} explains one, e.g. {code(COMMAND + ' help watch', 30)}. "
            "Job names are case-sensitive; quote glob patterns."
        )
    )
    names = ", ".join(HELP)
    verbs = ", ".join(said.removeprefix(MENTION + " ") for said, _ in THREAD_VERBS)
    return Message(
        text=f"{COMMAND} subcommands: {names}. Try {COMMAND} help watch. In an alert's thread, {MENTION}: {verbs}.",
        blocks=blocks,
    )


__all__ = ["render_help", "thread_blocks"]
